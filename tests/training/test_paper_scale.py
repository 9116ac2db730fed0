"""configs/paper-scale.yaml is a valid recipe: every key known and typed, and run without its data it stops
with one line naming the first missing file (it cannot run here: no GPU and no MS MARCO)."""

from __future__ import annotations

from pathlib import Path

from babelir.cli import main
from babelir.training.config_sources import build_config
from tests.faults.errors import one_error

RECIPE = Path(__file__).resolve().parents[2] / "configs" / "paper-scale.yaml"


def test_the_recipe_loads_with_gradient_caching_and_big_batches() -> None:
    config = build_config(str(RECIPE))
    assert config.batch_size == 1024 and config.mini_batch_size == 128 and config.precision == "auto"
    assert config.retrieval == ["data/msmarco/train.jsonl"] and config.num_negatives == 1


def test_without_its_data_it_names_the_missing_file(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(["train", "--config", str(RECIPE), "--output", str(tmp_path / "run")])
    assert code == 2
    assert "data/msmarco/train.jsonl" in one_error(capsys)
