"""Training-free language removal: the two corrections on hand examples, and the retriever end to end."""

from __future__ import annotations

import numpy as np
import pytest

from babelir.data.errors import DataError
from babelir.evaluation.retrieval.embeddings import CacheStats
from babelir.evaluation.retrieval.neutral import is_neutral_scoring, reference_texts, remove_language


def test_scoring_names() -> None:
    assert is_neutral_scoring("centered") and is_neutral_scoring("lir:1") and is_neutral_scoring("lir:12")
    assert not any(map(is_neutral_scoring, ["dense", "lir", "lir:0", "lir:x", "centred"]))


def test_centering_subtracts_the_language_mean_and_renormalises() -> None:
    reference = np.array([[1.0, 1.0], [1.0, -1.0]])  # mean (1, 0)
    out = remove_language(np.array([[3.0, 4.0]]), reference, "centered")
    assert np.allclose(out, [[2.0 / 20**0.5, 4.0 / 20**0.5]])


def test_lir_projects_out_the_top_singular_direction() -> None:
    reference = np.array([[5.0, 0.0, 0.1], [4.0, 0.1, 0.0], [6.0, -0.1, 0.0]])  # the language sits along x
    out = remove_language(np.array([[10.0, 3.0, 4.0]]), reference, "lir:1")
    assert abs(out[0, 0]) < 0.05 and np.isclose(np.linalg.norm(out), 1.0)


def test_a_shared_language_offset_no_longer_decides_the_neighbour() -> None:
    """Two languages, each vector = meaning + a large language offset: raw cosine pairs a sentence with
    another of its own language; after centering it pairs it with its translation."""
    rng = np.random.default_rng(0)
    meanings = rng.normal(size=(50, 16))
    offset_a, offset_b = 4 * rng.normal(size=16), 4 * rng.normal(size=16)
    lang_a, lang_b = meanings + offset_a, meanings + offset_b
    ref_a = rng.normal(size=(200, 16)) + offset_a
    ref_b = rng.normal(size=(200, 16)) + offset_b

    def translation_hits(a: np.ndarray, b: np.ndarray) -> float:
        a, b = a / np.linalg.norm(a, axis=1, keepdims=True), b / np.linalg.norm(b, axis=1, keepdims=True)
        return float((np.argmax(a @ b.T, axis=1) == np.arange(len(a))).mean())

    raw = translation_hits(lang_a, lang_b)
    centered = translation_hits(remove_language(lang_a, ref_a, "centered"), remove_language(lang_b, ref_b, "centered"))
    assert centered > 0.9 and centered > raw


def test_reference_sentences_are_a_fixed_old_testament_sample() -> None:
    first = reference_texts("sw", 20)
    assert first == reference_texts("sw", 20) and len(set(first)) == 20
    with pytest.raises(DataError, match="no reference sentences"):
        reference_texts("xx", 5)


def test_the_retriever_scores_a_bible_benchmark_and_refuses_bm25() -> None:
    from babelir.evaluation.retrieval.loading import load_retriever
    from babelir.evaluation.scoring.runner import evaluate

    results = evaluate("tiny", "bible-xref-sw-dev", scoring="centered", show_progress=False, device="cpu")
    score = results.benchmarks["bible-xref-sw-dev"].main_score
    assert 0.0 <= score <= 1.0 and results.model["type"] == "dense-language-neutral"
    with pytest.raises(DataError, match="bm25 has none"):
        load_retriever("bm25", scoring="lir:2")


def test_znorm_standardises_each_languages_scores_so_no_language_wins_by_offset(tiny_encoder) -> None:
    """Documents of language 'b' sit closer to every query (an offset); within each language the order
    is the same. After per-language z-scores the two languages interleave instead of 'b' filling the top."""
    from babelir.evaluation.benchmarks.base import Benchmark
    from babelir.evaluation.benchmarks.pool import pool_meta
    from babelir.evaluation.retrieval.neutral import LanguageNormalizedRetriever

    rng = np.random.default_rng(0)
    base = rng.normal(size=(5, 8))
    docs = {f"a:{i}": base[i] for i in range(5)} | {f"b:{i}": base[i] + 4.0 for i in range(5)}
    query = base[0] + 0.1
    bench = Benchmark(pool_meta("p", ["a", "b"], ""), {"a:q": "q"}, {d: d for d in docs}, {"a:q": {"a:0": 1}},
                      query_lang="prefix", doc_lang="prefix", exclude_rule="none")
    retriever = LanguageNormalizedRetriever(tiny_encoder, use_cache=False)
    vectors = {"q": query, **docs}
    retriever.embed = lambda texts, role, *a, **k: (np.array([vectors[t] for t in texts]), CacheStats())  # type: ignore[method-assign]
    run, _ = retriever.search(bench, k=4, batch_size=8, show_progress=False)
    top = list(run["a:q"])
    assert {d.split(":")[0] for d in top[:2]} == {"a", "b"}  # raw dot products would put four b's first
    assert sorted(run["a:q"].values(), reverse=True) == list(run["a:q"].values())
