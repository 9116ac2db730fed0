"""Line-level reading shared by every reader: constant memory, and every problem names file and line.

Files are read as bytes and decoded one line at a time, so invalid UTF-8 is reported at the exact line
(a text-mode ``open`` would fail somewhere inside a buffered block, or silently replace bytes).
``.gz`` files are decompressed on the fly because large BEIR corpora and run files often come gzipped.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from babelir.data.errors import DataError

PathLike = str | os.PathLike
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # \ud800-\udfff: half of a pair, or a whole pair


def open_binary(path: PathLike) -> IO[bytes]:
    """Open ``path`` for binary reading (gzip-aware); a missing file is a DataError naming it."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, "no such file" if not path.exists() else "not a regular file")
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return open(path, "rb")


def iter_lines(path: PathLike) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` with 1-based numbers and the line ending (``\\n``/``\\r\\n``) removed.

    A UTF-8 byte-order mark on line 1 is dropped (editors on Windows add one). Invalid UTF-8 raises
    DataError at that line, with the byte offset inside the line, so the user can find it.
    """
    number = 0
    with open_binary(path) as handle:
        try:
            for number, raw in enumerate(handle, start=1):
                if raw.endswith(b"\n"):
                    raw = raw[:-1]
                    if raw.endswith(b"\r"):
                        raw = raw[:-1]
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as err:
                    raise DataError(path, number, f"invalid UTF-8 (byte {err.start} of the line)") from None
                yield number, text
        except (EOFError, gzip.BadGzipFile, zlib.error) as err:  # raised while reading the line after `number`
            raise DataError(path, number + 1, f"damaged or not gzip data ({err}); the lines before it were read: "
                            "compress the file again (or drop the .gz suffix if it is plain text)") from None


def parse_json_object(path: PathLike, number: int, text: str) -> dict[str, Any]:
    """Parse one JSONL line that must hold a JSON object."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(path, number, f"malformed JSON: {err.msg} (column {err.colno})") from None
    if not isinstance(obj, dict):
        raise DataError(path, number, f"expected a JSON object, got {type(obj).__name__}")
    if _SURROGATE_ESCAPE.search(text):  # only an escape can carry a lone surrogate, which no encoder accepts
        try:
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as err:
            bad = err.object[err.start:err.end].encode("unicode_escape").decode("ascii")
            raise DataError(path, number, f"the escape {bad} is half of a surrogate pair, not a character: "
                            "write the character itself or both halves of its pair") from None
    return obj


def iter_json_objects(path: PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """JSONL: one object per line; blank lines are skipped (they carry nothing and are common at EOF)."""
    for number, text in iter_lines(path):
        if not text.strip():
            continue
        yield number, parse_json_object(path, number, text)


def require_str(
    path: PathLike,
    number: int,
    obj: dict[str, Any],
    field: str,
    *,
    allow_empty: bool = False,
    is_id: bool = False,
) -> str:
    """``obj[field]`` as a string; empty text is an error unless ``allow_empty``.

    Ids (``is_id``) may be JSON integers, as some published BEIR files write them; they become strings
    so that ids from JSONL and from qrels TSV compare equal.
    """
    if field not in obj or obj[field] is None:
        raise DataError(path, number, f"missing field {field!r}")
    value = obj[field]
    allowed = (str, int) if is_id else (str,)
    if isinstance(value, bool) or not isinstance(value, allowed):
        raise DataError(path, number, f"field {field!r} must be a string, got {type(value).__name__}")
    value = str(value)
    if not allow_empty and not value.strip():
        raise DataError(path, number, f"empty text in field {field!r}")
    return value
