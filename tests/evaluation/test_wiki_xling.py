"""The cross-lingual Wikipedia benchmark: zero-shot by construction, dev and test split by article."""

from __future__ import annotations

import pytest

from babelir.data.default_files import heldout_wiki_keys, training_wiki_keys
from babelir.data.sources.wiki import article_id
from babelir.evaluation.benchmarks import benchmark_names, load_benchmark
from babelir.evaluation.benchmarks.wiki_xling import DIRECTIONS, name, split_of_key

BENCHES = {(q, d, s): load_benchmark(name(q, d, s)) for q, d in DIRECTIONS for s in ("dev", "test")}


def test_three_query_languages_and_the_sizes_are_pinned() -> None:
    assert {q for q, _ in DIRECTIONS} == {"en", "es", "fr"}
    sizes = {(q, d, s): (len(b.queries), len(b.corpus)) for (q, d, s), b in BENCHES.items()}
    assert sizes[("es", "fr", "test")] == (640, 1204) and sizes[("fr", "es", "test")] == (666, 1204)
    assert sizes[("es", "en", "test")] == (39, 500) and sizes[("en", "fr", "test")] == (75, 2467)
    assert split_of_key("ABBA") == "test" and split_of_key("A. C. Bhaktivedanta Swami Prabhupada") == "dev"


@pytest.mark.parametrize(("query_lang", "doc_lang"), DIRECTIONS)
def test_dev_and_test_never_share_an_article(query_lang: str, doc_lang: str) -> None:
    dev, test = BENCHES[(query_lang, doc_lang, "dev")], BENCHES[(query_lang, doc_lang, "test")]
    assert dev.queries and test.queries and not set(dev.queries) & set(test.queries)
    assert dev.corpus == test.corpus  # both search the same documents
    all_dev = {qid for (_, _, s), b in BENCHES.items() if s == "dev" for qid in b.queries}
    assert not set(test.queries) & all_dev  # in no direction either
    for bench in (dev, test):
        assert all(set(rel) <= set(bench.corpus) and len(rel) == 1 for rel in bench.qrels.values())
        assert bench.meta.languages == [query_lang, doc_lang] and bench.meta.split in ("dev", "test")
        assert bench.query_language(next(iter(bench.queries))) == query_lang
        assert bench.doc_language(next(iter(bench.corpus))) == doc_lang


def test_no_english_training_text_is_a_query_or_a_document() -> None:
    held = {article_id(k) for k in heldout_wiki_keys()}
    trained = {article_id(k) for k in training_wiki_keys()}
    for (query_lang, doc_lang, _), bench in BENCHES.items():
        if query_lang == "en":
            assert set(bench.queries) <= held
        if doc_lang == "en":
            assert set(bench.corpus) <= held and not set(bench.corpus) & trained


def test_the_splits_are_not_in_the_default_suite() -> None:
    assert not [n for n in benchmark_names() if n.startswith("wiki-xling")]
    assert name("es", "fr", "test") in benchmark_names(include_full=True)
