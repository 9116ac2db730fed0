"""BEIR folder readers/writers: round trips, streaming, and errors that name file and line."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from babelir.data import beir
from babelir.data.errors import DataError

CORPUS = {"d1": {"title": "Paris", "text": "Capital of France."}, "d2": {"title": "", "text": "Ünïcödé 東京"}}
QUERIES = {"q1": "capital of france", "q2": "tokyo", "q3": "unjudged"}
QRELS = {"q1": {"d1": 1}, "q2": {"d2": 2, "d1": 0}}


def test_round_trip(tmp_path: Path) -> None:
    folder = beir.write_beir(tmp_path / "set", CORPUS, QUERIES, QRELS, split="dev")
    corpus, queries, qrels = beir.load_beir(folder, "dev")
    assert corpus == CORPUS
    assert queries == {"q1": QUERIES["q1"], "q2": QUERIES["q2"]}  # unjudged dropped, like BEIR
    assert qrels == QRELS
    _, all_queries, _ = beir.load_beir(folder, "dev", only_judged_queries=False)
    assert all_queries == QUERIES
    assert (folder / "qrels" / "dev.tsv").read_text().splitlines()[0] == "query-id\tcorpus-id\tscore"


def test_corpus_streams_and_accepts_gzip_and_numeric_ids(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    with gzip.open(folder / "corpus.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"_id": 7, "text": "seven", "extra": 1}) + "\n\n")
        handle.write(json.dumps({"_id": "8", "title": "T", "text": ""}) + "\n")
    stream = beir.iter_corpus(folder)
    assert next(stream) == ("7", {"title": "", "text": "seven"})
    assert next(stream) == ("8", {"title": "T", "text": ""})
    assert beir.join_title("T", "") == "T" and beir.join_title("A", "b") == "A b"


def test_a_damaged_or_fake_gzip_file_is_one_error_naming_file_and_line(tmp_path: Path) -> None:
    from babelir.data._lines import iter_lines

    whole = gzip.compress(b"".join(b"line %d\n" % i for i in range(5000)))
    (tmp_path / "cut.jsonl.gz").write_bytes(whole[: len(whole) // 2])  # an interrupted download
    (tmp_path / "plain.jsonl.gz").write_text('{"_id": "1", "text": "not compressed"}\n')
    read = []
    with pytest.raises(DataError, match=r"cut\.jsonl\.gz:\d+: damaged or not gzip data"):
        read.extend(iter_lines(tmp_path / "cut.jsonl.gz"))
    assert read and read[-1][1] == f"line {len(read) - 1}"  # every line before the damage was read
    with pytest.raises(DataError, match=r"plain\.jsonl\.gz:1: damaged or not gzip data"):
        list(iter_lines(tmp_path / "plain.jsonl.gz"))


def test_qrels_header_optional_and_float_scores(tmp_path: Path) -> None:
    path = tmp_path / "q.tsv"
    path.write_text("q1\td1\t1.0\nq1\td2\t0\n")
    assert beir.load_qrels(path) == {"q1": {"d1": 1, "d2": 0}}


@pytest.mark.parametrize(
    ("name", "content", "line", "problem"),
    [
        ("corpus.jsonl", '{"_id": "a", "text": "x"}\n{"_id": "b", "text": \n', 2, "malformed JSON"),
        ("corpus.jsonl", '{"_id": "a", "text": "x"}\n{"text": "y"}\n', 2, "missing field '_id'"),
        (
            "corpus.jsonl",
            '{"_id": "a", "text": "x"}\n{"_id": "a", "text": "y"}\n',
            2,
            "duplicate document id",
        ),
        ("queries.jsonl", '{"_id": "q", "text": "  "}\n', 1, "empty text"),
        ("queries.jsonl", "[1, 2]\n", 1, "expected a JSON object"),
        ("queries.jsonl", '{"_id": "q", "text": "a\\ud800b"}\n', 1, "escape \\ud800 is half of a surrogate pair"),
    ],
)
def test_jsonl_errors_name_file_and_line(
    tmp_path: Path, name: str, content: str, line: int, problem: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    load = beir.load_corpus if name.startswith("corpus") else beir.load_queries
    with pytest.raises(DataError) as err:
        load(path)
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert problem in str(err.value)


def test_invalid_utf8_reports_line(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(b'{"_id": "a", "text": "x"}\n{"_id": "b", "text": "\xff"}\n')
    with pytest.raises(DataError, match=rf"^{path}:2: invalid UTF-8"):
        list(beir.iter_corpus(path))


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        ("query-id\tcorpus-id\tscore\nq1\td1\n", 2, "expected 3 tab-separated columns"),
        ("q1\td1\thigh\n", 1, "not a number"),
        ("q1\td1\t0.5\n", 1, "not an integer"),
        ("q1\td1\t1\nq1\td1\t2\n", 2, "judged twice"),
    ],
)
def test_qrels_errors(tmp_path: Path, content: str, line: int, problem: str) -> None:
    path = tmp_path / "test.tsv"
    path.write_text(content)
    with pytest.raises(DataError, match=rf"^{path}:{line}: .*{problem}"):
        beir.load_qrels(path)


def test_missing_files_and_unknown_queries(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="corpus.jsonl: no such file"):
        beir.load_corpus(tmp_path)
    beir.write_beir(tmp_path / "s", CORPUS, {"q1": "x"}, QRELS)
    with pytest.raises(DataError, match="not in queries.jsonl"):
        beir.load_beir(tmp_path / "s")


def test_an_empty_corpus_or_qrels_is_an_error_not_nan_scores(tmp_path: Path) -> None:
    beir.write_beir(tmp_path / "noqrels", CORPUS, QUERIES, {})  # the header line only
    with pytest.raises(DataError, match=r"test\.tsv: no judgements in the test qrels"):
        beir.load_beir(tmp_path / "noqrels")
    beir.write_beir(tmp_path / "nodocs", {}, QUERIES, QRELS)
    with pytest.raises(DataError, match="nodocs: its corpus holds no documents"):
        beir.load_beir(tmp_path / "nodocs")
