"""On-disk embedding cache keyed by (model fingerprint, role, text).

Why per text rather than per corpus: the benchmarks overlap heavily. The pooled benchmark's corpus is
the union of the per-language corpora, and bitext retrieval reads the same verses again, so a per-text
cache encodes each verse once per model and role however many benchmarks use it; a second evaluation of
the same model encodes nothing at all.

Layout: ``<root>/<fingerprint>/<role>/<shard>.emb.npy`` (float32 rows, memory-mapped on read) and
``<shard>.keys.npy`` (sha256 of each text). Shards are written atomically, embeddings first and keys
last, and never modified, so concurrent or interrupted evaluations leave only complete shards behind
(an interrupted run resumes from the shards it flushed).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from babelir.utils.atomic import atomic_open
from babelir.utils.cache import cache_dir

KEY_CHARS = 32  # hex characters of sha256 kept per text (128 bits: collisions are not a concern)
FLUSH_EVERY = 2048  # texts per shard while encoding, so an interrupted run keeps most of its work


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:KEY_CHARS]


def default_root() -> Path:
    return cache_dir("embeddings")


@dataclass
class CacheStats:
    """What one encoding call did: ``encoded`` texts went through the model, ``cached`` did not."""

    requested: int = 0
    unique: int = 0
    cached: int = 0
    encoded: int = 0
    seconds: float = 0.0

    def add(self, other: CacheStats) -> None:
        self.requested += other.requested
        self.unique += other.unique
        self.cached += other.cached
        self.encoded += other.encoded
        self.seconds += other.seconds


class EmbeddingCache:
    """Embeddings of one model in one role (``query``, ``document`` or ``any`` for role-free models)."""

    def __init__(self, fingerprint: str, role: str, root: str | os.PathLike | None = None):
        self.dir = Path(root or default_root()) / fingerprint / role
        self._index: dict[str, tuple[int, int]] | None = None
        self._shards: list[Path] = []
        self._arrays: dict[int, np.ndarray] = {}

    def _load_index(self) -> dict[str, tuple[int, int]]:
        """Map every cached text key to (shard number, row); re-read so other writers' shards count."""
        index: dict[str, tuple[int, int]] = {}
        self._shards = []
        self._arrays = {}
        if self.dir.is_dir():
            for keys_file in sorted(self.dir.glob("*.keys.npy")):
                emb_file = keys_file.with_name(keys_file.name[: -len(".keys.npy")] + ".emb.npy")
                if not emb_file.is_file():
                    continue
                keys = np.load(keys_file, allow_pickle=False)
                shard = len(self._shards)
                self._shards.append(emb_file)
                for row, key in enumerate(keys.tolist()):
                    index.setdefault(key, (shard, row))
        self._index = index
        return index

    def __len__(self) -> int:
        return len(self._index if self._index is not None else self._load_index())

    def _array(self, shard: int) -> np.ndarray:
        if shard not in self._arrays:
            self._arrays[shard] = np.load(self._shards[shard], mmap_mode="r", allow_pickle=False)
        return self._arrays[shard]

    def get(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached rows for whichever of ``keys`` are present."""
        index = self._load_index()
        found: dict[str, np.ndarray] = {}
        for key in keys:
            where = index.get(key)
            if where is not None:
                found[key] = np.array(self._array(where[0])[where[1]], dtype=np.float32)
        return found

    def put(self, keys: Sequence[str], emb: np.ndarray) -> None:
        """Write one new shard (atomic; embeddings first, so a shard with keys is always complete)."""
        if not len(keys):
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        name = uuid.uuid4().hex
        with atomic_open(self.dir / f"{name}.emb.npy", "wb") as handle:
            np.save(handle, np.ascontiguousarray(emb, dtype=np.float32), allow_pickle=False)
        with atomic_open(self.dir / f"{name}.keys.npy", "wb") as handle:
            np.save(handle, np.asarray(list(keys), dtype=f"<U{KEY_CHARS}"), allow_pickle=False)
        self._index = None


EncodeFn = Callable[[list[str]], np.ndarray]


def encode_with_cache(
    texts: Sequence[str],
    encode_fn: EncodeFn,
    cache: EmbeddingCache | None,
    on_missing: Callable[[int], None] | None = None,
    flush_every: int = FLUSH_EVERY,
) -> tuple[np.ndarray, CacheStats]:
    """Embeddings for ``texts`` in order, encoding only texts the cache lacks (each unique text once).

    Texts to encode are sorted by length before batching so batches hold texts of similar length
    (less padding). ``on_missing(n)`` learns how many texts will be encoded before any is (to size a
    progress bar); results are flushed to the cache every ``flush_every`` texts.
    """
    import time

    stats = CacheStats(requested=len(texts))
    keys = [text_key(t) for t in texts]
    unique: dict[str, str] = {}
    for key, text in zip(keys, texts, strict=True):
        unique.setdefault(key, text)
    stats.unique = len(unique)
    found = cache.get(list(unique)) if cache is not None else {}
    stats.cached = len(found)
    missing = [k for k in unique if k not in found]
    missing.sort(key=lambda k: (len(unique[k]), k))
    if on_missing is not None:
        on_missing(len(missing))
    start = time.perf_counter()
    for begin in range(0, len(missing), flush_every):
        chunk = missing[begin : begin + flush_every]
        emb = np.asarray(encode_fn([unique[k] for k in chunk]), dtype=np.float32)
        if emb.shape[0] != len(chunk):
            raise RuntimeError(f"encoder returned {emb.shape[0]} rows for {len(chunk)} texts")
        for key, row in zip(chunk, emb, strict=True):
            found[key] = row
        if cache is not None:
            cache.put(chunk, emb)
    stats.encoded = len(missing)
    stats.seconds = time.perf_counter() - start
    if not texts:
        return np.zeros((0, 0), dtype=np.float32), stats
    return np.stack([found[k] for k in keys]).astype(np.float32, copy=False), stats
