"""A trained tiny run shared by the tests that only read what a finished run wrote (its model folder,
card, checkpoints): trained once per test session (per worker under pytest-xdist), never modified; a
test that changes a run copies it first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from babelir.training.config import TrainConfig
from babelir.training.trainer import CoTrainer, TrainResult
from tests.training.test_trainer import small_config, write_data


@dataclass(frozen=True)
class TrainedRun:
    data: dict[str, list[str]]
    config: TrainConfig  # small_config(data, prune_checkpoints=False): 12 steps, a checkpoint every 4
    folder: Path
    result: TrainResult


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> TrainedRun:
    root = tmp_path_factory.mktemp("trained-run")
    data = write_data(root / "data")
    config = small_config(data, prune_checkpoints=False)
    result = CoTrainer(config, root / "run").train()
    return TrainedRun(data, config, root / "run", result)
