"""What the stream readers share: the file check at creation, the format by name, clean texts, languages.

Kept apart from :mod:`babelir.data._lines` (line decoding for every reader of the data package) because
these rules are the training streams' own: which suffix means which format, and what counts as a text.
"""

from __future__ import annotations

from pathlib import Path

from babelir.data._lines import PathLike, open_binary
from babelir.data.errors import DataError
from babelir.data.languages import language_code, normalize_language


def existing_file(path: PathLike) -> Path:
    """Fail at reader creation (not at the first ``next``) when the file is missing."""
    path = Path(path)
    open_binary(path).close()
    return path


def format_of(path: Path) -> str:
    """``jsonl``, ``tsv``, ``text`` or ``unknown``, from the name (a trailing ``.gz`` is looked through)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if last in (".tsv", ".tab"):
        return "tsv"
    if last in (".txt", ".text", ""):
        return "text"
    # Aligned-corpus files are often named by language (``corpus.de``): treat as plain text.
    if normalize_language(last.lstrip(".")) is not None:
        return "text"
    return "unknown"


def language_argument(code: str | None, what: str, path: PathLike | None = None) -> str | None:
    """Validate a caller-given language code (``None`` passes through)."""
    return None if code is None else language_code(code, f"given as {what}", path)


def clean_text(path: PathLike, number: int, value: str, what: str) -> str:
    """``value`` without surrounding whitespace; an empty text is an error naming ``what`` held it."""
    value = value.strip()
    if not value:
        raise DataError(path, number, f"empty text in {what}")
    return value
