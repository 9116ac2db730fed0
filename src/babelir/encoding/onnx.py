"""The fast CPU path: an ONNX Runtime export of a model, graph-fused and (for int8) dynamically quantised.

``load_model(name, backend="onnx")`` or ``backend="onnx-int8"`` returns an :class:`OnnxEncoder` with the
same ``encode`` interface as a ``SentenceTransformer``. The model is exported once with ``torch.onnx``,
graph-fused by ONNX Runtime's transformer optimizer and (for ``onnx-int8``) dynamically quantised to
int8 weights; the result is cached under ``cache_dir("onnx", <hash of the model and versions>)``, keyed
by :func:`babelir.identity.model_fingerprint`, so a changed model never reuses a stale export. Why: on
the project's AVX2-only CPUs plain PyTorch fp32 is already near the matmul ceiling, and int8 GEMMs in
ONNX Runtime are the kernel that really pays there. ``onnxruntime`` and ``onnx`` are optional
dependencies, imported lazily.

This path is babelir's own rather than sentence-transformers' ONNX backend (``SentenceTransformer(...,
backend="onnx")``) because that backend cannot be installed beside babelir: it needs ``optimum-onnx``,
whose every release requires ``transformers<4.58``, while sentence-transformers 6 and babelir need
transformers 5 (``pip install --dry-run "sentence-transformers[onnx]==6.2.0" -c constraints.txt``
stops with that conflict). Its figures: ``reports/performance.md``, section 1 (int8 3.1x the
throughput of ``SentenceTransformer.encode`` on one thread, nDCG@10 within +0.29 points), and a test
that its embeddings agree with PyTorch's. Exporting needs torch; this module imports it only there, so
loading an export (:class:`OnnxEncoder`) needs onnxruntime, tokenizers and numpy (the ``babelir.encoding``
package around it still loads torch for its other backends).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from babelir.identity import model_fingerprint

ONNX_FORMAT = 1  # bump when the export recipe changes, so caches made by an older recipe are not reused
ONNX_OPSET = 17


def _pooling_of(model) -> str:
    """The pooling a SentenceTransformer applies (only ``mean`` and ``cls`` are reproduced in ONNX)."""
    from sentence_transformers.models import Pooling

    for module in model:
        if isinstance(module, Pooling):
            mode = module.get_config_dict().get("pooling_mode", "mean")
            if mode not in ("mean", "cls"):
                raise ValueError(f"pooling {mode!r} is not supported by the ONNX backend (mean or cls)")
            return mode
    raise ValueError("the model has no Pooling module; the ONNX backend needs one")


def export_onnx(model_dir: str | os.PathLike, out_dir: str | os.PathLike, quantize: bool = True) -> Path:
    """Export a SentenceTransformer directory to ``out_dir``: ``model.onnx`` (fp32, fused) and
    ``model-int8.onnx`` (dynamic int8), plus ``tokenizer.json`` and ``encoder.json`` (pooling, prompts,
    max length), so that loading needs neither torch nor transformers.

    The transformer body is exported with the TorchScript exporter (``dynamo=False``): its graph matches
    the patterns of ONNX Runtime's BERT fusions (Attention, SkipLayerNorm, Gelu), which the int8 path
    needs to quantise the attention projections too.
    """
    import torch
    from onnxruntime.transformers.optimizer import optimize_model
    from sentence_transformers import SentenceTransformer

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    st = SentenceTransformer(str(model_dir), device="cpu")
    pooling = _pooling_of(st)
    hf = st[0].auto_model
    # models without set_attn_implementation export as they are
    with contextlib.suppress(Exception):
        hf.set_attn_implementation("eager")  # sdpa is exported as a graph the BERT fusion does not match
    hf.eval()

    class _Body(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    sample = st.tokenizer(["a short sample text", "another one"], padding=True, return_tensors="pt")
    raw = out_dir / "model-raw.onnx"
    with torch.inference_mode():
        torch.onnx.export(
            _Body(hf),
            (sample["input_ids"], sample["attention_mask"]),
            str(raw),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "seq"},
                "attention_mask": {0: "batch", 1: "seq"},
                "last_hidden_state": {0: "batch", 1: "seq"},
            },
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
    cfg = hf.config
    optimized = optimize_model(
        str(raw),
        model_type="bert",
        num_heads=int(getattr(cfg, "num_attention_heads", 0) or 0),
        hidden_size=int(getattr(cfg, "hidden_size", 0) or 0),
        opt_level=1,  # fusions only; level 2+ bakes in hardware-specific layouts
    )
    optimized.save_model_to_file(str(out_dir / "model.onnx"))
    raw.unlink()
    if quantize:
        _quantize(out_dir)
    st.tokenizer.backend_tokenizer.save(str(out_dir / "tokenizer.json"))
    meta = {
        "format": ONNX_FORMAT,
        "pooling": pooling,
        "normalize": any(type(m).__name__ == "Normalize" for m in st),
        "prompts": dict(st.prompts or {}),
        "max_length": int(st.max_seq_length or 512),
        "dimension": int(st.get_embedding_dimension()),
        "pad_token_id": int(st.tokenizer.pad_token_id or 0),
        "source": str(model_dir),
        "torch": torch.__version__,
    }
    (out_dir / "encoder.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return out_dir


def _quantize(out_dir: Path) -> None:
    """``out_dir/model.onnx`` -> ``out_dir/model-int8.onnx``: int8 weights, uint8 activations (dynamic:
    per-batch activation scales, no calibration data needed); per-channel scales keep the small-norm
    rows of the projections accurate."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic's "consider pre-processing" advice is for CNNs
    try:
        quantize_dynamic(
            str(out_dir / "model.onnx"),
            str(out_dir / "model-int8.onnx"),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Attention"],
            # fused com.microsoft ops defeat ONNX shape inference; their outputs are float32
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)


def onnx_cache_for(model_dir: str | os.PathLike) -> Path:
    """The cached export of ``model_dir`` (created on first use), keyed by the model's content hash."""
    import torch

    from babelir.utils.extras import require

    require("onnx", "onnx")
    onnxruntime = require("onnxruntime", "onnx")

    from babelir.utils.atomic import atomic_directory
    from babelir.utils.cache import cache_dir, content_hash

    key = content_hash(
        {
            "model": model_fingerprint(model_dir),
            "format": ONNX_FORMAT,
            "opset": ONNX_OPSET,
            "torch": torch.__version__,
            "onnxruntime": onnxruntime.__version__,
        }
    )
    target = cache_dir("onnx") / key
    if (target / "encoder.json").is_file() and (target / "model-int8.onnx").is_file():
        return target
    with atomic_directory(target, keep_existing=True) as tmp:  # keyed by content: first finished wins
        export_onnx(model_dir, tmp, quantize=True)
    return target


def _default_threads() -> int:
    """torch's intra-op thread count when torch is loaded (what the torch backend uses), else the CPUs
    this process may run on: loading an export does not import torch."""
    import sys

    if "torch" in sys.modules:
        return sys.modules["torch"].get_num_threads()
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class OnnxEncoder:
    """A SentenceTransformer-compatible encoder running on ONNX Runtime (CPU).

    Texts are tokenised with the model's own ``tokenizer.json``, sorted by token length and cut into
    batches of similar length, so padding (wasted FLOPs) stays near zero; pooling and normalisation are
    done in numpy exactly as the SentenceTransformer modules do.
    """

    def __init__(self, export_dir: str | os.PathLike, quantized: bool = True, threads: int | None = None):
        from tokenizers import Tokenizer

        from babelir.utils.extras import require

        ort = require("onnxruntime", "onnx")

        self.export_dir = Path(export_dir)
        self.meta = json.loads((self.export_dir / "encoder.json").read_text(encoding="utf-8"))
        self.quantized = quantized
        self.prompts: dict[str, str] = dict(self.meta.get("prompts") or {})
        self.max_seq_length = int(self.meta["max_length"])
        self.tokenizer = Tokenizer.from_file(str(self.export_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_seq_length)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or _default_threads()
        options.inter_op_num_threads = 1
        # idle worker threads sleep instead of spinning: on a machine shared with other jobs spinning
        # threads fight the busy ones for cores (measured: int8 2-thread throughput 1.35x -> see
        # reports/performance.md); on an idle dedicated machine the cost is a few percent at most
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        name = "model-int8.onnx" if quantized else "model.onnx"
        self.session = ort.InferenceSession(
            str(self.export_dir / name), sess_options=options, providers=["CPUExecutionProvider"]
        )

    @classmethod
    def from_model_dir(cls, model_dir: str | os.PathLike, quantized: bool = True) -> OnnxEncoder:
        return cls(onnx_cache_for(model_dir), quantized=quantized)

    def get_sentence_embedding_dimension(self) -> int:
        return int(self.meta["dimension"])

    def _batches(self, lengths: Sequence[int], batch_size: int, max_tokens: int) -> Iterator[list[int]]:
        """Indices sorted by length (longest first, so memory peaks early), cut by count and tokens."""
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
        batch: list[int] = []
        for i in order:
            width = lengths[batch[0]] if batch else lengths[i]
            if batch and (len(batch) >= batch_size or width * (len(batch) + 1) > max_tokens):
                yield batch
                batch = []
            batch.append(i)
        if batch:
            yield batch

    def encode(
        self,
        sentences: Sequence[str],
        prompt: str | None = None,
        batch_size: int = 32,
        show_progress_bar: bool = False,
        convert_to_numpy: bool = True,
        normalize_embeddings: bool = False,
        max_batch_tokens: int = 16384,
        **_: Any,
    ) -> np.ndarray:
        """Same contract as ``SentenceTransformer.encode`` for what babelir uses: float32 ``(n, dim)``."""
        texts = [(prompt or "") + t for t in sentences]
        out = np.zeros((len(texts), self.get_sentence_embedding_dimension()), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(texts)
        lengths = [len(e.ids) for e in encodings]
        pad = int(self.meta.get("pad_token_id", 0))
        for batch in self._batches(lengths, batch_size, max_batch_tokens):
            width = max(lengths[i] for i in batch)
            ids = np.full((len(batch), width), pad, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                ids[row, : lengths[i]] = encodings[i].ids
                mask[row, : lengths[i]] = 1
            (hidden,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
            if self.meta["pooling"] == "cls":
                pooled = hidden[:, 0]
            else:
                weights = mask[:, :, None].astype(np.float32)
                pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            out[batch] = pooled
        if normalize_embeddings or self.meta.get("normalize"):
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out
