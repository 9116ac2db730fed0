"""The per-text embedding cache: reuse, deduplication, role separation, crash safety."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from babelir.evaluation.retrieval.embeddings import EmbeddingCache, encode_with_cache, text_key


class CountingEncoder:
    """A deterministic fake encoder that records every text it is asked to encode."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        return np.array([[len(t), sum(map(ord, t)) % 97, 1.0] for t in texts], dtype=np.float32)


def test_second_call_encodes_nothing(tmp_path: Path) -> None:
    texts = ["alpha", "beta", "alpha", "gamma delta"]
    enc = CountingEncoder()
    first, stats1 = encode_with_cache(texts, enc, EmbeddingCache("model-a", "document", tmp_path))
    assert sorted(enc.seen) == ["alpha", "beta", "gamma delta"]  # the duplicate is encoded once
    assert (stats1.requested, stats1.unique, stats1.encoded, stats1.cached) == (4, 3, 3, 0)
    enc.seen.clear()
    second, stats2 = encode_with_cache(texts, enc, EmbeddingCache("model-a", "document", tmp_path))
    assert enc.seen == [] and stats2.encoded == 0 and stats2.cached == 3
    np.testing.assert_array_equal(first, second)
    assert np.array_equal(first[0], first[2])


def test_partial_reuse_and_separate_roles_and_models(tmp_path: Path) -> None:
    enc = CountingEncoder()
    encode_with_cache(["a", "b"], enc, EmbeddingCache("m", "query", tmp_path))
    enc.seen.clear()
    encode_with_cache(["b", "c"], enc, EmbeddingCache("m", "query", tmp_path))
    assert enc.seen == ["c"]
    enc.seen.clear()
    encode_with_cache(["b"], enc, EmbeddingCache("m", "document", tmp_path))  # other role: own cache
    encode_with_cache(["b"], enc, EmbeddingCache("other-model", "query", tmp_path))
    assert enc.seen == ["b", "b"]


def test_flushes_in_shards_and_ignores_incomplete_ones(tmp_path: Path) -> None:
    cache = EmbeddingCache("m", "document", tmp_path)
    enc = CountingEncoder()
    encode_with_cache([f"t{i}" for i in range(10)], enc, cache, flush_every=4)
    assert len(list(cache.dir.glob("*.keys.npy"))) == 3
    # an interrupted write leaves embeddings without keys: such a shard must be ignored
    np.save(cache.dir / "broken.emb.npy", np.zeros((1, 3), dtype=np.float32))
    assert len(EmbeddingCache("m", "document", tmp_path)) == 10
    assert text_key("t1") in EmbeddingCache("m", "document", tmp_path).get([text_key("t1")])


def test_no_cache_always_encodes(tmp_path: Path) -> None:
    enc = CountingEncoder()
    encode_with_cache(["x"], enc, None)
    encode_with_cache(["x"], enc, None)
    assert enc.seen == ["x", "x"]
