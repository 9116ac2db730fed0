"""Gradient diagnostics: each loss's gradient norm and the cosines between them, from the step's own graph,
without changing what training learns."""

from __future__ import annotations

import json
import math

import pytest
import torch

from babelir.data.errors import DataError
from babelir.training.diagnostics import gradient_diagnostics, summarise_diagnostics
from babelir.training.trainer import CoTrainer
from tests.training.test_trainer import small_config, write_data


def test_norms_and_cosines_on_a_hand_example() -> None:
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    parts = {"a": 3 * w[0], "b": -4 * w[0] + 0 * w[1], "c": 5 * w[1], "constant": torch.tensor(1.0)}
    out = gradient_diagnostics(parts, [w])
    assert out["grad_norm"] == {"a": 3.0, "b": 4.0, "c": 5.0}  # a constant part has no gradient
    assert out["grad_cosine"] == {"a~b": -1.0, "a~c": 0.0, "b~c": 0.0}


def test_diagnosed_training_logs_them_and_ends_with_the_same_weights(tmp_path) -> None:
    data = write_data(tmp_path / "data")
    runs = {}
    for every in (0, 2):
        config = small_config(data, steps=4, checkpoint_every=0, language_weight=1.0, semantic_weight=0.5,
                              gradient_diagnostics_every=every)
        trainer = CoTrainer(config, tmp_path / f"run-{every}")
        trainer.train()
        runs[every] = (trainer, [json.loads(line) for line in (tmp_path / f"run-{every}" / "train_log.jsonl").open()])
    plain, diagnosed = runs[0][0].model.state_dict(), runs[2][0].model.state_dict()
    assert all(torch.equal(plain[name], diagnosed[name]) for name in plain)  # bit for bit
    log = runs[2][1]
    assert [("grad_norm" in record) for record in log] == [True, True, False, True]  # step 1, then every 2
    first = log[0]
    assert set(first["grad_norm"]) == {"retrieval", "semantic", "language"}
    assert all(value > 0 for value in first["grad_norm"].values())
    assert set(first["grad_cosine"]) == {"retrieval~semantic", "retrieval~language", "semantic~language"}
    assert all(-1 <= value <= 1 and not math.isnan(value) for value in first["grad_cosine"].values())
    assert "grad_norm" not in runs[0][1][0]
    assert runs[0][0].config.identity() == runs[2][0].config.identity()  # the same run, logged more


def test_diagnostics_need_the_uncached_step(tmp_path) -> None:
    with pytest.raises(DataError, match="gradient_diagnostics_every: needs the uncached step"):
        small_config(write_data(tmp_path / "data"), gradient_diagnostics_every=1, mini_batch_size=4)


def test_the_summary_averages_each_half_of_training() -> None:
    log = [{"step": 1, "grad_norm": {"retrieval": 1.0, "language": 3.0}, "grad_cosine": {"retrieval~language": -0.5}},
           {"step": 2}, {"step": 3, "grad_norm": {"retrieval": 2.0}, "grad_cosine": {}},
           {"step": 4, "grad_norm": {"retrieval": 3.0, "language": 1.0}, "grad_cosine": {"retrieval~language": 0.1}}]
    summary = summarise_diagnostics(log)
    assert summary["steps"] == [1, 3, 4]
    assert summary["grad_norm"]["retrieval"] == {"first_half": 1.0, "second_half": 2.5, "all": 2.0}
    assert summary["grad_norm"]["language"] == {"first_half": 3.0, "second_half": 1.0, "all": 2.0}
    assert summary["grad_cosine"]["retrieval~language"]["all"] == pytest.approx(-0.2)
    assert summarise_diagnostics([{"step": 1}]) is None
