"""--scoring hybrid:... in evaluate (babelir.evaluation.retrieval.hybrid): parsing, refusals, and the fused
run between its two parts (the same ranking as babelir search: tests/index/test_hybrid.py)."""

from __future__ import annotations

import pytest

from babelir.data.errors import DataError
from babelir.evaluation.retrieval.hybrid import HybridRetriever, is_hybrid_scoring, split_hybrid_scoring
from babelir.evaluation.retrieval.loading import load_retriever


def test_scoring_names() -> None:
    assert is_hybrid_scoring("hybrid:convex@0.3") and is_hybrid_scoring("neutral+hybrid:rrf")
    assert not is_hybrid_scoring("neutral:centered")
    assert split_hybrid_scoring("hybrid:rrf@30:slots")[0] == "dense"
    dense, fusion = split_hybrid_scoring("neutral:centered@queries+hybrid:convex@0.2")
    assert dense == "neutral:centered@queries" and fusion.weight == 0.2
    with pytest.raises(DataError, match="fusion"):
        split_hybrid_scoring("hybrid:convex@2")


def test_refusals_name_the_fix() -> None:
    with pytest.raises(DataError, match="name the model"):
        load_retriever("bm25", scoring="hybrid:convex@0.3")
    with pytest.raises(DataError, match="dense scoring"):
        load_retriever("tiny", scoring="maxsim+hybrid:rrf")


def test_the_two_ends_are_dense_and_bm25(beir_folder, tmp_path) -> None:
    from babelir.evaluation.benchmarks import load_benchmark

    bench = load_benchmark(str(beir_folder))
    runs = {}
    for scoring in ("dense", "hybrid:convex@0", "hybrid:convex@1"):
        retriever = load_retriever("tiny", cache_root=tmp_path / "cache", scoring=scoring)
        runs[scoring], timings = retriever.search(bench, k=3, batch_size=8, show_progress=False)
    bm25, _ = load_retriever("bm25").search(bench, k=3, batch_size=8, show_progress=False)
    assert isinstance(retriever, HybridRetriever) and "lexical_search_s" in timings
    for qid in bench.queries:
        assert list(runs["hybrid:convex@0"][qid]) == list(runs["dense"][qid])
        assert list(runs["hybrid:convex@1"][qid])[: len(bm25[qid])] == list(bm25[qid])
