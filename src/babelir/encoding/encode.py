"""Texts -> embeddings with the prompt of their role (query or document)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from babelir.identity import Role, check_role, check_texts, prompt_for
from babelir.utils.errors import check_count


@torch.inference_mode()
def encode(
    model: Any,
    texts: list[str],
    role: Role = "document",
    batch_size: int = 32,
    show_progress: bool = False,
    normalize: bool = True,
) -> np.ndarray:
    """Encode ``texts`` as queries or documents; returns float32 ``(n, dim)``, L2-normalised by default.

    ``model`` is a ``SentenceTransformer`` or an :class:`~babelir.encoding.onnx.OnnxEncoder`.
    sentence-transformers already sorts each call's texts by length, so padding stays small. A single
    string, an unknown ``role`` or a ``batch_size`` below 1 is a TypeError/ValueError saying what to pass.
    """
    texts = check_texts(texts)
    check_role(role)
    check_count("batch_size", batch_size)
    if not texts:
        return np.zeros((0, embedding_dimension(model)), dtype=np.float32)
    reduced = _reduced_precision(model)  # bf16 weights: normalise here, in float32, not in bf16
    emb = model.encode(
        list(texts),
        prompt=prompt_for(model, role),
        batch_size=batch_size,
        show_progress_bar=show_progress,
        convert_to_numpy=True,
        normalize_embeddings=normalize and not reduced,
    )
    emb = np.asarray(emb, dtype=np.float32)
    if normalize and reduced:
        emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    return emb


def _reduced_precision(model: Any) -> bool:
    """Whether a torch model computes in less than float32 (``load_model(..., backend="torch-bf16")``)."""
    dtype = getattr(model, "dtype", None)
    return dtype is not None and str(dtype) in ("torch.bfloat16", "torch.float16")


def embedding_dimension(model: Any) -> int | None:
    """The embedding size under either name sentence-transformers has used for the method (the old one
    warns since the rename; babelir's ONNX encoder has the old one)."""
    method = getattr(model, "get_embedding_dimension", None) or getattr(model, "get_sentence_embedding_dimension", None)
    return method() if method else None
