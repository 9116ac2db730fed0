"""Markdown tables of evaluation results: per language (one model, or several side by side) and per benchmark.

Which column a benchmark fills comes from its family's declarations (:class:`BenchmarkFamily`: label,
pooled, extra metrics), never from its name, so a new benchmark family needs no change here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from babelir.evaluation.benchmarks import family_info
from babelir.evaluation.benchmarks.base import LANGUAGE_SHARES
from babelir.evaluation.metrics import display

if TYPE_CHECKING:
    from babelir.evaluation.runner import Results


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


def language_table(results: Results) -> str:
    """Rows = languages, columns = benchmark families (main metrics x 100): reads as a language profile."""
    columns: list[tuple[str, str]] = []  # (header, key)
    cells: dict[str, dict[str, str]] = {}
    any_unsupported = False
    model_langs = results.model.get("languages")

    def put(lang: str, header: str, text: str) -> None:
        if header not in [h for h, _ in columns]:
            columns.append((header, header))
        cells.setdefault(lang, {})[header] = text

    for res in results.benchmarks.values():
        any_unsupported |= not res.supported
        family = family_info(res.family)
        if family.label is None:
            continue
        scored = family.scored_language(res.languages)
        label = _label(family.label, res.meta)
        if scored is not None:
            put(scored, f"{label} {display(res.main_metric)}", _fmt(res.main_score, res.supported))
        elif family.pooled:
            tag = label if res.meta.get("variant") != "full" else f"{label}-full"
            for lang, row in res.extra.get("by_query_language", {}).items():
                ok = model_langs is None or lang in model_langs
                put(lang, f"{tag} {display(res.main_metric)}", _fmt(row.get(res.main_metric), ok))
                put(lang, f"{tag} own-lang@20", _fmt(row.get("own_language_share@20"), ok))
    if not cells:
        return ""
    headers = [h for h, _ in columns]
    lines = ["| language | " + " | ".join(headers) + " |", "|---|" + "---:|" * len(headers)]
    for lang in sorted(cells, key=_language_order):
        lines.append(f"| {lang} | " + " | ".join(cells[lang].get(h, "") for h in headers) + " |")
    means = []
    for h in headers:
        vals = [float(cells[lang][h].rstrip("†")) for lang in cells if cells[lang].get(h)]
        means.append(f"{sum(vals) / len(vals):.1f}" if vals else "")
    lines.append("| **mean** | " + " | ".join(means) + " |")
    if any_unsupported:
        lines.append("")
        lines.append("† a language the model was not trained on.")
    return "\n".join(lines)


def _language_order(lang: str) -> tuple[int, str]:
    from babelir.data.sources.bible import LANGUAGES

    return (LANGUAGES.index(lang), lang) if lang in LANGUAGES else (len(LANGUAGES), lang)


def benchmark_table(results: Results) -> str:
    """Rows = benchmarks, columns = every measure (x 100), plus the pooled shares where they exist."""
    measures: list[str] = []
    for res in results.benchmarks.values():
        measures.extend(m for m in res.metrics if m not in measures)
    has_pool = any(_has_language_shares(res.family) for res in results.benchmarks.values())
    extra_cols = ["own-lang@10", "own-lang@20", "relevance share", "other-lang R@100", "mAP@20 ceiling"] if has_pool else []
    headers = ["benchmark", "main"] + [display(m) for m in measures] + extra_cols + ["s"]
    lines = ["| " + " | ".join(headers) + " |", "|---|---|" + "---:|" * (len(headers) - 2)]
    for res in results.benchmarks.values():
        row = [res.name + ("" if res.supported else " †"), display(res.main_metric)]
        row += [_fmt(res.metrics.get(m)) for m in measures]
        if has_pool:
            ex = res.extra
            row += [
                _fmt(ex.get("own_language_share@10")),
                _fmt(ex.get("own_language_share@20")),
                _fmt(ex.get("relevance_share")),
                _fmt(ex.get("other_language_recall@100")),
                _fmt(ex.get("ceiling", {}).get("AP@20")),
            ]
        row.append(f"{res.timings.get('total_s', 0):.0f}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


ALL_METRICS_HEADING = "All metrics per benchmark"  # every results table has it: how evaluate knows its own files


def results_markdown(results: Results) -> str:
    name = results.model.get("name", "model")
    parts = [f"### {name}", ""]
    lang = language_table(results)
    if lang:
        parts += ["Main metric per language (x100):", "", lang, ""]
    parts += [f"{ALL_METRICS_HEADING} (x100; s = seconds):", "", benchmark_table(results)]
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
            for lang, row in res.get("extra", {}).get("by_query_language", {}).items():
                ok = langs is None or lang in langs
                cols.setdefault(f"{label} {display(main)}", {})[lang] = (row.get(main, float("nan")), ok)
                cols.setdefault(f"{label} own-language share of top 20", {})[lang] = (
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
