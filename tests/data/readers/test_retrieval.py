"""Retrieval examples: JSONL (both spellings), TSV, BEIR folders; streaming, and errors naming FILE:LINE."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from babelir.data import beir
from babelir.data.readers import RetrievalExample, read_retrieval, read_retrieval_beir
from tests.data.readers.helpers import raises_at, write


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
