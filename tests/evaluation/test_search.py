"""Exact search: brute-force agreement, exclusion and deterministic ties."""

from __future__ import annotations

import numpy as np

from babelir.evaluation.retrieval.search import exact_search


def test_matches_brute_force_and_excludes() -> None:
    rng = np.random.default_rng(0)
    docs = rng.normal(size=(50, 8)).astype(np.float32)
    queries = rng.normal(size=(7, 8)).astype(np.float32)
    dids = [f"d{i}" for i in range(50)]
    qids = [f"q{i}" for i in range(7)]
    run = exact_search(queries, docs, qids, dids, k=5, exclude={"q0": {"d3", "d4"}}, chunk=3)
    scores = queries @ docs.T
    for i, q in enumerate(qids):
        order = [dids[j] for j in np.argsort(-scores[i], kind="stable")]
        if q == "q0":
            order = [d for d in order if d not in {"d3", "d4"}]
        assert list(run[q]) == order[:5]
        assert all(abs(run[q][d] - scores[i, dids.index(d)]) < 1e-5 for d in run[q])


def test_ties_broken_by_corpus_position() -> None:
    docs = np.ones((4, 2), dtype=np.float32)
    run = exact_search(np.ones((1, 2), dtype=np.float32), docs, ["q"], ["c", "a", "d", "b"], k=2)
    assert list(run["q"]) == ["c", "a"]
