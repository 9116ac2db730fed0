"""Gradient caching gives the gradients of the whole batch (every loss), and a cached run with whole
columns as mini-batches trains exactly like an uncached one (dropout masks included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from babelir.training.grad_cache import split_features
from babelir.training.model import on_device
from babelir.training.trainer import CoTrainer
from tests.training.test_trainer import small_config, write_data

ALL_LOSSES = {"semantic_weight": 1.0, "language_weight": 1.0, "simcse_weight": 0.5, "distillation_weight": 2.0,
              "erasure_weight": 4.0}


def step_gradients(trainer: CoTrainer, step: int = 0) -> dict[str, torch.Tensor]:
    columns = trainer.columns(step)
    features = [on_device(trainer.model.preprocess(col), trainer.device) for col in columns]
    trainer.optimizer.zero_grad(set_to_none=True)
    trainer._backward(features, languages=trainer._languages(step))
    grads = {n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.grad is not None}
    trainer.optimizer.zero_grad(set_to_none=True)
    return grads


def test_split_features_slices_every_tensor() -> None:
    features = {"input_ids": torch.arange(10).view(5, 2), "attention_mask": torch.ones(5, 2), "name": "x"}
    parts = split_features(features, 2)
    assert [p["input_ids"].size(0) for p in parts] == [2, 2, 1] and parts[2]["name"] == "x"
    assert torch.equal(torch.cat([p["input_ids"] for p in parts]), features["input_ids"])


@pytest.mark.parametrize("mini_batch_size", [1, 3])
def test_cached_gradients_equal_the_whole_batch_gradients_for_every_loss(tmp_path: Path, mini_batch_size: int) -> None:
    config = small_config(write_data(tmp_path / "data"), checkpoint_every=0, freeze_word_embeddings=False, **ALL_LOSSES)
    trainer = CoTrainer(config, tmp_path / "run")
    for module in trainer.model.modules():  # the same embeddings with or without caching need no dropout noise
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    trainer.model.train()
    whole = step_gradients(trainer)
    trainer.config.mini_batch_size = mini_batch_size
    cached = step_gradients(trainer)
    assert whole.keys() == cached.keys() and len(whole) > 10
    for name, grad in whole.items():
        assert torch.allclose(grad, cached[name], atol=1e-6, rtol=1e-4), name


def test_a_cached_run_with_whole_columns_trains_like_an_uncached_one(tmp_path: Path) -> None:
    """Same RNG states for the same forwards: dropout masks and every logged loss agree."""
    data = write_data(tmp_path / "data")
    for name, mini in (("plain", 0), ("cached", 8)):
        CoTrainer(small_config(data, steps=4, checkpoint_every=0, mini_batch_size=mini, **ALL_LOSSES), tmp_path / name).train()
    plain, cached = ([json.loads(x) for x in (tmp_path / n / "train_log.jsonl").read_text().splitlines()]
                     for n in ("plain", "cached"))
    for a, b in zip(plain, cached, strict=True):
        for key in ("retrieval", "semantic", "language", "simcse", "distillation", "erasure"):
            # abs: the erasure estimate is a difference of near-equal means, ~1e-3, so fp32 noise is ~1e-7
            assert a[key] == pytest.approx(b[key], rel=1e-5, abs=1e-6), (a["step"], key)


def test_gradient_caching_is_not_part_of_a_run_identity_and_refuses_late_interaction() -> None:
    from babelir.data.errors import DataError
    from babelir.training.config import TrainConfig

    assert TrainConfig(mini_batch_size=64).identity() == TrainConfig().identity()
    with pytest.raises(DataError, match="gradient caching needs pooled embeddings"):
        TrainConfig(mini_batch_size=4, retriever="late-interaction").validate()
