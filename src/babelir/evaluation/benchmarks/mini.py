"""Seeded subsamples of built-in benchmarks ("-mini"), for demos, CI regressions and quick experiments.

The subsample keeps the same query and document ids whatever the language, so a ``-mini`` benchmark stays
comparable across languages just as its full-size parent is. At the dev split's sizes (100 queries, 600
documents, seed 0) a subsample of a benchmark with splits *is* its ``-dev`` split
(:mod:`~babelir.evaluation.benchmarks.splits`) and has that one name: :func:`mini_benchmark` returns the
dev split and :func:`mini_name` names it ``-dev`` (results saved before were keyed ``-mini``; they were
renamed, the queries being the same). Configurations are chosen on dev, claims reported on ``-test``.
"""

from __future__ import annotations

import dataclasses
import random

from babelir.evaluation.benchmarks.base import Benchmark
from babelir.evaluation.benchmarks.registry import load_benchmark


def is_dev_sized(name: str, queries: int | None, documents: int | None, seed: int = 0) -> bool:
    """Whether this subsample of ``name`` is its dev split (``name`` has splits, the sizes are dev's)."""
    from babelir.evaluation.benchmarks.splits import DEV_DOCUMENTS, DEV_QUERIES, DEV_SEED, parents

    return (queries, documents, seed) == (DEV_QUERIES, DEV_DOCUMENTS, DEV_SEED) and name in parents()


def mini_name(name: str, queries: int | None = None, documents: int | None = None, seed: int = 0) -> str:
    """The name a subsample of ``name`` is scored under (what experiment results are keyed by): the dev
    split's at the dev sizes, else ``<name>-mini``."""
    if is_dev_sized(name, queries, documents, seed):
        from babelir.evaluation.benchmarks.splits import split_name

        return split_name(name, "dev")
    return f"{name}-mini"


def mini_benchmark(name: str, queries: int, documents: int, seed: int = 0) -> Benchmark:
    """A seeded subsample of a built-in benchmark (:func:`subsample`); at the dev sizes, its dev split."""
    if is_dev_sized(name, queries, documents, seed):
        return load_benchmark(mini_name(name, queries, documents, seed))
    return subsample(name, queries, documents, seed)


def subsample(name: str, queries: int, documents: int, seed: int = 0) -> Benchmark:
    """``queries`` queries of ``name``, their relevant documents, and distractors up to ``documents``
    (identical ids in every language, so languages stay comparable), named ``<name>-mini``."""
    bench = load_benchmark(name)
    rng = random.Random(seed)
    qids = sorted(rng.sample(sorted(bench.queries), min(queries, len(bench.queries))))
    relevant = {d for q in qids for d, g in bench.qrels.get(q, {}).items() if g > 0 and d in bench.corpus}
    others = sorted(set(bench.corpus) - relevant)
    rng.shuffle(others)
    keep = relevant | set(others[: max(0, documents - len(relevant))])
    meta = dataclasses.replace(bench.meta, name=f"{name}-mini", params={**bench.meta.params, "mini": [queries, documents]})
    mini = dataclasses.replace(
        bench,
        meta=meta,
        queries={q: bench.queries[q] for q in qids},
        corpus={d: t for d, t in bench.corpus.items() if d in keep},
        qrels={q: dict(bench.qrels[q]) for q in qids if q in bench.qrels},
    )
    mini.meta.sizes = mini.compute_sizes()
    return mini
