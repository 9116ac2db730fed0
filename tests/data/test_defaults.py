"""The default data: no New Testament verse and no held-out English article reaches training; the build
is deterministic, cached and read back through the ordinary readers. One small build per module."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from babelir.data import defaults
from babelir.data.defaults import DefaultData, build_default_data, heldout_wiki_keys, training_wiki_keys
from babelir.data.sources import bible, wiki

SMALL = {
    "parallel_languages": ("de", "zh"),
    "parallel_pairs_per_language": 60,
    "nonparallel_languages": ("en", "de", "fr", "tr"),
    "nonparallel_per_language": 40,
    "heldout_wiki_articles": 500,
    "seed": 0,
}


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BABELIR_CACHE", str(root))
        yield root


@pytest.fixture(scope="module")
def small(cache_root: Path) -> DefaultData:
    return build_default_data(**SMALL)


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def tsv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def vid(key: str) -> tuple[int, int, int]:
    book, chapter, verse = map(int, key.split("."))
    return book, chapter, verse


def test_counts_come_from_the_readers(small: DefaultData) -> None:
    assert small.parallel_counts == {"de": 60, "zh": 60}
    assert small.nonparallel_counts == {"en": 40, "de": 40, "fr": 40, "tr": 40}
    assert len(list(small.retrieval_examples())) == small.num_retrieval
    assert len(list(small.parallel_pairs())) == small.num_parallel == 120
    assert {s.language for s in small.sentences()} == {"en", "de", "fr", "tr"}
    assert small.retrieval_counts["bible-xref"] > 6000 and small.retrieval_counts["wiki-title"] > 9000


def test_retrieval_rows_by_source(small: DefaultData) -> None:
    rows = jsonl(small.retrieval_path)
    xref = list(small.retrieval_examples(["bible-xref"]))
    assert len(xref) == small.retrieval_counts["bible-xref"]
    assert [e.query for e in xref] == [r["query"] for r in rows if r["source"] == "bible-xref"]
    wiki_rows = list(small.retrieval_examples(["wiki-title", "wiki-description"]))
    assert len(wiki_rows) + len(xref) == small.num_retrieval
    assert "parallel" in defaults.summary(small)


def test_no_new_testament_verse_in_training(small: DefaultData) -> None:
    retrieval = [r for r in jsonl(small.retrieval_path) if r["source"] == "bible-xref"]
    parallel = tsv(small.parallel_path)
    sentences = jsonl(small.nonparallel_path)
    ids = [vid(r[k]) for r in retrieval for k in ("query_id", "positive_id")]
    ids += [vid(r["id"]) for r in parallel] + [vid(r["id"]) for r in sentences]
    assert ids and all(book in bible.OLD_TESTAMENT for book, _, _ in ids)
    # the ids are true: every text is the OT verse it claims to be (so the id check above means something)
    verses = {lang: bible.usable_verses(lang, bible.OLD_TESTAMENT) for lang in ("en", "de", "zh", "fr", "tr")}
    english = verses["en"]
    assert all(english[vid(r["query_id"])] == r["query"] for r in retrieval)
    assert all(english[vid(r["positive_id"])] == r["positive"] for r in retrieval)
    for row in parallel:
        assert english[vid(row["id"])] == row["source"]
        assert verses[row["target_lang"]][vid(row["id"])] == row["target"]
    for row in sentences:
        assert verses[row["language"]][vid(row["id"])] == row["text"]


def test_no_heldout_article_in_training(small: DefaultData) -> None:
    heldout = heldout_wiki_keys(500, 0)
    assert len(heldout) == 500
    wiki_rows = [r for r in jsonl(small.retrieval_path) if r["source"].startswith("wiki")]
    assert not {r["query_id"] for r in wiki_rows} & heldout
    articles = {a.key: a for a in wiki.load_articles("en")}
    heldout_extracts = {articles[key].extract for key in heldout}
    assert not {r["positive"] for r in wiki_rows} & heldout_extracts
    assert {r["query_id"] for r in wiki_rows} == training_wiki_keys(500, 0)


def test_nonparallel_sentences_are_not_aligned(small: DefaultData) -> None:
    sentences = jsonl(small.nonparallel_path)
    ids = [row["id"] for row in sentences]
    assert len(ids) == len(set(ids))  # disjoint verse ids across languages
    parallel = tsv(small.parallel_path)
    used = {row["id"] for row in parallel}
    used_by = {lang: {row["id"] for row in parallel if row["target_lang"] == lang} for lang in ("de", "zh")}
    for row in sentences:
        if row["language"] == "en":
            assert row["id"] not in used
        elif row["language"] in used_by:
            assert row["id"] not in used_by[row["language"]]


def test_cached_and_idempotent(small: DefaultData) -> None:
    stamps = {p.name: p.stat().st_mtime_ns for p in small.directory.iterdir()}
    again = build_default_data(**SMALL)
    assert again.cached and again.directory == small.directory and again == small
    assert {p.name: p.stat().st_mtime_ns for p in small.directory.iterdir()} == stamps


def test_deterministic_and_nested_parallel_samples(
    small: DefaultData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BABELIR_CACHE", str(tmp_path))
    twin = build_default_data(**SMALL)
    assert twin.directory != small.directory
    for name in (defaults.RETRIEVAL_FILE, defaults.PARALLEL_FILE, defaults.NONPARALLEL_FILE):
        assert (twin.directory / name).read_bytes() == (small.directory / name).read_bytes()
    fewer = build_default_data(**{**SMALL, "parallel_pairs_per_language": 20})
    few_rows = tsv(fewer.parallel_path)
    all_rows = tsv(small.parallel_path)
    for lang in ("de", "zh"):
        few = [r["id"] for r in few_rows if r["target_lang"] == lang]
        assert few == [r["id"] for r in all_rows if r["target_lang"] == lang][:20]


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        ({"parallel_languages": ("en",)}, "remove 'en'"),
        ({"nonparallel_languages": ("xx",)}, "no Bible translation"),
        ({"parallel_pairs_per_language": -1}, ">= 0"),
    ],
)
def test_bad_settings(override: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        build_default_data(**{**SMALL, **override})
