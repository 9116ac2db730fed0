"""Loading by backbone name and encoding by role."""

from __future__ import annotations

import numpy as np
import pytest

from babelir.encoding import encode, load_model


def test_roles_get_their_prompts_and_rows_are_normalised() -> None:
    model = load_model("tiny")
    q, d = encode(model, ["hello"], "query"), encode(model, ["hello"], "document")
    assert q.dtype == np.float32 and q.shape == d.shape and not np.allclose(q, d)  # "query: " vs "passage: "
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)
    assert encode(model, [], "query").shape == (0, q.shape[1])


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown backend 'tensorrt'"):
        load_model("tiny", backend="tensorrt")  # type: ignore[arg-type]


def test_bf16_weights_give_float32_unit_rows_close_to_fp32() -> None:
    import torch

    texts = ["The river runs to the sea.", "Der Fluss fließt ins Meer.", "hello"]
    exact = encode(load_model("tiny", device="cpu"), texts, "document")
    half = load_model("tiny", device="cpu", backend="torch-bf16")
    assert half.dtype == torch.bfloat16
    rows = encode(half, texts, "document")
    assert rows.dtype == np.float32 and np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-6)  # normalised in fp32
    assert np.min(np.sum(rows * exact, axis=1)) > 0.98
