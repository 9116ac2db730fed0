"""Sharded encoding over many machines, checking a set of shards, and searching them without merging
(the merge itself: :mod:`babelir.index.merge`).

``babelir index MODEL CORPUS OUT_i --shard-id i --shard-count n`` encodes every n-th document of the
corpus (documents ``i, i + n, i + 2n, ...``) into its own complete index folder; ``babelir index merge
OUT_0 ... OUT_{n-1} OUT`` interleaves the shards back into corpus order and builds one faiss index.

Why every n-th document rather than contiguous ranges: a shard can be chosen while streaming, without a
first pass to count the corpus (a 100M-line file or a BEIR folder), document lengths (hence encoding
time) are spread evenly over the machines, and the mapping back is arithmetic (``row = local * n + i``).
Why interleave back into corpus order: the merged folder then holds the same rows, in the same order, as
``babelir index`` on one machine (same ids, same IVF-PQ training sample, same HNSW insertion order), so it
returns the same results; it is also an ordinary resumable index folder (``--index-type`` can be changed
later by re-running ``babelir index`` on it without encoding again).

Every shard records the content hash of the *whole* corpus (each shard reads every document and keeps
its own), so a merge refuses shards of different corpora, models or shard counts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from babelir.data.errors import DataError
from babelir.index.layout import (
    read_manifest,
)
from babelir.index.search import Hit, Index

T = TypeVar("T")
Found = tuple["ShardSpec", Path, dict[str, Any]]  # a shard folder's spec, path and manifest
Say = Callable[[str], None]


@dataclass(frozen=True)
class ShardSpec:
    """Shard ``shard_id`` of ``shard_count``: the documents at stream positions ``p % count == id``."""

    shard_id: int
    shard_count: int

    def __post_init__(self) -> None:
        if self.shard_count < 1 or not 0 <= self.shard_id < self.shard_count:
            raise DataError(
                None,
                None,
                f"--shard-id must be in 0..{self.shard_count - 1} and --shard-count at least 1 "
                f"(got {self.shard_id} of {self.shard_count})"
            )

    def select(self, items: Iterable[T]) -> Iterator[T]:
        """This shard's items; the others are still read (they feed the whole-corpus hash)."""
        for position, item in enumerate(items):
            if position % self.shard_count == self.shard_id:
                yield item

    def to_dict(self) -> dict[str, int]:
        return {"id": self.shard_id, "count": self.shard_count}

    def global_row(self, local_row: int | np.ndarray) -> int | np.ndarray:
        """Row of this shard's ``local_row`` in the single-machine (and merged) index."""
        return local_row * self.shard_count + self.shard_id


def shard_size_of(total: int, shard: ShardSpec) -> int:
    """Documents that shard ``shard`` holds out of ``total``."""
    return max(0, (total - shard.shard_id + shard.shard_count - 1) // shard.shard_count)


def check_shards(folders: Sequence[Path]) -> list[Found]:
    """Manifests of ``folders`` sorted by shard id, after checking they are one complete set.

    Same model files, same corpus content, same shard count and every shard id exactly once: anything
    else would merge into an index that silently misses or mixes documents.
    """
    found = []
    for folder in folders:
        manifest = read_manifest(folder, "not a finished shard (re-run its 'babelir index' command)")
        shard = manifest.get("shard")
        if not shard:
            raise DataError(folder, None, "not a shard: build it with --shard-id/--shard-count")
        found.append((ShardSpec(int(shard["id"]), int(shard["count"])), folder, manifest))
    found.sort(key=lambda item: item[0].shard_id)
    count = found[0][0].shard_count
    first = found[0][2]
    for spec, folder, manifest in found:
        if spec.shard_count != count:
            raise DataError(folder, None, f"shard of {spec.shard_count}, the others are of {count}")
        if manifest["model"].get("sha256") != first["model"].get("sha256"):
            raise DataError(
                folder,
                None,
                f"encoded with another model than shard {found[0][0].shard_id} ({first['model']['name']})",
            )
        if manifest["corpus"].get("sha256") != first["corpus"].get("sha256"):
            raise DataError(folder, None, "built from another corpus (content hash differs)")
        if manifest["counts"]["dimension"] != first["counts"]["dimension"]:
            raise DataError(folder, None, "embedding dimension differs from the other shards")
    ids = [spec.shard_id for spec, _, _ in found]
    if ids != list(range(count)):
        missing = sorted(set(range(count)) - set(ids))
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise DataError(
            found[0][1].parent,
            None,
            f"need shards 0..{count - 1} once each; missing {missing}, repeated {twice}",
        )
    total = sum(int(m["counts"]["documents"]) for _, _, m in found)
    for spec, folder, manifest in found:
        if int(manifest["counts"]["documents"]) != shard_size_of(total, spec):
            raise DataError(
                folder,
                None,
                f"holds {manifest['counts']['documents']} documents, expected "
                f"{shard_size_of(total, spec)} of {total}",
            )
    return found


# ------------------------------------------------------------------ searching shards without merging
class ShardedIndex:
    """Search a complete set of shard folders as one index, without merging them.

    Each shard is searched for the top ``k`` (in threads: faiss releases the GIL) and the ``n * k``
    candidates are merged by score, which is what ``faiss.IndexShards`` does; it is done here in numpy
    because each shard needs its own search parameters (a language filter is a bitmap over *its* rows).
    For exact (flat) shards the result equals the one-machine index; for HNSW / IVF-PQ shards each shard
    is an approximate search of its own, so recall is at least that of one index of the same settings.
    Rows are reported as one-machine rows (``local * n + shard``).
    """

    def __init__(self, shards: list[Index], specs: list[ShardSpec]):
        self.shards = shards
        self.specs = specs

    @classmethod
    def load(
        cls,
        folders: Sequence[str | os.PathLike],
        model: str | None = None,
        backend: str = "torch",
        model_obj: Any = None,
    ) -> ShardedIndex:
        found = check_shards([Path(f) for f in folders])
        shards = [
            Index.load(folder, model=model, backend=backend, model_obj=model_obj) for _, folder, _ in found
        ]
        return cls(shards, [spec for spec, _, _ in found])

    def __len__(self) -> int:
        return sum(len(s) for s in self.shards)

    def search_vectors(
        self, vectors: np.ndarray, k: int = 10, language: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, rows)`` over all shards, best first; rows ``-1`` where fewer than ``k`` qualify."""
        with ThreadPoolExecutor(max_workers=len(self.shards)) as pool:
            parts = list(pool.map(lambda s: s.search_vectors(vectors, k, language), self.shards))
        scores = np.concatenate([p[0] for p in parts], axis=1)
        rows = np.concatenate(
            [
                np.where(p[1] >= 0, spec.global_row(p[1]), -1)
                for p, spec in zip(parts, self.specs, strict=True)
            ],
            axis=1,
        )
        scores = np.where(rows >= 0, scores, -np.inf)
        # best score first; equal scores by row, as one exact index would order them
        order = np.lexsort((rows, -scores), axis=1)[:, :k]
        return np.take_along_axis(scores, order, 1), np.take_along_axis(rows, order, 1)

    def search(self, texts: list[str], k: int = 10, language: str | None = None) -> list[list[Hit]]:
        """Top ``k`` hits per query text, across all shards."""
        vectors = self.shards[0].encode_queries(list(texts))
        scores, rows = self.search_vectors(vectors, k, language)
        count = self.specs[0].shard_count
        out = []
        for srow, rrow in zip(scores, rows, strict=True):
            wanted = [(int(r) % count, int(r) // count) for r in rrow if r >= 0]
            docs: dict[tuple[int, int], tuple[str, str, str, str]] = {}
            for shard in {s for s, _ in wanted}:
                local = self.shards[shard].store.get(row for s, row in wanted if s == shard)
                docs.update({(shard, row): doc for row, doc in local.items()})
            hits = []
            for score, key in zip(srow, wanted, strict=False):
                doc_id, title, text, lang = docs[key]
                hits.append(Hit(doc_id, float(score), len(hits) + 1, text, title, lang))
            out.append(hits)
        return out
