"""The document store of an index: SQLite, one row per faiss id (``row``), with id, title, text, language.

Why SQLite and not pickle or one big JSON: it is safe to open (no code runs on load), it gives random
access to the few documents a search returns without loading millions, and its transactions let a build
record "shard N is finished" together with that shard's documents, which is what makes resume exact.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from babelir.data.errors import DataError
from babelir.index.corpus import Document
from babelir.utils.errors import IndexFileError

GENERIC_HINT = "rebuild the index with babelir index MODEL CORPUS OUT --overwrite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    row INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    language TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_language ON docs(language);
CREATE TABLE IF NOT EXISTS shards (
    shard INTEGER PRIMARY KEY,
    start INTEGER NOT NULL,
    count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS shard_files (
    shard INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL
);
"""
# shard_files: the checksum of each finished shard's .npy, so a resume or merge re-encodes (or refuses) a
# file altered in place instead of reading it; a table of its own, so folders written before it still open


def shard_checksums(con: sqlite3.Connection) -> dict[int, str]:
    """``shard -> sha256`` recorded in a document store (empty for one written before checksums)."""
    if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'shard_files'").fetchone():
        return {}
    return {int(shard): digest for shard, digest in con.execute("SELECT shard, sha256 FROM shard_files")}


def readonly_uri(path: str | os.PathLike) -> str:
    """An SQLite URI opening ``path`` read-only (quoted: a folder named ``a?b`` or ``50%`` stays a path)."""
    return Path(path).resolve().as_uri() + "?mode=ro"


@contextlib.contextmanager
def named_errors(path: Path, hint: str) -> Iterator[None]:
    """Turn SQLite's failures on a damaged file ("database disk image is malformed", "file is not a
    database", a missing table) into an :class:`IndexFileError` naming the file and what to do; a full disk
    or a failed write is said as such (the file is not damaged: the transaction was rolled back)."""
    try:
        yield
    except sqlite3.DatabaseError as err:
        code = getattr(err, "sqlite_errorcode", None)
        if code == sqlite3.SQLITE_FULL:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from None
        if code is not None and code & 0xFF in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN):
            raise IndexFileError(path, None, f"could not write the document store ({err}); check the folder's free "
                                             "space and permissions, then run the same command again") from None
        raise IndexFileError(path, None, f"damaged document store ({err}); {hint}") from None


class DocWriter:
    """Build-time access: append one shard's documents and mark the shard finished in one transaction."""

    def __init__(self, path: str | os.PathLike, hint: str = GENERIC_HINT):
        self.path = Path(path)
        self.hint = hint
        self.con = sqlite3.connect(self.path)
        try:
            with named_errors(self.path, hint):
                self.con.execute("PRAGMA synchronous=FULL")
                self.con.executescript(SCHEMA)
                self.con.commit()
        except BaseException:
            self.con.close()
            raise

    def finished_shards(self) -> list[tuple[int, int, int]]:
        with named_errors(self.path, self.hint):
            return list(self.con.execute("SELECT shard, start, count FROM shards ORDER BY shard"))

    def checksums(self) -> dict[int, str]:
        with named_errors(self.path, self.hint):
            return shard_checksums(self.con)

    def documents(self, start: int, stop: int) -> list[tuple[str, str, str, str]]:
        """``(id, title, text, language)`` of rows ``start..stop-1``: what a resume compares with the corpus."""
        with named_errors(self.path, self.hint):
            rows = self.con.execute(
                "SELECT id, title, text, language FROM docs WHERE row >= ? AND row < ? ORDER BY row",
                (start, stop),
            )
            return [tuple(row) for row in rows]  # type: ignore[misc]

    def truncate(self, shard: int, start: int) -> None:
        """Forget shard ``shard`` onwards (used when an unfinished tail must be redone)."""
        with named_errors(self.path, self.hint), self.con:
            self.con.execute("DELETE FROM shards WHERE shard >= ?", (shard,))
            self.con.execute("DELETE FROM shard_files WHERE shard >= ?", (shard,))
            self.con.execute("DELETE FROM docs WHERE row >= ?", (start,))

    def add_shard(self, shard: int, start: int, docs: Sequence[Document], sha256: str) -> None:
        """Record shard ``shard`` (its documents and its file's checksum) as finished, in one transaction."""
        rows = [(start + i, d.id, d.title, d.text, d.language) for i, d in enumerate(docs)]
        with named_errors(self.path, self.hint):  # a full disk: one line; the transaction rolls back
            try:
                with self.con:
                    self.con.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?)", rows)
                    self.con.execute("INSERT INTO shards VALUES (?, ?, ?)", (shard, start, len(docs)))
                    self.con.execute("INSERT INTO shard_files VALUES (?, ?)", (shard, sha256))
            except sqlite3.IntegrityError:
                seen = set()
                for doc in docs:  # name the offending line: within this shard, or against earlier shards
                    if (
                        doc.id in seen
                        or self.con.execute("SELECT 1 FROM docs WHERE id = ?", (doc.id,)).fetchone()
                    ):
                        where, _, line = doc.where.rpartition(":")
                        path, number = (where, int(line)) if line.isdigit() else (doc.where, None)
                        raise DataError(path, number, f"duplicate document id {doc.id!r}") from None
                    seen.add(doc.id)
                raise

    def close(self) -> None:
        self.con.close()


class DocStore:
    """Read-only, thread-safe access for search and serving (one connection per thread)."""

    def __init__(self, path: str | os.PathLike, hint: str = GENERIC_HINT):
        self.path = Path(path)
        self.hint = hint
        if not self.path.is_file():
            raise IndexFileError(self.path, None, f"document store missing; {hint}")
        self._local = threading.local()
        self._languages: dict[str, int] | None = None
        self._language_rows: dict[str, np.ndarray] = {}

    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(readonly_uri(self.path), uri=True, check_same_thread=False)
            self._local.con = con
        return con

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        """All rows of one query; a damaged file is reported here, at whichever read first meets it."""
        with named_errors(self.path, self.hint):
            return self._con().execute(sql, params).fetchall()

    def __len__(self) -> int:
        return int(self._rows("SELECT COUNT(*) FROM docs")[0][0])

    def get(self, rows: Iterable[int]) -> dict[int, tuple[str, str, str, str]]:
        """``row -> (id, title, text, language)`` for the requested rows."""
        wanted = sorted({int(r) for r in rows})
        out: dict[int, tuple[str, str, str, str]] = {}
        for i in range(0, len(wanted), 500):  # stay below SQLite's bound-parameter limit
            chunk = wanted[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for row, *rest in self._rows(
                f"SELECT row, id, title, text, language FROM docs WHERE row IN ({marks})", chunk
            ):
                out[int(row)] = tuple(rest)  # type: ignore[assignment]
        return out

    def languages(self) -> dict[str, int]:
        """Document count per language (``""`` = unknown), computed once."""
        if self._languages is None:
            rows = self._rows("SELECT language, COUNT(*) FROM docs GROUP BY language ORDER BY language")
            self._languages = {lang: int(n) for lang, n in rows}
        return self._languages

    def rows_for_language(self, language: str) -> np.ndarray:
        """Faiss ids of one language, cached (the filter of a language-restricted search)."""
        if language not in self._language_rows:
            rows = self._rows("SELECT row FROM docs WHERE language = ? ORDER BY row", (language,))
            self._language_rows[language] = np.fromiter((r[0] for r in rows), dtype=np.int64)
        return self._language_rows[language]
