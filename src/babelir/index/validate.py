"""Is an index folder usable? Cheap checks of each file, each failure naming the damaged file.

Why: a truncated ``index.faiss``, a manifest without its keys or a damaged ``docs.sqlite`` used to end
in a faiss, KeyError or sqlite3 traceback (at load, or worse, at the first search of a server that said
it was healthy). :func:`validate_index` reads headers and sizes only, so ``Index.load``, ``babelir
search`` and the server's health check can all afford it; what only reading the whole file can reveal is
caught where it is read (:func:`read_faiss`, :class:`~babelir.index.store.DocStore`) and named the same
way.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import Any

import faiss

from babelir.index.layout import MANIFEST, SHARDS_DIR, read_manifest, rebuild_hint
from babelir.index.store import readonly_uri
from babelir.utils.errors import IndexFileError

# the first four bytes faiss writes for each index type babelir builds (faiss/impl/index_write.cpp)
FAISS_HEADERS = {b"IxFI": "flat", b"IHNf": "hnsw", b"IwPQ": "ivfpq"}
# an IndexFlatIP file: fourcc, d, ntotal, two unused int64, is_trained, metric, codes length; then codes
FLAT_HEADER_BYTES = 45
SQLITE_MAGIC = b"SQLite format 3\x00"


def validate_index(path: str | os.PathLike) -> None:
    """Raise :class:`IndexFileError` naming the first missing or damaged file of index folder ``path``."""
    checked_manifest(Path(path))


def checked_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of ``folder`` once every file it names passed the cheap checks."""
    unfinished = " (an unfinished build: run the same 'babelir index' command again to resume)"
    manifest = read_manifest(
        folder, "not a complete babelir index" + (unfinished if (folder / SHARDS_DIR).is_dir() else "")
    )
    hint = rebuild_hint(folder, manifest)
    _check_faiss(folder / manifest["index"]["file"], manifest, hint)
    _check_docs(folder / manifest["docs"], manifest, hint)
    return manifest


def _size(path: Path, hint: str) -> int:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise IndexFileError(path, None, f"missing; {hint}") from None
    if size == 0:
        raise IndexFileError(path, None, f"empty; {hint}")
    return size


def _check_faiss(path: Path, manifest: dict[str, Any], hint: str) -> None:
    size = _size(path, hint)
    with open(path, "rb") as handle:
        head = handle.read(4)
    kind = FAISS_HEADERS.get(head)
    if kind is None:
        raise IndexFileError(path, None, f"not a faiss index of babelir's (header {head!r}); {hint}")
    if kind != manifest["index"]["index_type"]:
        raise IndexFileError(
            path, None, f"holds a {kind} index, {MANIFEST} says {manifest['index']['index_type']}; {hint}"
        )
    counts = manifest["counts"]
    expected = FLAT_HEADER_BYTES + int(counts["documents"]) * int(counts["dimension"]) * 4
    if kind == "flat" and size != expected:
        state = "truncated" if size < expected else "longer than its vectors"
        raise IndexFileError(path, None, f"{state} ({size} bytes, expected {expected}); {hint}")
    if size <= FLAT_HEADER_BYTES:
        raise IndexFileError(path, None, f"truncated ({size} bytes); {hint}")


def _check_docs(path: Path, manifest: dict[str, Any], hint: str) -> None:
    size = _size(path, hint)
    with open(path, "rb") as handle:
        head = handle.read(100)
    if len(head) < 100 or not head.startswith(SQLITE_MAGIC):
        raise IndexFileError(path, None, f"not an SQLite database; {hint}")
    page_size = int.from_bytes(head[16:18], "big")
    pages = int.from_bytes(head[28:32], "big")
    if head[24:28] == head[92:96] and size < (65536 if page_size == 1 else page_size) * pages:
        raise IndexFileError(path, None, f"truncated ({size} bytes, its header says {pages} pages); {hint}")
    try:
        con = sqlite3.connect(readonly_uri(path), uri=True)
        try:
            last = con.execute("SELECT MAX(row) FROM docs").fetchone()[0]
        finally:
            con.close()
    except sqlite3.DatabaseError as err:
        raise IndexFileError(path, None, f"damaged document store ({err}); {hint}") from None
    documents = int(manifest["counts"]["documents"])
    if (-1 if last is None else int(last)) != documents - 1:
        held = 0 if last is None else int(last) + 1
        raise IndexFileError(path, None, f"holds {held} rows, {MANIFEST} says {documents}; {hint}")


def read_faiss(folder: Path, manifest: dict[str, Any], file: str | None = None, hint: str = "") -> faiss.Index:
    """``faiss.read_index`` of the folder's index (or of ``file`` in it), its failure and a count mismatch
    naming the file; ``hint`` says what to do instead of the default (rebuild)."""
    path = folder / (file or manifest["index"]["file"])
    hint = hint or rebuild_hint(folder, manifest)
    try:
        index = faiss.read_index(str(path))
    except (RuntimeError, MemoryError) as err:
        # faiss prefixes "Error in <function> at <file>:<line>: ": keep what went wrong
        reason = re.sub(r"^Error in .*? at \S+:\d+: ", "", str(err).strip()) or type(err).__name__
        raise IndexFileError(path, None, f"unreadable faiss index ({reason}); {hint}") from None
    counts = manifest["counts"]
    if index.ntotal != counts["documents"] or index.d != counts["dimension"]:
        raise IndexFileError(
            path,
            None,
            f"holds {index.ntotal} vectors of dimension {index.d}, {MANIFEST} says "
            f"{counts['documents']} of {counts['dimension']}; {hint}",
        )
    return index
