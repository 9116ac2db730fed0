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
