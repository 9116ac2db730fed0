"""Non-parallel sentences: plain text with the caller's language, JSONL with a language field or default."""

from __future__ import annotations

from pathlib import Path

import pytest

from babelir.data.readers import Sentence, read_sentences
from tests.data.readers.helpers import raises_at, write


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
