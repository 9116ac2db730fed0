"""Mixed precision and gradient checkpointing on the CPU (tiny backbone): bf16 trains and lowers the
losses, logits stay fp32, fp16 checkpoints carry the loss scale, checkpointing changes no loss."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from babelir.losses._common import cosine_logits
from babelir.training.trainer import CoTrainer
from babelir.utils.devices import resolve_precision
from babelir.utils.errors import BabelirError
from tests.training.test_trainer import small_config, write_data


def losses(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "train_log.jsonl").read_text().splitlines()]


def test_auto_precision_is_fp32_on_the_cpu_and_unknown_values_are_refused() -> None:
    assert resolve_precision("auto", "cpu") == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16"
    with pytest.raises(BabelirError, match="choose auto, fp32, bf16, fp16"):
        resolve_precision("int8", "cpu")


def test_similarity_logits_stay_fp32_under_autocast() -> None:
    a, b = torch.randn(4, 8), torch.randn(5, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        inside = cosine_logits(a.bfloat16(), b.bfloat16(), 0.05)
    assert inside.dtype == torch.float32
    assert torch.allclose(inside, cosine_logits(a.bfloat16().float(), b.bfloat16().float(), 0.05))


def test_a_bf16_run_on_the_cpu_trains_and_lowers_every_loss(tmp_path: Path) -> None:
    """One batch of each stream, seen at every step, so a falling loss is the optimiser's doing. The
    language loss starts near its floor log 2 and, next to two losses a hundred times steeper, drifts up
    in this toy (in fp32 as well); weighted to dominate (100, semantic off) it must fall towards log 2."""
    data = write_data(tmp_path / "data")
    for name in ("retrieval", "parallel", "nonparallel"):  # keep 8 rows (the parallel file: header + 8)
        path = Path(data[name][0])
        rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_text("".join(rows[: 9 if name == "parallel" else 8]), encoding="utf-8")
    falls = {"both": ("retrieval", "semantic"), "language": ("language",)}
    for run, weights in (("both", {"semantic_weight": 1.0}), ("language", {"semantic_weight": 0.0, "language_weight": 100.0})):
        config = small_config(data, steps=30, checkpoint_every=0, precision="bf16", freeze_word_embeddings=False, **weights)
        CoTrainer(config, tmp_path / run).train()
        log = losses(tmp_path / run)
        for key in falls[run]:
            first, last = (sum(r[key] for r in part) / 5 for part in (log[:5], log[-5:]))
            assert last < first, (run, key, first, last)
    assert sum(r["language"] for r in log[-5:]) / 5 < 0.6931 + 0.005  # log 2: every sentence equidistant


def test_fp16_checkpoints_carry_the_loss_scale(tmp_path: Path) -> None:
    config = small_config(write_data(tmp_path / "data"), steps=4, checkpoint_every=2, precision="fp16",
                          prune_checkpoints=False)
    CoTrainer(config, tmp_path / "run").train()
    state = json.loads(next((tmp_path / "run" / "checkpoints").glob("step-*/trainer_state.json")).read_text())
    assert state["grad_scaler"]["scale"] > 0
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in losses(tmp_path / "run"))


def test_gradient_checkpointing_changes_no_loss(tmp_path: Path) -> None:
    data = write_data(tmp_path / "data")
    for name, flag in (("plain", False), ("checkpointed", True)):
        CoTrainer(small_config(data, steps=3, checkpoint_every=0, gradient_checkpointing=flag), tmp_path / name).train()
    plain, checkpointed = losses(tmp_path / "plain"), losses(tmp_path / "checkpointed")
    for a, b in zip(plain, checkpointed, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
