"""Load a model by backbone name or directory, on PyTorch or on the ONNX Runtime fast path."""

from __future__ import annotations

from typing import Any, Literal

Backend = Literal["torch", "onnx", "onnx-int8"]
BACKENDS: tuple[str, ...] = ("torch", "onnx", "onnx-int8")


def load_model(name_or_path: str, device: str | None = None, backend: Backend = "torch") -> Any:
    """A ``SentenceTransformer`` for a backbone name (``me5-small``, ``tiny``) or a model directory.

    ``backend="onnx"`` / ``"onnx-int8"`` return an :class:`~babelir.encoding.onnx.OnnxEncoder` (CPU only)
    that :func:`~babelir.encoding.encode` accepts in place of the ``SentenceTransformer``; the first call
    exports and caches the ONNX model.
    """
    from transformers.utils import logging as transformers_logging

    from babelir.backbones import resolve_backbone

    path = resolve_backbone(name_or_path)
    # babelir's backbones have no pooler (mean pooling); silence transformers' "pooler MISSING" report
    transformers_logging.set_verbosity_error()
    if backend != "torch":
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
        from babelir.encoding.onnx import OnnxEncoder

        return OnnxEncoder.from_model_dir(path, quantized=backend == "onnx-int8")
    from sentence_transformers import SentenceTransformer

    # sentence-transformers 6.0.1 crashes on pathlib.Path model names: always pass a str
    return SentenceTransformer(str(path), device=device or "cpu")
