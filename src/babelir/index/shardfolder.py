"""Reading one shard folder of a sharded build by contiguous local rows, for ``babelir index merge``.

Why apart from :mod:`babelir.index.shards`: it is the one place a merge reads another build's files, so
the checks that name a damaged shard file or document store (and say how to repair it: re-run that
shard's build, which re-encodes damaged shards) live with the reading, not in the merge arithmetic.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np

from babelir.index.corpus import Document
from babelir.index.layout import DOCS_FILE, MANIFEST, check_shard, shard_path
from babelir.index.store import named_errors, readonly_uri, shard_checksums
from babelir.utils.errors import IndexFileError
from babelir.utils.ownership import file_sha256

REPAIR = "re-run this shard's 'babelir index' command: it re-encodes damaged shards and rebuilds"


class ShardFolder:
    """Contiguous local rows of one shard folder: embeddings (mmap'd ``.npy`` files) and documents."""

    def __init__(self, folder: Path, manifest: dict[str, Any]):
        self.folder = folder
        self.manifest = manifest
        self.count = int(manifest["counts"]["documents"])
        files = [shard_path(folder, i) for i in range(int(manifest["counts"]["shards"]))]
        self.docs = folder / manifest.get("docs", DOCS_FILE)
        self.con = sqlite3.connect(readonly_uri(self.docs), uri=True)
        with named_errors(self.docs, REPAIR):
            checksums = shard_checksums(self.con)
        for number, file in enumerate(files):  # a damaged file is named here, not met as a numpy error
            check_shard(file, REPAIR)
            if number in checksums and file_sha256(file) != checksums[number]:
                raise IndexFileError(file, None, f"altered since it was written (checksum differs); {REPAIR}")
        self.arrays = [np.load(f, mmap_mode="r") for f in files]
        self.starts = np.cumsum([0] + [len(a) for a in self.arrays])
        if self.starts[-1] != self.count:
            problem = f"shard files hold {self.starts[-1]} rows, {MANIFEST} says {self.count}; {REPAIR}"
            raise IndexFileError(folder, None, problem)

    def embeddings(self, start: int, stop: int) -> np.ndarray:
        parts = []
        for array, first in zip(self.arrays, self.starts[:-1], strict=True):
            lo, hi = max(start, first), min(stop, first + len(array))
            if lo < hi:
                parts.append(np.asarray(array[lo - first : hi - first], dtype=np.float32))
        return np.concatenate(parts) if parts else np.zeros((0, self.arrays[0].shape[1]), np.float32)

    def documents(self, start: int, stop: int) -> list[Document]:
        with named_errors(self.docs, REPAIR):
            rows = self.con.execute(
                "SELECT row, id, title, text, language FROM docs WHERE row >= ? AND row < ? ORDER BY row",
                (start, stop),
            ).fetchall()
        if len(rows) != stop - start:
            raise IndexFileError(self.docs, None, f"lacks rows {start}..{stop - 1}; {REPAIR}")
        where = str(self.docs)
        return [Document(i, text, title, lang, f"{where}:{row}") for row, i, title, text, lang in rows]

    def close(self) -> None:
        self.con.close()
