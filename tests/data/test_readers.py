"""Readers of the three training streams: formats accepted, streaming, and every error names file and line."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest

from babelir.data import beir
from babelir.data.errors import DataError
from babelir.data.readers import (
    ParallelPair,
    RetrievalExample,
    Sentence,
    read_parallel,
    read_parallel_text,
    read_parallel_tsv,
    read_retrieval,
    read_retrieval_beir,
    read_sentences,
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def raises_at(path: Path, line: int | None, problem: str) -> Any:
    where = f"{path}:{line}" if line is not None else f"{path}"
    return pytest.raises(DataError, match=rf"^{re.escape(where)}: .*{problem}")


# ------------------------------------------------------------------------------------------- retrieval


def test_retrieval_jsonl_both_spellings(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.jsonl",
        json.dumps({"query": " q1 ", "positive": "p1", "negatives": ["n1", "n2"], "id": 3})
        + "\n\n"
        + json.dumps({"query": "q2", "pos": ["a", "b"], "neg": "n"})
        + "\n"
        + json.dumps({"query": "q3", "positive": "p3"})
        + "\n",
    )
    assert list(read_retrieval(path)) == [
        RetrievalExample("q1", "p1", ("n1", "n2")),
        RetrievalExample("q2", "a", ("n",)),
        RetrievalExample("q2", "b", ("n",)),
        RetrievalExample("q3", "p3", ()),
    ]


def test_retrieval_tsv_with_header_and_gzip(tmp_path: Path) -> None:
    path = tmp_path / "r.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("query\tpositive\tnegative\nq1\tp1\tn1\tn2\nq2\tp2\n")
    assert list(read_retrieval(path)) == [
        RetrievalExample("q1", "p1", ("n1", "n2")),
        RetrievalExample("q2", "p2", ()),
    ]


def test_retrieval_beir_folder(tmp_path: Path) -> None:
    corpus = {"d1": {"title": "Paris", "text": "is the capital."}, "d2": {"title": "", "text": "Berlin."}}
    qrels = {"q1": {"d1": 1, "d2": 0}, "q2": {"d2": 2}}
    folder = beir.write_beir(
        tmp_path / "b", corpus, {"q1": "capital?", "q2": "berlin?"}, qrels, split="train"
    )
    assert list(read_retrieval(folder)) == [
        RetrievalExample("capital?", "Paris is the capital."),
        RetrievalExample("berlin?", "Berlin."),
    ]
    assert len(list(read_retrieval_beir(folder, min_score=0))) == 3
    beir.write_qrels(folder / "qrels" / "train.tsv", {"q1": {"d9": 1}})
    with raises_at(folder / "qrels" / "train.tsv", 2, "'d9' is not in corpus.jsonl"):
        list(read_retrieval(folder))


@pytest.mark.parametrize(
    ("name", "content", "line", "problem"),
    [
        ("r.jsonl", '{"query": "q", "positive": "p"}\n{"query": "q", \n', 2, "malformed JSON"),
        ("r.jsonl", '{"query": "q"}\n', 1, "missing field 'positive'"),
        ("r.jsonl", '{"positive": "p"}\n', 1, "missing field 'query'"),
        ("r.jsonl", '{"query": "q", "positive": " "}\n', 1, "empty text"),
        ("r.jsonl", '{"query": "q", "positive": "p", "negatives": ["n", ""]}\n', 1, "empty text"),
        ("r.jsonl", '{"query": "q", "pos": []}\n', 1, "empty list"),
        ("r.jsonl", '{"query": 5, "positive": "p"}\n', 1, "must be a string"),
        ("r.tsv", "q\tp\nq only\n", 2, "missing column"),
        ("r.tsv", "q\tp\nq\t\tn\n", 2, "empty text in column 2"),
    ],
)
def test_retrieval_errors(tmp_path: Path, name: str, content: str, line: int, problem: str) -> None:
    path = write(tmp_path / name, content)
    with raises_at(path, line, problem):
        list(read_retrieval(path))


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "r.tsv"
    path.write_bytes(b"q\tp\nq2\tp2\nq3\t\xc3\x28\n")
    reader = read_retrieval(path)
    assert next(reader) == RetrievalExample("q", "p")  # streaming: earlier lines come first
    next(reader)
    with raises_at(path, 3, "invalid UTF-8"):
        next(reader)


def test_missing_file_fails_at_creation(tmp_path: Path) -> None:
    with raises_at(tmp_path / "nope.jsonl", None, "no such file"):
        read_retrieval(tmp_path / "nope.jsonl")
    with raises_at(tmp_path / "x.csv", None, "no such file"):
        read_retrieval(tmp_path / "x.csv")


def test_readers_stream_lazily(tmp_path: Path) -> None:
    path = tmp_path / "big.tsv"
    with path.open("w") as handle:
        for i in range(50_000):
            handle.write(f"q{i}\tp{i}\n")
        handle.write("broken line\n")
    reader = read_retrieval(path)
    assert [next(reader).query for _ in range(3)] == ["q0", "q1", "q2"]  # the bad last line is not read yet


# -------------------------------------------------------------------------------------------- parallel


def test_parallel_tsv_named_columns_mixed_languages(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.tsv",
        "id\tsource\ttarget\tsource_lang\ttarget_lang\n1\tHello\tHallo\ten\tDE\n2\tYes\tOui\ten\tfr\n",
    )
    assert list(read_parallel(path)) == [
        ParallelPair("Hello", "Hallo", "en", "de"),
        ParallelPair("Yes", "Oui", "en", "fr"),
    ]


def test_parallel_tsv_alias_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "p.tsv", "src_lang\ttgt_lang\tsrc\ttgt\nen\tru\tYes\tДа\n")
    assert list(read_parallel(path)) == [ParallelPair("Yes", "Да", "en", "ru")]


def test_parallel_tsv_named_columns_with_caller_languages(tmp_path: Path) -> None:
    path = write(tmp_path / "p.tsv", "target\tsource\nHallo\tHello\n")
    assert list(read_parallel_tsv(path, "en", "de")) == [ParallelPair("Hello", "Hallo", "en", "de")]
    with raises_at(path, 1, "no 'source_lang' column"):
        list(read_parallel_tsv(path))


def test_parallel_tsv_language_header_and_no_header(tmp_path: Path) -> None:
    path = write(tmp_path / "p.tsv", "en\tzh_hans\nHello\t你好\n")
    assert list(read_parallel(path)) == [ParallelPair("Hello", "你好", "en", "zh-Hans")]
    plain = write(tmp_path / "plain.tsv", "Hello\tHola\n")
    assert list(read_parallel(plain, source_lang="en", target_lang="es")) == [
        ParallelPair("Hello", "Hola", "en", "es")
    ]
    with raises_at(plain, 1, "no header naming the languages"):
        list(read_parallel(plain))
    # a first line that repeats the caller's languages is a header
    assert len(list(read_parallel(path, source_lang="en", target_lang="zh-Hans"))) == 1


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        ("en\tde\nHello\n", 2, "expected 2 tab-separated columns"),
        ("en\tde\nHello\t \n", 2, "empty text"),
        ("source\ttarget\tsource_lang\ttarget_lang\na\tb\ten\n", 2, "missing column 'target_lang'"),
        ("source\ttarget\tsource_lang\ttarget_lang\na\tb\ten\tgerman\n", 2, "unknown language code 'german'"),
        ("source\ttarget\tsource_lang\ttarget_lang\na\tb\teng\tde\n", 2, "unknown language code 'eng'"),
    ],
)
def test_parallel_tsv_errors(tmp_path: Path, content: str, line: int, problem: str) -> None:
    path = write(tmp_path / "p.tsv", content)
    with raises_at(path, line, problem):
        list(read_parallel(path))


def test_unknown_caller_language(tmp_path: Path) -> None:
    path = write(tmp_path / "p.tsv", "a\tb\n")
    with raises_at(path, None, "unknown language code 'xx' given as target_lang"):
        read_parallel(path, source_lang="en", target_lang="xx")


def test_aligned_text_files(tmp_path: Path) -> None:
    src = write(tmp_path / "corpus.en", "Hello\nGood morning\n")
    tgt = write(tmp_path / "corpus.de", "Hallo\nGuten Morgen\n")
    assert list(read_parallel_text(src, tgt, "en", "de")) == [
        ParallelPair("Hello", "Hallo", "en", "de"),
        ParallelPair("Good morning", "Guten Morgen", "en", "de"),
    ]


def test_aligned_files_of_different_lengths_name_both_files_and_the_line(tmp_path: Path) -> None:
    src = write(tmp_path / "a.en", "one\ntwo\nthree\n")
    tgt = write(tmp_path / "a.de", "eins\nzwei\n")
    with pytest.raises(DataError) as err:
        list(read_parallel(src, tgt, source_lang="en", target_lang="de"))
    message = str(err.value)
    assert message.startswith(f"{src}:3: ") and str(tgt) in message and "ends after line 2" in message
    with pytest.raises(DataError, match=rf"^{re.escape(str(src))}:3: .*{re.escape(str(tgt))}"):
        list(read_parallel(tgt, src, source_lang="de", target_lang="en"))


def test_aligned_empty_line(tmp_path: Path) -> None:
    src = write(tmp_path / "a.en", "one\n\nthree\n")
    tgt = write(tmp_path / "a.de", "eins\nzwei\ndrei\n")
    with raises_at(src, 2, "empty text"):
        list(read_parallel_text(src, tgt, "en", "de"))
    assert len(list(read_parallel_text(src, tgt, "en", "de", skip_empty=True))) == 2


# ------------------------------------------------------------------------------------------- sentences


def test_sentences_text_and_jsonl(tmp_path: Path) -> None:
    text = write(tmp_path / "s.txt", "Bonjour.\nSalut.\n")
    assert list(read_sentences(text, "FR")) == [Sentence("Bonjour.", "fr"), Sentence("Salut.", "fr")]
    jsonl = write(tmp_path / "s.jsonl", '{"text": "Hola", "language": "es"}\n{"text": "Ciao"}\n')
    assert list(read_sentences(jsonl, "it")) == [Sentence("Hola", "es"), Sentence("Ciao", "it")]


@pytest.mark.parametrize(
    ("name", "content", "language", "line", "problem"),
    [
        ("s.txt", "a\n\nb\n", "fr", 2, "empty text"),
        ("s.jsonl", '{"text": "a", "language": "es"}\n{"text": "b"}\n', None, 2, "missing field 'language'"),
        ("s.jsonl", '{"language": "es"}\n', None, 1, "missing field 'text'"),
        ("s.jsonl", '{"text": "a", "language": "klingon"}\n', None, 1, "unknown language code 'klingon'"),
        ("s.jsonl", '{"text": "", "language": "es"}\n', None, 1, "empty text"),
        ("s.jsonl", "{'text': 'a'}\n", None, 1, "malformed JSON"),
    ],
)
def test_sentence_errors(
    tmp_path: Path, name: str, content: str, language: str | None, line: int, problem: str
) -> None:
    path = write(tmp_path / name, content)
    with raises_at(path, line, problem):
        list(read_sentences(path, language))


def test_plain_text_needs_a_language(tmp_path: Path) -> None:
    path = write(tmp_path / "s.txt", "a\n")
    with raises_at(path, None, "need a language"):
        read_sentences(path)
