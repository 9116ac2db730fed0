"""``babelir.train``: settings from a TrainConfig, a dict, a file or nothing, keywords on top; a tiny run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from babelir.data.errors import DataError
from babelir.training.api import resolve_config, train
from babelir.training.config import TrainConfig
from tests.training.test_trainer import write_data


def test_each_kind_of_config_with_keywords_last(tmp_path: Path):
    assert resolve_config() == TrainConfig().validate()
    assert resolve_config(TrainConfig(steps=7), steps=9).steps == 9
    base = TrainConfig(steps=7)
    resolve_config(base, steps=9)
    assert base.steps == 7  # the caller's config is not changed
    from_dict = resolve_config({"steps": 5, "semantic-weight": 1, "retrieval": tmp_path / "a.jsonl"})
    assert (from_dict.steps, from_dict.semantic_weight, from_dict.retrieval) == (5, 1.0, [str(tmp_path / "a.jsonl")])
    given = resolve_config(TrainConfig(steps="100", retrieval=str(tmp_path / "a.jsonl")))  # type: ignore[arg-type]
    assert (given.steps, given.retrieval) == (100, [str(tmp_path / "a.jsonl")])  # read as the flags would be
    config_file = tmp_path / "run.yaml"
    config_file.write_text("steps: 11\nlanguage_weight: 3\n", encoding="utf-8")
    for given in (config_file, str(config_file)):
        settings = resolve_config(given, language_weight=2, parallel=[tmp_path / "p.tsv"])
        assert (settings.steps, settings.language_weight, settings.parallel) == (11, 2.0, [str(tmp_path / "p.tsv")])


def test_wrong_settings_fail_naming_the_key(tmp_path: Path):
    with pytest.raises(DataError, match="<keyword arguments>: unknown training setting 'stpes'"):
        resolve_config(stpes=3)
    with pytest.raises(DataError, match="<config dict>: steps: expected an integer"):
        resolve_config({"steps": "three"})  # a number in a string is read as the flag would read it
    with pytest.raises(DataError, match="language_variant: must be"):
        resolve_config(language_variant="nope")
    bad_file = tmp_path / "bad.yaml"
    bad_file.write_text("steps: 0\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.yaml:1: steps: must be at least 1"):
        resolve_config(bad_file)
    with pytest.raises(TypeError, match="config must be"):
        resolve_config(3)  # type: ignore[arg-type]


def tiny_settings(tmp_path: Path) -> dict:
    return dict(write_data(tmp_path / "data"), backbone="tiny", steps=2, batch_size=4, aux_batch_size=4,
                warmup_steps=1, checkpoint_every=0, progress=False, num_threads=1)


def test_train_writes_a_model_and_returns_its_path(tmp_path: Path):
    result = train(None, tmp_path / "run", **tiny_settings(tmp_path), semantic_weight=1.0)
    assert result.model_path == tmp_path / "run" / "model" and result.steps == 2
    assert (result.model_path / "config_sentence_transformers.json").is_file()
    assert set(result.last) >= {"loss", "retrieval", "semantic", "language"}
    log = (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in log] == [1, 2]


def test_without_output_dir_a_finished_run_is_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BABELIR_CACHE", str(tmp_path / "cache"))
    settings = tiny_settings(tmp_path)
    first = train(settings)
    assert first.model_path.parent.parent == tmp_path / "cache" / "runs"
    stamp = (first.model_path / "model.safetensors").stat().st_mtime_ns
    again = train(TrainConfig(**settings))
    assert again.model_path == first.model_path and again.seconds == first.seconds
    assert (first.model_path / "model.safetensors").stat().st_mtime_ns == stamp  # not trained again
    assert train(settings, steps=3).model_path != first.model_path  # other settings, other folder
