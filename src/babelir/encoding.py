"""Load any supported model and encode queries or documents with the prompts it expects.

Model directories saved by babelir carry their prompts in ``config_sentence_transformers.json``
(``query: `` / ``passage: `` for e5 backbones), so ``SentenceTransformer.encode_query`` and
``encode_document`` do the right thing anywhere; this module adds length-sorted batching.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

Role = Literal["query", "document"]


def load_model(name_or_path: str, device: str | None = None):
    """A ``SentenceTransformer`` for a backbone name (``me5-small``, ``tiny``) or a model directory."""
    from sentence_transformers import SentenceTransformer

    from babelir.backbones import resolve_backbone

    path = resolve_backbone(name_or_path)
    # sentence-transformers 6.0.1 crashes on pathlib.Path model names: always pass a str
    return SentenceTransformer(str(path), device=device or "cpu")


def prompt_for(model, role: Role) -> str | None:
    prompts = getattr(model, "prompts", None) or {}
    return prompts.get(role) or None


@torch.inference_mode()
def encode(
    model,
    texts: list[str],
    role: Role = "document",
    batch_size: int = 32,
    show_progress: bool = False,
    normalize: bool = True,
) -> np.ndarray:
    """Encode ``texts`` as queries or documents; returns float32 ``(n, dim)``, L2-normalised by default.

    sentence-transformers already sorts each call's texts by length, so padding stays small.
    """
    if not texts:
        dim = model.get_sentence_embedding_dimension()
        return np.zeros((0, dim), dtype=np.float32)
    emb = model.encode(
        list(texts),
        prompt=prompt_for(model, role),
        batch_size=batch_size,
        show_progress_bar=show_progress,
        convert_to_numpy=True,
        normalize_embeddings=normalize,
    )
    return np.asarray(emb, dtype=np.float32)
