"""Seeded subsamples of built-in benchmarks ("-mini"), for demos, CI regressions and quick experiments.

The subsample keeps the same query and document ids whatever the language, so a ``-mini`` benchmark stays
comparable across languages just as its full-size parent is. At the sizes experiment files use (100
queries, 600 documents, seed 0) a Bible subsample is the ``-dev`` split
(:mod:`~babelir.evaluation.benchmarks.splits`): configurations are chosen on it, claims are reported on ``-test``.
"""

from __future__ import annotations

import dataclasses
import random

from babelir.evaluation.benchmarks.base import Benchmark
from babelir.evaluation.benchmarks.registry import load_benchmark


def mini_name(name: str) -> str:
    """The name a subsample of ``name`` is scored under (what experiment results are keyed by)."""
    return f"{name}-mini"


def mini_benchmark(name: str, queries: int, documents: int, seed: int = 0) -> Benchmark:
    """A seeded subsample of a built-in benchmark: ``queries`` queries, their relevant documents, and
    distractors up to ``documents`` (identical ids in every language, so languages stay comparable)."""
    bench = load_benchmark(name)
    rng = random.Random(seed)
    qids = sorted(rng.sample(sorted(bench.queries), min(queries, len(bench.queries))))
    relevant = {d for q in qids for d, g in bench.qrels.get(q, {}).items() if g > 0 and d in bench.corpus}
    others = sorted(set(bench.corpus) - relevant)
    rng.shuffle(others)
    keep = relevant | set(others[: max(0, documents - len(relevant))])
    meta = dataclasses.replace(bench.meta, name=mini_name(name), params={**bench.meta.params, "mini": [queries, documents]})
    mini = dataclasses.replace(
        bench,
        meta=meta,
        queries={q: bench.queries[q] for q in qids},
        corpus={d: t for d, t in bench.corpus.items() if d in keep},
        qrels={q: dict(bench.qrels[q]) for q in qids if q in bench.qrels},
    )
    mini.meta.sizes = mini.compute_sizes()
    return mini
