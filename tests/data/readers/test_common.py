"""The readers' shared rules: formats told by name, caller languages checked, one import path for all."""

from __future__ import annotations

from pathlib import Path

import pytest

import babelir.data.readers as readers
from babelir.data.readers import common, parallel, retrieval, sentences
from tests.data.readers.helpers import raises_at, write


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("a.jsonl", "jsonl"),
        ("a.NDJSON.gz", "jsonl"),
        ("a.tsv.gz", "tsv"),
        ("a.tab", "tsv"),
        ("a.txt", "text"),
        ("corpus", "text"),
        ("corpus.de", "text"),  # aligned files are often named by language
        ("a.csv", "unknown"),
    ],
)
def test_format_is_told_by_the_name(name: str, kind: str) -> None:
    assert common.format_of(Path(name)) == kind


def test_caller_languages_are_normalised_or_refused(tmp_path: Path) -> None:
    assert common.language_argument("DE", "language") == "de"
    assert common.language_argument(None, "language") is None
    with raises_at(tmp_path / "s.txt", None, "unknown language code 'xx' given as language"):
        common.language_argument("xx", "language", tmp_path / "s.txt")


def test_clean_text_strips_and_refuses_empty_text(tmp_path: Path) -> None:
    path = write(tmp_path / "s.txt", "")
    assert common.clean_text(path, 3, "  a b ", "column 1") == "a b"
    with raises_at(path, 3, "empty text in column 1"):
        common.clean_text(path, 3, " \t", "column 1")


def test_every_reader_is_importable_from_the_package() -> None:
    for module in (parallel, retrieval, sentences):
        public = [name for name in vars(module) if name.startswith(("read_", "Retrieval", "Parallel", "Sentence"))]
        for name in public:
            if getattr(module, name).__module__ == module.__name__:
                assert getattr(readers, name) is getattr(module, name), name
                assert name in readers.__all__, name
