"""Files of texts with ids (``babelir encode``, ``babelir index``): both formats, and errors naming FILE:LINE."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from babelir.data.errors import DataError
from babelir.data.texts import TextLine, format_suffix, iter_jsonl_texts, iter_tsv_texts


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "suffix"), [("a.jsonl", ".jsonl"), ("a.JSONL.gz", ".jsonl"), ("a.b.tsv", ".tsv"), ("a", "")]
)
def test_format_suffix_looks_through_gz(name: str, suffix: str) -> None:
    assert format_suffix(name) == suffix


def test_jsonl_ids_titles_and_languages_as_written(tmp_path: Path) -> None:
    path = write(
        tmp_path / "t.jsonl",
        '{"_id": " a ", "text": " hello ", "language": "EN"}\n\n'
        '{"id": 7, "title": "T", "text": "", "extra": [1]}\n',
    )
    assert list(iter_jsonl_texts(path)) == [
        TextLine(1, "a", " hello ", "", "EN"),  # text and language unchanged: the caller's to judge
        TextLine(3, "7", "", "T", None),  # title-only texts are allowed
    ]


def test_tsv_header_blank_lines_and_language_column(tmp_path: Path) -> None:
    path = write(tmp_path / "t.tsv", "_id\ttext\n d1 \t the text \n\nd2\tanother\tde\n")
    assert list(iter_tsv_texts(path, language_column=True)) == [
        TextLine(2, "d1", "the text", "", None),
        TextLine(4, "d2", "another", "", "de"),
    ]
    with pytest.raises(DataError, match=re.escape(f"{path}:4: expected id<TAB>text, got 3 columns")):
        list(iter_tsv_texts(path))


def test_gzip(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("a\tb\n")
    assert [line.text for line in iter_tsv_texts(path)] == ["b"]


@pytest.mark.parametrize(
    ("name", "content", "where", "problem"),
    [
        ("t.jsonl", '{"id": "a", "text": "x"}\n{"id": "b"}\n', 2, "missing field 'text'"),
        ("t.jsonl", '{"text": "x"}\n', 1, "missing field 'id'"),
        ("t.jsonl", '{"id": "a", "text": " ", "title": ""}\n', 1, "'a' has neither text nor title"),
        ("t.jsonl", '{"id": "a", "text": "x", "title": 3}\n', 1, "field 'title' must be a string, got int"),
        ("t.jsonl", '{"id": "a", "text": \n', 1, "malformed JSON"),
        ("t.tsv", "a\tfine\nb only\n", 2, "expected id<TAB>text[<TAB>language], got 1 columns"),
        ("t.tsv", "a\tb\tde\tx\n", 1, "expected id<TAB>text[<TAB>language], got 4 columns"),
        ("t.tsv", " \tb\n", 1, "empty id"),
        ("t.tsv", "a\t \n", 1, "empty text for 'a'"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, name: str, content: str, where: int, problem: str) -> None:
    path = write(tmp_path / name, content)
    texts = iter_jsonl_texts(path) if name.endswith(".jsonl") else iter_tsv_texts(path, language_column=True)
    with pytest.raises(DataError, match=re.escape(f"{path}:{where}: {problem}")):
        list(texts)
