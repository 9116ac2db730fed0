"""BM25 tokenisation (stemmers, CJK bigrams, combining marks) and search."""

from __future__ import annotations

from babelir.retrieval.lexical import bm25_search, has_stemmer, tokenize


def test_stemming_where_a_stemmer_exists() -> None:
    assert tokenize("Running dogs RUN", "en") == ["run", "dog", "run"]
    assert tokenize("Running dogs", "sw") == ["running", "dogs"]  # no Swahili stemmer: words kept
    assert has_stemmer("fr") and has_stemmer("pl") and not has_stemmer("zh")


def test_cjk_bigrams_and_mixed_runs() -> None:
    assert tokenize("神爱世人", "zh") == ["神爱", "爱世", "世人"]
    assert tokenize("我ABC计划", "zh") == ["我", "abc", "计划"]
    assert tokenize("하나님이 사랑", "ko") == ["하나", "나님", "님이", "사랑"]


def test_combining_marks_stay_inside_words() -> None:
    # Devanagari vowel signs are combining marks: Python's \\w alone would split the word
    assert tokenize("परमेश्वर", None) == ["परमेश्वर"]
    assert tokenize("ঈশ্বর জগতকে", "bn") == ["ঈশ্বর", "জগতকে"]


def test_bm25_ranks_matching_document_first_and_handles_unknown_terms() -> None:
    docs = [["cat", "mat"], ["dog", "bone"], ["cat", "dog"]]
    run = bm25_search(
        docs,
        [["cat", "mat"], ["unknownword"], ["dog", "nope"], []],
        ["q1", "q2", "q3", "q4"],
        ["d1", "d2", "d3"],
        k=2,
        exclude={"q3": {"d2"}},
    )
    assert list(run["q1"])[0] == "d1"
    assert run["q2"] == {} and run["q4"] == {}  # nothing matches: no zero-score filler
    assert list(run["q3"]) == ["d3"]  # d2 excluded, d1 has no query term
