"""The ONNX Runtime encoding path (``load_model(..., backend="onnx"|"onnx-int8")``) agrees with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from babelir.encoding import OnnxEncoder, encode, load_model

pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install onnxruntime onnx)")
pytest.importorskip("onnx", reason="onnx is not installed (pip install onnxruntime onnx)")

TEXTS = [
    "The cat sleeps on the warm mat.",
    "Le chat dort sur le tapis chaud, près de la fenêtre ouverte du salon.",
    "Кошка спит.",
    "猫在温暖的垫子上睡觉。",
    "a " * 200,  # longer than most: exercises length-sorted batches and padding
]


@pytest.fixture(scope="module")
def torch_model():
    return load_model("tiny")


@pytest.mark.parametrize(("backend", "min_cos"), [("onnx", 0.9999), ("onnx-int8", 0.98)])
def test_onnx_embeddings_match_torch(torch_model, backend: str, min_cos: float) -> None:
    fast = load_model("tiny", backend=backend)
    assert isinstance(fast, OnnxEncoder) and fast.quantized == (backend == "onnx-int8")
    for role in ("query", "document"):
        ref = encode(torch_model, TEXTS, role)
        got = encode(fast, TEXTS, role, batch_size=2)
        assert got.shape == ref.shape and got.dtype == np.float32
        assert np.all(np.sum(ref * got, axis=1) >= min_cos)


def test_export_is_cached_and_batches_are_length_sorted(torch_model) -> None:
    a = load_model("tiny", backend="onnx-int8")
    b = load_model("tiny", backend="onnx")
    assert a.export_dir == b.export_dir and (a.export_dir / "model-int8.onnx").is_file()
    batches = list(a._batches([3, 50, 7, 50, 9], batch_size=2, max_tokens=1000))
    assert batches == [[1, 3], [4, 2], [0]]
    assert list(a._batches([40, 40, 40], batch_size=8, max_tokens=100)) == [[0, 1], [2]]
    assert encode(a, [], "query").shape == (0, a.get_sentence_embedding_dimension())
