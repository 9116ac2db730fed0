"""Files of texts with ids, one per line: what ``babelir encode`` embeds and ``babelir index`` indexes.

One reader for both, so that a file one command accepts the other reads the same way. Formats:

* JSONL: ``{"_id" | "id": str|int, "text": str, "title"?: str, "language"?: str}`` one object per line;
  blank lines skipped, other fields ignored. ``text`` may be empty when a ``title`` is given (title-only
  documents, as in some BEIR corpora); the text is kept as written, the caller joins or strips it.
* TSV: ``id<TAB>text`` per line, or ``id<TAB>text<TAB>language`` where the caller reads a language column;
  blank lines skipped; a first line ``id<TAB>text`` (or ``_id``) is a header. Id and text are stripped.

``language`` is handed over as written, unchecked: whether a text may leave it out is the caller's rule
(:func:`babelir.data.languages.language_code` checks a given one). Every problem raises a
:class:`~babelir.data.errors.DataError` naming ``FILE:LINE``; ``.gz`` files are read transparently.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babelir.data._lines import PathLike, iter_json_objects, iter_lines, require_str
from babelir.data.errors import DataError

JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
TSV_SUFFIXES = (".tsv", ".tab")
_TSV_HEADERS = (["id", "text"], ["_id", "text"])


@dataclass(frozen=True, slots=True)
class TextLine:
    """One text of a file: the line it stands on, its id, and the title and language given with it."""

    line: int
    id: str
    text: str
    title: str = ""
    language: object = None  # the JSONL field or TSV column as written; None when the line has none


def format_suffix(path: PathLike) -> str:
    """The suffix that names the format, lower-case, looking through ``.gz`` (``a.JSONL.gz`` -> ``.jsonl``)."""
    suffixes = [s.lower() for s in Path(path).suffixes if s.lower() != ".gz"]
    return suffixes[-1] if suffixes else ""


def iter_jsonl_texts(path: PathLike) -> Iterator[TextLine]:
    """The texts of a JSONL file (``_id``/``id``, ``text``, optional ``title`` and ``language``)."""
    for number, obj in iter_json_objects(path):
        text_id = require_str(path, number, obj, "_id" if "_id" in obj else "id", is_id=True).strip()
        text = require_str(path, number, obj, "text", allow_empty=True)
        title = obj.get("title") or ""
        if not isinstance(title, str):
            raise DataError(path, number, f"field 'title' must be a string, got {type(title).__name__}")
        if not text.strip() and not title.strip():
            raise DataError(path, number, f"{text_id!r} has neither text nor title")
        yield TextLine(number, text_id, text, title, obj.get("language"))


def iter_tsv_texts(path: PathLike, *, language_column: bool = False) -> Iterator[TextLine]:
    """The texts of a TSV file: ``id<TAB>text``, plus ``<TAB>language`` if ``language_column``."""
    layout = "id<TAB>text[<TAB>language]" if language_column else "id<TAB>text"
    widths = (2, 3) if language_column else (2,)
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        fields = line.split("\t")
        if number == 1 and [field.strip().lower() for field in fields[:2]] in _TSV_HEADERS:
            continue
        if len(fields) not in widths:
            raise DataError(path, number, f"expected {layout}, got {len(fields)} columns")
        text_id, text = fields[0].strip(), fields[1].strip()
        if not text_id:
            raise DataError(path, number, "empty id")
        if not text:
            raise DataError(path, number, f"empty text for {text_id!r}")
        yield TextLine(number, text_id, text, "", fields[2].strip() if len(fields) == 3 else None)
