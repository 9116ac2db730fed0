"""Load a model by backbone name or directory, on PyTorch or on the ONNX Runtime fast path.

This is the one loader every command uses (train, evaluate, encode, index, search, serve), so it is
also the one place where a damaged model folder becomes a :class:`~babelir.utils.errors.ModelError`
naming the folder (or the damaged file) and what to do, instead of a safetensors, JSON or torch
traceback from deep inside sentence-transformers.
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
from pathlib import Path
from typing import Any, Literal

from babelir.utils.errors import BabelirError, ModelError

Backend = Literal["torch", "torch-bf16", "onnx", "onnx-int8"]
BACKENDS: tuple[str, ...] = ("torch", "torch-bf16", "onnx", "onnx-int8")
BACKEND_HELP = ("torch (fp32), torch-bf16 (a GPU or a CPU with native bf16), onnx (fp32, fused) or onnx-int8 "
                "(dynamic int8); speed: reports/performance.md")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def load_model(name_or_path: str | os.PathLike, device: str | None = None, backend: Backend = "torch") -> Any:
    """A ``SentenceTransformer`` for a backbone name (``me5-small``, ``tiny``) or a model directory.

    ``device``: ``auto`` (default; a CUDA GPU when torch sees one), ``cpu``, ``cuda`` or ``cuda:N``
    (:func:`babelir.utils.devices.resolve_device`).

    ``backend="torch-bf16"``: the same model with bfloat16 weights (a GPU, or a CPU with native bf16:
    avx512_bf16 or AMX; elsewhere bf16 is emulated and slower; ``benchmarks/encode_speed.py`` measures
    it beside fp32 and int8); embeddings are still returned as float32, normalised in float32.
    ``backend="onnx"`` / ``"onnx-int8"`` return an :class:`~babelir.encoding.onnx.OnnxEncoder` (CPU only)
    that :func:`~babelir.encoding.encode` accepts in place of the ``SentenceTransformer``; the first call
    exports and caches the ONNX model. An unknown name, a folder that is not a model and damaged model
    files raise :class:`~babelir.utils.errors.ModelError` (a ``ValueError``).
    """
    from babelir.backbones import resolve_backbone
    from babelir.utils.devices import resolve_device
    from babelir.utils.verbosity import tame_third_party

    if backend not in BACKENDS:
        raise ModelError(None, None, f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    path = resolve_backbone(name_or_path)  # BackboneError (a ModelError) for unknown names and non-models
    from safetensors import SafetensorError

    importlib.import_module("transformers.utils.logging")  # imported here so that it is tamed now:
    # babelir's backbones have no pooler (mean pooling): transformers' "pooler MISSING" report and its
    # "Loading weights" bar are noise unless --verbose
    tame_third_party()
    try:
        refuse_non_finite_weights(path)  # before any backend: a diverged run's NaN model encodes only NaN
        if backend.startswith("onnx"):
            from babelir.encoding.onnx import OnnxEncoder

            return OnnxEncoder.from_model_dir(path, quantized=backend == "onnx-int8")
        from sentence_transformers import SentenceTransformer

        # sentence-transformers 6.0.1 crashes on pathlib.Path model names: always pass a str
        model = SentenceTransformer(str(path), device=resolve_device(device))
        if backend == "torch-bf16":
            import torch

            model.to(torch.bfloat16)
        return model
    except BabelirError:
        raise
    except (SafetensorError, OSError, ValueError, KeyError, RuntimeError, EOFError, pickle.UnpicklingError) as err:
        raise _model_error(path, str(name_or_path), err) from err


_FINITE: set[tuple[str, int, int]] = set()  # weight files found finite, by path, size and mtime


def refuse_non_finite_weights(path: Path) -> None:
    """A :class:`ModelError` naming the weights file and tensor when a model folder holds NaN or infinite
    weights (a run that diverged before babelir stopped such runs); each file is checked once per process
    while unchanged (me5-small: ~0.3 s)."""
    import torch
    from safetensors import safe_open

    for file in sorted(Path(path).rglob("*.safetensors")):
        stat = file.stat()
        memo = (str(file.resolve()), stat.st_size, stat.st_mtime_ns)
        if memo in _FINITE:
            continue
        with safe_open(str(file), framework="pt") as weights:
            for name in weights.keys():  # noqa: SIM118 (safe_open is not a mapping)
                tensor = weights.get_tensor(name)
                if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                    raise ModelError(file, None, f"tensor {name!r} holds NaN or infinite values: the run that wrote "
                                     "this model diverged; train it again (lower learning_rate or loss weights)")
        _FINITE.add(memo)


def _model_error(path: Path, given: str, err: Exception) -> ModelError:
    """Name the file that is most likely damaged (the weights for a safetensors/torch error, a missing
    ``config.json``), the library's reason, and the way out."""
    from safetensors import SafetensorError

    reason = " ".join(str(err).split()) or type(err).__name__
    if path.resolve().is_relative_to(_backbone_cache().resolve()):
        fix = f"this cached backbone is damaged: delete {path} and babelir rebuilds it from its package"
    else:
        fix = (f"copy the model folder again or retrain it with 'babelir train' (or use a backbone name "
               f"such as tiny or me5-small instead of {given!r})")
    weights = next((path / name for name in WEIGHT_FILES if (path / name).is_file()), None)
    if isinstance(err, SafetensorError | EOFError | pickle.UnpicklingError) and weights is not None:
        return ModelError(weights, None, f"damaged model weights ({reason}); {fix}")
    if not (path / "config.json").is_file():
        return ModelError(path / "config.json", None, f"missing, so the model cannot be loaded ({reason}); {fix}")
    broken = _broken_json(path)
    if broken is not None:
        return ModelError(broken, None, f"damaged JSON file of the model folder ({reason}); {fix}")
    return ModelError(path, None, f"cannot be loaded as a model ({reason}); {fix}")


def _broken_json(folder: Path) -> Path | None:
    """The first JSON file of the model folder (or of its module sub-folders) that does not parse:
    sentence-transformers and transformers report a bad one without always naming it."""
    for candidate in sorted([*folder.glob("*.json"), *folder.glob("*/*.json")]):
        try:
            json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return candidate
    return None


def _backbone_cache() -> Path:
    from babelir.utils.cache import cache_root

    return cache_root() / "backbones"
