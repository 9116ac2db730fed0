"""Sharded encoding over many machines, and merging the shards into one index.

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

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from babelir.data.errors import DataError
from babelir.encoding.neutral import NeutralSettings
from babelir.index.ann import AnnSettings, build_from_shards, resolved, write_index
from babelir.index.corpus import Document
from babelir.index.folders import build_lock, check_writable, claim
from babelir.index.layout import (
    DOCS_FILE,
    INDEX_FILE,
    MANIFEST,
    SHARDS_DIR,
    index_manifest,
    plan_path,
    read_manifest,
    write_shard,
)
from babelir.index.search import Hit, Index, shared_encoder
from babelir.index.shardfolder import ShardFolder
from babelir.index.store import DocWriter
from babelir.utils.atomic import atomic_directory, atomic_write_json
from babelir.utils.errors import IndexFileError

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


# ------------------------------------------------------------------ merging
def merge_shards(
    folders: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    settings: AnnSettings | None = None,
    chunk_size: int = 10_000,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
    neutral: NeutralSettings | None = None,
    encoding: MergeEncoding | None = None,
) -> dict[str, Any]:
    """Merge shard folders into one index folder at ``out``; returns its manifest.

    Memory stays at one chunk of ``chunk_size`` rows plus the faiss index being built: embeddings are
    read through mmap and written back in corpus order as ordinary shard files of ``chunk_size`` rows.

    ``neutral``: fit the language statistics over the merged rows, as a one-machine ``babelir index``
    fits them (a shard has none of its own). The query side's sample is encoded again, with the model
    the shards were encoded with (``encoding.model``, default the path their plan records; its
    fingerprint must match). Where that model is not on this machine the index is merged without
    statistics, and the manifest and the progress say why.
    """
    say, out = progress or (lambda msg: None), Path(out)
    found = check_shards([Path(f) for f in folders])
    if out.resolve() in {folder.resolve() for _, folder, _ in found}:
        raise DataError(out, None, "is one of the shard folders being merged; choose another OUT")
    with build_lock(out):
        if out.exists():
            if not overwrite:
                raise IndexFileError(out, None, "already exists; pass --overwrite to replace it")
            check_writable(out)  # only an index folder babelir wrote is replaced, once the new one is built
        with atomic_directory(out) as tmp:
            manifest = _merge_into(tmp, found, settings or AnnSettings(), chunk_size, say, neutral,
                                   encoding or MergeEncoding())
    say(f"wrote {out / MANIFEST}")
    return manifest


@dataclass(frozen=True)
class MergeEncoding:
    """How ``index merge`` encodes the query side's sample of the language statistics."""

    model: str | None = None  # None: the model path the shards' plan records
    backend: str = "torch"
    device: str = "auto"
    batch_size: int = 32


def _merge_into(
    tmp: Path, found: list[Found], settings: AnnSettings, chunk_size: int, say: Say,
    neutral: NeutralSettings | None = None, encoding: MergeEncoding | None = None,
) -> dict[str, Any]:
    """Write the merged index folder into the empty folder ``tmp`` (swapped in by the caller)."""
    count = found[0][0].shard_count
    first = found[0][2]
    total = sum(int(m["counts"]["documents"]) for _, _, m in found)
    dim = int(first["counts"]["dimension"])
    readers: list[ShardFolder] = []
    claim(tmp)
    (tmp / SHARDS_DIR).mkdir(parents=True)
    writer = DocWriter(tmp / DOCS_FILE)
    t0 = time.perf_counter()
    try:
        readers.extend(ShardFolder(folder, manifest) for _, folder, manifest in found)
        files = []
        for number, start in enumerate(range(0, total, chunk_size)):
            stop = min(start + chunk_size, total)
            emb = np.empty((stop - start, dim), dtype=np.float32)
            docs: list[Document | None] = [None] * (stop - start)
            for shard, reader in enumerate(readers):
                # global rows g in [start, stop) with g % count == shard are local rows lo..hi of `shard`
                lo = (start - shard + count - 1) // count
                hi = (stop - shard + count - 1) // count
                if lo >= hi:
                    continue
                first_row = lo * count + shard - start
                emb[first_row::count][: hi - lo] = reader.embeddings(lo, hi)
                for k, doc in enumerate(reader.documents(lo, hi)):
                    docs[first_row + k * count] = doc
            file, sha256 = write_shard(tmp, number, emb)
            files.append(file)
            writer.add_shard(number, start, docs, sha256)  # type: ignore[arg-type]
            say(f"merged rows {start}..{stop - 1} of {total}")
    finally:
        writer.close()
        for reader in readers:
            reader.close()
    final = resolved(settings, total, dim)
    say(f"building {final.index_type} index over {total} vectors of dimension {dim}")
    t1 = time.perf_counter()
    write_index(build_from_shards(final, files, total, dim), tmp / INDEX_FILE)
    plan = _merged_plan(found, chunk_size)
    seconds = {"merge": round(t1 - t0, 3), "index": round(time.perf_counter() - t1, 3)}
    statistics = None
    if neutral is not None:
        statistics = _fit_merged(tmp, plan, neutral, final, len(files), total, encoding or MergeEncoding(), say)
        if statistics.get("file"):
            seconds["neutralization"] = statistics["seconds"]
    # build.json as a one-machine build writes it: re-running `babelir index` on the merged folder with
    # another --index-type (and --shard-size equal to chunk_size) rebuilds only the faiss index
    atomic_write_json(plan_path(tmp), plan)
    manifest = index_manifest(
        plan,
        corpus_sha256=first["corpus"]["sha256"],
        settings=final,
        documents=total,
        shards=len(files),
        dimension=dim,
        build_seconds=seconds,
        merged_from=[{"folder": str(folder), **spec.to_dict()} for spec, folder, _ in found],
        neutralization=statistics,
    )
    atomic_write_json(tmp / MANIFEST, manifest)
    return manifest


def _fit_merged(
    folder: Path, plan: dict[str, Any], neutral: NeutralSettings, ann: AnnSettings, shards: int, rows: int,
    encoding: MergeEncoding, say: Say,
) -> dict[str, Any]:
    """The merged index's language statistics (its manifest entry), fitted as a one-machine build fits them."""
    from babelir.identity import model_fingerprint
    from babelir.index.neutral import fit_index_neutralizer, without_neutralization

    recorded = plan.get("model", {})
    path = Path(encoding.model or recorded.get("path", ""))
    if not path.is_dir():
        return without_neutralization(neutral, f"the model the shards were encoded with is not at {path} "
                                      "(give it with --model)", say)
    if recorded.get("sha256") and model_fingerprint(path) != recorded["sha256"]:
        raise DataError(path, None, "is not the model the shards were encoded with (its fingerprint differs); "
                        "give that model with --model, or --neutralization none")

    def encode_sample(texts: list[str], role: str) -> np.ndarray:
        return shared_encoder(str(path), encoding.backend, encoding.device).encode(texts, role, encoding.batch_size)

    return fit_index_neutralizer(folder, neutral, ann, shards, rows, encode_sample, say)


def _merged_plan(found: list[Found], chunk_size: int) -> dict[str, Any]:
    """The build plan of a one-machine build: shard 0's plan without its shard and with the new chunking."""
    folder, manifest = found[0][1], found[0][2]
    plan_file = plan_path(folder)
    if plan_file.is_file():
        plan = json.loads(plan_file.read_text(encoding="utf-8"))
    else:
        keys = ("format", "model", "corpus", "encoding")
        plan = {k: manifest[k] for k in keys}
        plan["corpus"] = {k: v for k, v in plan["corpus"].items() if k != "sha256"}
    plan.pop("shard", None)
    plan["encoding"] = {**plan["encoding"], "shard_size": chunk_size}
    return plan


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
