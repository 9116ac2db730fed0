"""Non-parallel sentences (``Sentence(text, language)``), for the language loss.

Formats:

* Plain text, one sentence per line, language from the caller.
* JSONL ``{"text": str, "language": str}``; ``language`` may be omitted when the caller gives a default.

The rules every reader follows are in :mod:`babelir.data.readers`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babelir.data._lines import PathLike, iter_json_objects, iter_lines, require_str
from babelir.data.errors import DataError
from babelir.data.languages import language_code
from babelir.data.readers.common import clean_text, existing_file, format_of, language_argument


@dataclass(frozen=True, slots=True)
class Sentence:
    """Plain text in a known language (non-parallel), for the language loss."""

    text: str
    language: str


def read_sentences_text(path: PathLike, language: str, *, skip_empty: bool = False) -> Iterator[Sentence]:
    """One sentence per line, all in ``language``; blank lines are errors unless ``skip_empty``."""
    path = existing_file(path)
    code = language_argument(language, "language", path)
    if code is None:
        raise DataError(path, None, "a plain-text sentence file needs its language")
    return _sentences_text(path, code, skip_empty)


def _sentences_text(path: Path, language: str, skip_empty: bool) -> Iterator[Sentence]:
    for number, line in iter_lines(path):
        text = line.strip()
        if not text:
            if skip_empty:
                continue
            raise DataError(path, number, "empty text")
        yield Sentence(text, language)


def read_sentences_jsonl(path: PathLike, language: str | None = None) -> Iterator[Sentence]:
    """``{"text", "language"}`` per line; ``language`` (the argument) is the default for lines without one."""
    path = existing_file(path)
    return _sentences_jsonl(path, language_argument(language, "language", path))


def _sentences_jsonl(path: Path, default: str | None) -> Iterator[Sentence]:
    for number, obj in iter_json_objects(path):
        text = clean_text(path, number, require_str(path, number, obj, "text"), "field 'text'")
        if obj.get("language") is None:
            if default is None:
                raise DataError(path, number, "missing field 'language'")
            code = default
        else:
            code = language_code(obj["language"], "in field 'language'", path, number)
        yield Sentence(text, code)


def read_sentences(
    path: PathLike, language: str | None = None, *, skip_empty: bool = False
) -> Iterator[Sentence]:
    """Dispatch on the name: ``*.jsonl[.gz]`` is JSONL, anything else plain text (needs ``language``)."""
    if format_of(Path(path)) == "jsonl":
        return read_sentences_jsonl(path, language)
    if language is None:
        raise DataError(
            path, None, "plain-text sentences need a language (or use JSONL with a 'language' field)"
        )
    return read_sentences_text(path, language, skip_empty=skip_empty)
