"""Faiss index construction: exact (Flat), graph (HNSW) or compressed (IVF-PQ), all inner product.

Embeddings are L2-normalised, so inner product = cosine and every index type returns comparable scores.
Choice by size (``auto``; the measurements behind it are in ``reports/performance.md``): exact search
is affordable up to ~100k documents, HNSW up to ~2M (fast and accurate, but ~1.7 kB per 384-d vector),
IVF-PQ beyond (48 bytes per vector, some recall lost to compression). Indexes are written with ``faiss.write_index``: a plain
binary format, never pickle.
"""

from __future__ import annotations

import errno
import numbers
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from babelir.data.errors import DataError
from babelir.utils.errors import IndexFileError

INDEX_TYPES = ("auto", "flat", "hnsw", "ivfpq")
FLAT_MAX = 100_000
HNSW_MAX = 2_000_000


# the smallest value each numeric setting may take (0 for nlist and pq_m: chosen from the data)
ANN_MINIMUMS = {"hnsw_m": 1, "ef_construction": 1, "ef_search": 1, "nlist": 0, "pq_m": 0, "nprobe": 1, "train_size": 1}


def _int_at_least(value: Any, low: int) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low


@dataclass
class AnnSettings:
    """Build and search parameters; stored in the manifest so a loaded index searches as it was tuned."""

    index_type: str = "auto"
    hnsw_m: int = 32
    ef_construction: int = 80
    ef_search: int = 256  # recall against latency: reports/performance.md
    nlist: int = 0  # 0: 4 * sqrt(n), clamped
    pq_m: int = 0  # 0: dim // 8 (48 one-byte codes for 384-d)
    nprobe: int = 32
    train_size: int = 100_000

    def __post_init__(self) -> None:
        # faiss aborts the whole process on an HNSW degree of 0, and efSearch / nprobe 0 silently return
        # fewer hits than asked for: refused here, before anything is built or searched
        bad = [f"{name} must be an integer of at least {low}, got {getattr(self, name)!r}"
               for name, low in ANN_MINIMUMS.items() if not _int_at_least(getattr(self, name), low)]
        if bad:
            raise ValueError("; ".join(bad))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def choose_type(n: int, requested: str = "auto") -> str:
    if requested not in INDEX_TYPES:
        raise ValueError(f"unknown index type {requested!r}; choose from {', '.join(INDEX_TYPES)}")
    if requested != "auto":
        return requested
    if n <= FLAT_MAX:
        return "flat"
    return "hnsw" if n <= HNSW_MAX else "ivfpq"


def resolved(settings: AnnSettings, n: int, dim: int) -> AnnSettings:
    """Fill the size-dependent defaults (index type, nlist, pq_m) for ``n`` vectors of ``dim``."""
    out = AnnSettings(**settings.to_dict())
    out.index_type = choose_type(n, settings.index_type)
    if out.index_type == "ivfpq":
        if n < 1000:
            raise DataError(None, None, f"IVF-PQ needs at least 1000 vectors to train (got {n}); use --index-type flat")
        if out.nlist > n // 39:  # checked here, when n is known: the encoded shards are kept for the rerun
            raise DataError(None, None, f"--nlist {out.nlist} is too many lists for {n:,} vectors (faiss's k-means "
                                        f"wants at least 39 a list): give at most {n // 39:,} or leave it out; "
                                        f"run the same command again: the encoded shards are reused")
        out.nlist = out.nlist or int(min(max(4 * np.sqrt(n), 16), n // 39, 65536))
        # k-means wants ~40 points per centroid; fewer leaves lists unbalanced (faiss warns below 39)
        out.train_size = max(out.train_size, min(n, 40 * out.nlist))
        if not out.pq_m:
            out.pq_m = next(m for m in (dim // 8, dim // 4, dim // 2, dim) if m and dim % m == 0)
        if dim % out.pq_m:
            raise DataError(None, None, f"--pq-m {out.pq_m} must divide the embedding dimension {dim}")
    return out


def new_index(settings: AnnSettings, dim: int) -> faiss.Index:
    kind = settings.index_type
    if kind == "flat":
        return faiss.IndexFlatIP(dim)
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = settings.ef_construction
        index.hnsw.efSearch = settings.ef_search
        return index
    if kind == "ivfpq":
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFPQ(quantizer, dim, settings.nlist, settings.pq_m, 8, faiss.METRIC_INNER_PRODUCT)
        index.nprobe = settings.nprobe
        return index
    raise ValueError(f"unknown index type {kind!r}")


def training_sample(
    shards: Sequence[Path], total: int, size: int, seed: int = 0, transform: Transform | None = None
) -> np.ndarray:
    """A uniform sample of rows across shard files, read through mmap so memory stays ~``size`` rows."""
    rng = np.random.default_rng(seed)
    picks = np.sort(rng.choice(total, size=min(size, total), replace=False))
    sample = read_rows(shards, picks)
    return np.ascontiguousarray(transform(sample, picks) if transform is not None else sample)


def read_rows(shards: Sequence[Path], rows: np.ndarray) -> np.ndarray:
    """The vectors of sorted global ``rows`` across shard files (memory-mapped: only those rows are read)."""
    parts, start = [], 0
    for shard in shards:
        emb = np.load(shard, mmap_mode="r")
        local = rows[(rows >= start) & (rows < start + len(emb))] - start
        if len(local):
            parts.append(np.asarray(emb[local], dtype=np.float32))
        start += len(emb)
    return np.concatenate(parts)


Transform = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (vectors, their global rows) -> vectors


def build_from_shards(
    settings: AnnSettings, shards: Sequence[Path], total: int, dim: int, transform: Transform | None = None
) -> faiss.Index:
    """Train (IVF-PQ) and fill an index shard by shard: only one shard is in memory besides the index.
    ``transform`` changes each shard's vectors first (language neutralization: :mod:`babelir.index.neutral`)."""
    index = new_index(settings, dim)
    if not index.is_trained:
        index.train(training_sample(shards, total, settings.train_size, transform=transform))
    start = 0
    for shard in shards:
        vectors = np.load(shard)
        if transform is not None:
            vectors = transform(vectors, np.arange(start, start + len(vectors)))
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        start += len(vectors)
    return index


def write_index(index: faiss.Index, path: str | os.PathLike) -> None:
    """``faiss.write_index`` to a temporary sibling, then rename: readers never see half an index."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        try:
            faiss.write_index(index, str(tmp))
        except RuntimeError as err:  # faiss reports a failed write (a full disk) as its own RuntimeError
            if "No space left" in str(err):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from None
            first = (str(err).strip().splitlines() or [""])[0]
            raise IndexFileError(path, None, f"faiss could not write the index ({first}); check the folder's free "
                                             f"space and permissions, then run the same command again") from None
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def search_params(
    index: faiss.Index, settings: AnnSettings, selector: faiss.IDSelector | None = None
) -> faiss.SearchParameters:
    """Per-call parameters (efSearch / nprobe and an optional id filter), safe under concurrent searches."""
    if isinstance(index, faiss.IndexHNSW):
        return faiss.SearchParametersHNSW(sel=selector, efSearch=settings.ef_search)
    if isinstance(index, faiss.IndexIVF):
        return faiss.SearchParametersIVF(sel=selector, nprobe=settings.nprobe)
    return faiss.SearchParameters(sel=selector)


class RowFilter:
    """A faiss id filter over a sorted row set (a bitmap: O(1) per test, n/8 bytes)."""

    def __init__(self, rows: np.ndarray, n: int):
        mask = np.zeros(n, dtype=bool)
        mask[rows] = True
        self.bitmap = np.packbits(mask, bitorder="little")  # kept alive: faiss holds a raw pointer
        self.selector = faiss.IDSelectorBitmap(n, faiss.swig_ptr(self.bitmap))
        self.count = int(len(rows))
        self.n = n

    def contains(self, row: int) -> bool:
        """Whether ``row`` is in the set (the bit faiss tests)."""
        return bool(self.bitmap[row >> 3] >> (row & 7) & 1)

    def weights(self) -> np.ndarray:
        """One float per row: 1.0 in the set, 0.0 outside (a BM25 weight mask)."""
        return np.unpackbits(self.bitmap, count=self.n, bitorder="little").astype(np.float32)
