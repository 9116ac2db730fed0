"""Markdown tables of evaluation results: per language (one model, or several side by side) and per benchmark.

Every table reads saved results (:meth:`babelir.evaluation.scoring.runner.Results.to_dict`, or a results JSON), so
a table printed after a run and one rebuilt later from its file are the same, and this module needs
nothing from the runner.

Which column a benchmark fills comes from its family's declarations (:class:`BenchmarkFamily`: label,
pooled, extra metrics), never from its name, so a new benchmark family needs no change here.
"""

from __future__ import annotations

import math
from typing import Any

from babelir.evaluation.benchmarks import family_info
from babelir.evaluation.benchmarks.base import LANGUAGE_SHARES
from babelir.evaluation.scoring.metrics import display


def _has_language_shares(family: str) -> bool:
    return LANGUAGE_SHARES in family_info(family).extra_metrics


def _label(family_label: str, meta: dict[str, Any]) -> str:
    """The family's column label, with the split of a dev/test benchmark (``xref test``), so a table holding
    both splits of one benchmark keeps them in two columns instead of one overwriting the other."""
    if meta.get("params", {}).get("split_of"):
        return f"{family_label} {meta.get('split')}"
    return family_label


def _fmt(value: float | None, supported: bool = True, scale: float = 100.0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = f"{value * scale:.1f}"
    return text if supported else f"{text}†"


def language_table(data: dict[str, Any]) -> str:
    """Rows = languages, columns = benchmark families (main metrics x 100) of one model's saved results:
    reads as a language profile. The columns are :func:`_language_cells`'s, as in the comparison tables."""
    cells = _language_cells(data)
    if not cells:
        return ""
    headers = list(cells)
    langs = sorted({lang for column in cells.values() for lang in column}, key=_language_order)
    lines = ["| language | " + " | ".join(headers) + " |", "|---|" + "---:|" * len(headers)]
    any_unsupported = False
    for lang in langs:
        row = []
        for header in headers:
            value, ok = cells[header].get(lang, (float("nan"), True))
            any_unsupported |= not ok and not math.isnan(value)
            row.append(_fmt(value, ok))
        lines.append(f"| {lang} | " + " | ".join(row) + " |")
    means = []
    for header in headers:
        values = [v for v, _ in cells[header].values() if not math.isnan(v)]
        means.append(f"{100 * sum(values) / len(values):.1f}" if values else "")
    lines.append("| **mean** | " + " | ".join(means) + " |")
    if any_unsupported:
        lines += ["", "† a language the model was not trained on."]
    return "\n".join(lines)


def _language_order(lang: str) -> tuple[int, str]:
    from babelir.data.sources.bible import LANGUAGES

    return (LANGUAGES.index(lang), lang) if lang in LANGUAGES else (len(LANGUAGES), lang)


def benchmark_table(data: dict[str, Any]) -> str:
    """Rows = benchmarks of one model's saved results, columns = every measure (x 100), plus the pooled
    shares where they exist."""
    benchmarks = list(data.get("benchmarks", {}).values())
    measures: list[str] = []
    for res in benchmarks:
        measures.extend(m for m in res["metrics"] if m not in measures)
    has_pool = any(_has_language_shares(res["family"]) for res in benchmarks)
    extra_cols = ["own-lang@10", "own-lang@20", "relevance share", "other-lang R@100", "mAP@20 ceiling"] if has_pool else []
    headers = ["benchmark", "main"] + [display(m) for m in measures] + extra_cols + ["s"]
    lines = ["| " + " | ".join(headers) + " |", "|---|---|" + "---:|" * (len(headers) - 2)]
    for res in benchmarks:
        row = [res["name"] + ("" if res["supported"] else " †"), display(res["main_metric"])]
        row += [_fmt(res["metrics"].get(m)) for m in measures]
        if has_pool:
            ex = res.get("extra", {})
            row += [
                _fmt(ex.get("own_language_share@10")),
                _fmt(ex.get("own_language_share@20")),
                _fmt(ex.get("relevance_share")),
                _fmt(ex.get("other_language_recall@100")),
                _fmt(ex.get("ceiling", {}).get("AP@20")),
            ]
        row.append(f"{res.get('timings', {}).get('total_s', 0):.0f}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


ALL_METRICS_HEADING = "All metrics per benchmark"  # every results table has it: how evaluate knows its own files


def results_markdown(data: dict[str, Any]) -> str:
    """One model's saved results (:meth:`Results.to_dict`, or a results JSON) as Markdown."""
    name = data.get("model", {}).get("name", "model")
    parts = [f"### {name}", ""]
    lang = language_table(data)
    if lang:
        parts += ["Main metric per language (x100):", "", lang, ""]
    parts += [f"{ALL_METRICS_HEADING} (x100; s = seconds):", "", benchmark_table(data)]
    return "\n".join(parts) + "\n"


# ------------------------------------------------------------------------------------ several models


def _language_cells(data: dict[str, Any]) -> dict[str, dict[str, tuple[float, bool]]]:
    """``column -> language -> (score, supported)`` from one saved results JSON."""
    cols: dict[str, dict[str, tuple[float, bool]]] = {}
    langs = data.get("model", {}).get("languages")
    for res in data.get("benchmarks", {}).values():
        family, main = family_info(res["family"]), res["main_metric"]
        if family.label is None:
            continue
        scored = family.scored_language(res["languages"])
        label = _label(family.label, res.get("meta", {}))
        if scored is not None:
            cols.setdefault(f"{label} {display(main)}", {})[scored] = (res["main_score"], res["supported"])
        elif family.pooled:
            tag = label if res.get("meta", {}).get("variant") != "full" else f"{label}-full"
            for lang, row in res.get("extra", {}).get("by_query_language", {}).items():
                ok = langs is None or lang in langs
                cols.setdefault(f"{tag} {display(main)}", {})[lang] = (row.get(main, float("nan")), ok)
                cols.setdefault(f"{tag} own-language share of top 20", {})[lang] = (
                    row.get("own_language_share@20", float("nan")),
                    ok,
                )
    return cols


def comparison_markdown(saved: list[dict[str, Any]], labels: list[str] | None = None) -> str:
    """One table per benchmark family: rows = languages, columns = models (main metric x 100).

    ``saved`` are results as written by :meth:`Results.save`; this is how ``reports/baselines.md`` is
    made (``babelir evaluate --compare a.json b.json ...``).
    """
    labels = labels or [d.get("model", {}).get("name", f"model {i}") for i, d in enumerate(saved)]
    per_model = [_language_cells(d) for d in saved]
    columns: list[str] = []
    for cells in per_model:
        columns.extend(c for c in cells if c not in columns)
    parts: list[str] = []
    any_unsupported = False
    for column in columns:
        langs = sorted({lang for cells in per_model for lang in cells.get(column, {})}, key=_language_order)
        lines = [f"#### {column} (x100)", "", "| language | " + " | ".join(labels) + " |"]
        lines.append("|---|" + "---:|" * len(labels))
        sums: list[list[float]] = [[] for _ in labels]
        for lang in langs:
            row = []
            for i, cells in enumerate(per_model):
                value, ok = cells.get(column, {}).get(lang, (float("nan"), True))
                any_unsupported |= not ok and not math.isnan(value)
                row.append(_fmt(value, ok))
                if not math.isnan(value):
                    sums[i].append(value)
            lines.append(f"| {lang} | " + " | ".join(row) + " |")
        if len(langs) > 1:
            means = [f"{100 * sum(s) / len(s):.1f}" if s else "" for s in sums]
            lines.append("| **mean** | " + " | ".join(means) + " |")
        parts.append("\n".join(lines))
    pool_rows, pool_families = [], []
    for label, data in zip(labels, saved, strict=True):
        for res in data.get("benchmarks", {}).values():
            if _has_language_shares(res["family"]):
                pool_families += [res["family"]] if res["family"] not in pool_families else []
                ex, m = res.get("extra", {}), res["metrics"]
                pool_rows.append(
                    f"| {label} | {_fmt(m.get('nAP@20'))} | {_fmt(m.get('AP@20'))} | "
                    f"{_fmt(ex.get('ceiling', {}).get('AP@20'))} | {_fmt(m.get('nDCG@10'))} | "
                    f"{_fmt(ex.get('own_language_share@20'))} | {_fmt(ex.get('relevance_share'))} | "
                    f"{_fmt(ex.get('other_language_recall@100'))} |"
                )
    if pool_rows:
        parts.append(
            "\n".join(
                [
                    f"#### {' / '.join(pool_families)} overall (x100)",
                    "",
                    "| model | mAP@20 ÷min(R,20) | mAP@20 (trec_eval) | its ceiling | nDCG@10 | "
                    "own-language share of top 20 | share from relevance alone | other-language recall@100 |",
                    "|---|---:|---:|---:|---:|---:|---:|---:|",
                    *pool_rows,
                ]
            )
        )
    if any_unsupported:
        parts.append("† a language the model was not trained on.")
    return "\n\n".join(parts) + "\n"
