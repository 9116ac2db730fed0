"""The document store of an index: SQLite, one row per faiss id (``row``), with id, title, text, language.

Why SQLite and not pickle or one big JSON: it is safe to open (no code runs on load), it gives random
access to the few documents a search returns without loading millions, and its transactions let a build
record "shard N is finished" together with that shard's documents, which is what makes resume exact.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from babelir.data.errors import DataError
from babelir.index.corpus import Document

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
"""


class DocWriter:
    """Build-time access: append one shard's documents and mark the shard finished in one transaction."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.con = sqlite3.connect(self.path)
        self.con.execute("PRAGMA synchronous=FULL")
        self.con.executescript(SCHEMA)
        self.con.commit()

    def finished_shards(self) -> list[tuple[int, int, int]]:
        return list(self.con.execute("SELECT shard, start, count FROM shards ORDER BY shard"))

    def truncate(self, shard: int, start: int) -> None:
        """Forget shard ``shard`` onwards (used when an unfinished tail must be redone)."""
        with self.con:
            self.con.execute("DELETE FROM shards WHERE shard >= ?", (shard,))
            self.con.execute("DELETE FROM docs WHERE row >= ?", (start,))

    def add_shard(self, shard: int, start: int, docs: Sequence[Document]) -> None:
        rows = [(start + i, d.id, d.title, d.text, d.language) for i, d in enumerate(docs)]
        try:
            with self.con:
                self.con.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?)", rows)
                self.con.execute("INSERT INTO shards VALUES (?, ?, ?)", (shard, start, len(docs)))
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

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: document store missing")
        self._local = threading.local()
        self._languages: dict[str, int] | None = None
        self._language_rows: dict[str, np.ndarray] = {}

    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._local.con = con
        return con

    def __len__(self) -> int:
        return int(self._con().execute("SELECT COUNT(*) FROM docs").fetchone()[0])

    def get(self, rows: Iterable[int]) -> dict[int, tuple[str, str, str, str]]:
        """``row -> (id, title, text, language)`` for the requested rows."""
        wanted = sorted({int(r) for r in rows})
        out: dict[int, tuple[str, str, str, str]] = {}
        for i in range(0, len(wanted), 500):  # stay below SQLite's bound-parameter limit
            chunk = wanted[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for row, *rest in self._con().execute(
                f"SELECT row, id, title, text, language FROM docs WHERE row IN ({marks})", chunk
            ):
                out[int(row)] = tuple(rest)  # type: ignore[assignment]
        return out

    def languages(self) -> dict[str, int]:
        """Document count per language (``""`` = unknown), computed once."""
        if self._languages is None:
            rows = self._con().execute(
                "SELECT language, COUNT(*) FROM docs GROUP BY language ORDER BY language"
            )
            self._languages = {lang: int(n) for lang, n in rows}
        return self._languages

    def rows_for_language(self, language: str) -> np.ndarray:
        """Faiss ids of one language, cached (the filter of a language-restricted search)."""
        if language not in self._language_rows:
            rows = self._con().execute("SELECT row FROM docs WHERE language = ? ORDER BY row", (language,))
            self._language_rows[language] = np.fromiter((r[0] for r in rows), dtype=np.int64)
        return self._language_rows[language]
