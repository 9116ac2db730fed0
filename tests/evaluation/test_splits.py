"""Dev and test splits: registered by name, dev is exactly the subsample experiments score (one name for
it), test never shares a query."""

from __future__ import annotations

import pytest

from babelir.evaluation.benchmarks import get_meta, load_benchmark, resolve_names
from babelir.evaluation.benchmarks.base import Benchmark, item_of
from babelir.evaluation.benchmarks.mini import mini_benchmark, mini_name, subsample
from babelir.evaluation.benchmarks.splits import (
    DEV_DOCUMENTS,
    DEV_QUERIES,
    DEV_SEED,
    TEST_DOCUMENTS,
    TEST_QUERIES,
    build_split,
    held_out_selection,
    parents,
    split_of,
    used_items,
)


def ids(bench: Benchmark) -> tuple:
    return list(bench.queries), list(bench.corpus), bench.qrels


def test_every_bible_benchmark_has_both_splits_and_the_suites_are_unchanged() -> None:
    names = parents()
    assert len(names) == 22 + 1 + 21 and all(n.startswith("bible-") for n in names)
    for parent in names:
        for split in ("dev", "test"):
            meta = get_meta(f"{parent}-{split}", sizes=False)
            assert (meta.split, split_of(meta), meta.params["split_of"]) == (split, split, parent)
            assert meta.languages == get_meta(parent, sizes=False).languages  # labels and groups still work
    assert split_of(get_meta("bible-xref-sw", sizes=False)) is None  # a whole benchmark is not a split
    assert resolve_names("bible-xref-*-test") == [f"{n}-test" for n in names if n.startswith("bible-xref-")]
    assert len(resolve_names("bible-*-dev")) == 44 and len(resolve_names("default")) == 47
    assert not any(n.endswith(("-dev", "-test")) for n in resolve_names(["default", "bible-*", "full"]))


REPRESENTATIVES = ["bible-xref-en", "bible-xref-sw", "bible-xref-pool", "bible-bitext-sw"]


def build_splits(root, names: list[str]) -> dict[str, dict[str, Benchmark]]:
    """The dev and test splits of ``names``, built into (and read back from) BEIR folders under ``root``."""
    return {p: {s: load_benchmark(f"{p}-{s}", root=root) for s in ("dev", "test")} for p in names}


@pytest.fixture(scope="module")
def some() -> dict[str, dict[str, Benchmark]]:
    """The splits of a few benchmarks, built in memory (the slow test below reads every one from disk)."""
    return {p: {s: build_split(p, s) for s in ("dev", "test")} for p in REPRESENTATIVES}


def test_a_split_is_written_and_read_back_as_a_beir_folder(tmp_path, some) -> None:
    built = load_benchmark("bible-xref-sw-test", root=tmp_path)
    assert ids(built) == ids(some["bible-xref-sw"]["test"]) and built.meta.split == "test"
    assert (built.path / "qrels" / "test.tsv").is_file()
    dev = load_benchmark("bible-bitext-sw-dev", root=tmp_path)
    assert ids(dev) == ids(some["bible-bitext-sw"]["dev"]) and (dev.path / "qrels" / "dev.tsv").is_file()


def check_dev_is_mini(splits: dict[str, dict[str, Benchmark]]) -> None:
    for parent, built in splits.items():
        mini = subsample(parent, DEV_QUERIES, DEV_DOCUMENTS, DEV_SEED)
        dev = built["dev"]
        assert ids(dev) == ids(mini), parent
        assert dev.corpus == mini.corpus and dev.queries == mini.queries  # the same texts, so the same scores
        assert (dev.exclude_rule, dev.query_lang, dev.doc_lang) == (mini.exclude_rule, mini.query_lang, mini.doc_lang)
        assert dev.meta.split == "dev" and dev.meta.name == f"{parent}-dev"


def check_disjoint(splits: dict[str, dict[str, Benchmark]]) -> None:
    """No split's test query shares its id or its verse with any split's dev query (whatever the family)."""
    dev_items = {item_of(q) for built in splits.values() for q in built["dev"].queries}
    test_items = {item_of(q) for built in splits.values() for q in built["test"].queries}
    assert dev_items and test_items and not dev_items & test_items
    assert dev_items <= used_items() and not test_items & used_items()
    for parent, built in splits.items():
        assert not set(built["dev"].queries) & set(built["test"].queries), parent


def check_same_ids_in_every_language(splits: dict[str, dict[str, Benchmark]]) -> None:
    for family in ("bible-xref", "bible-bitext"):
        for split in ("dev", "test"):
            benches = [built[split] for built in splits.values() if built[split].meta.family == family]
            assert all(ids(b) == ids(benches[0]) for b in benches), (family, split)


def test_dev_is_the_mini_subsample_experiments_have_always_scored(some) -> None:
    check_dev_is_mini(some)


def test_the_dev_queries_have_one_name() -> None:
    """At the dev sizes a subsample is the dev split, by name too; other sizes stay -mini."""
    assert mini_name("bible-xref-sw", DEV_QUERIES, DEV_DOCUMENTS) == "bible-xref-sw-dev"
    assert mini_benchmark("bible-xref-sw", DEV_QUERIES, DEV_DOCUMENTS).name == "bible-xref-sw-dev"
    assert mini_name("bible-xref-sw", 60, 300) == "bible-xref-sw-mini"
    assert mini_name("wiki-en", DEV_QUERIES, DEV_DOCUMENTS) == "wiki-en-mini"  # no splits: a subsample
    assert mini_benchmark("bible-xref-sw", 60, 300).name == "bible-xref-sw-mini"


def test_dev_and_test_never_share_a_query_or_its_verse(some) -> None:
    check_disjoint(some)
    pool = some["bible-xref-pool"]["dev"]
    assert len({q.split(":")[0] for q in pool.queries}) > 1  # pooled dev queries span languages: exclusion by verse


def test_test_split_sizes_and_what_the_families_share(some) -> None:
    check_same_ids_in_every_language(some)
    xref, bitext = some["bible-xref-sw"]["test"], some["bible-bitext-sw"]["test"]
    assert (xref.compute_sizes()["queries"], xref.compute_sizes()["documents"]) == (TEST_QUERIES, TEST_DOCUMENTS)
    assert xref.queries != some["bible-xref-en"]["test"].queries  # same ids, different texts
    assert set(bitext.queries) <= set(xref.corpus) == set(bitext.corpus)  # both sides: xref-test corpus verses
    assert len(bitext.queries) == TEST_QUERIES and bitext.meta.main_metric == "Success@1"
    pool = some["bible-xref-pool"]["test"]
    assert {item_of(q) for q in pool.queries} == set(xref.queries)
    assert len(pool.queries) == 22 * TEST_QUERIES and len(pool.corpus) == 22 * TEST_DOCUMENTS
    verse, relevant = next(iter(xref.qrels.items()))
    assert pool.qrels[f"sw:{verse}"] == {f"{lang}:{d}": 1 for lang in pool.meta.languages for d in relevant}


@pytest.mark.slow
def test_every_language_of_every_family(tmp_path) -> None:
    """The proof for all 44 benchmarks (88 splits): dev is the subsample experiments scored, test shares no query or verse with
    any dev query in any language, and a family's ids are the same in every language."""
    every = build_splits(tmp_path, parents())
    check_dev_is_mini(every)
    check_disjoint(every)
    check_same_ids_in_every_language(every)


def test_the_test_selection_is_pinned() -> None:
    """Reported test numbers depend on these exact verses: a change must be deliberate (bump SPLIT_VERSION)."""
    from babelir.data.sources.bible import verse_key
    from babelir.utils.cache import content_hash

    (queries, corpus, _), bitext_queries = held_out_selection()
    keys = [[verse_key(v) for v in part] for part in (queries, corpus, bitext_queries)]
    assert [len(k) for k in keys] == [300, 1800, 300]
    assert content_hash(keys) == "e9fe8a0562b5e1d2"
