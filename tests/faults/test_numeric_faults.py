"""Numbers that are not numbers: settings that are infinite, NaN or out of range, a run that diverges, and a
model folder holding NaN weights, end to end through ``babelir.cli.main``.

Each once passed silently (issue "Lose nothing, part two"): ``language_weight: .inf`` or ``learning_rate:
1e30`` trained to NaN weights with exit 0, and ``encode``, ``index``, ``evaluate`` and ``serve`` took the NaN
model as a good one; ``.nan`` dropped a loss or turned clipping off; a negative learning rate, a seed beyond
64 bits or ``--max-seq-length`` beyond the backbone's positions were exit 1 ("a bug in babelir"). Now: exit
2, one line naming the setting (or the step and its losses), nothing downstream accepts NaN vectors.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from babelir.cli import main
from tests.faults.errors import one_error
from tests.training.test_trainer import write_data


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BABELIR_CACHE", str(tmp_path / "cache"))


def _train_argv(tmp_path: Path, out: Path, *more: str) -> list[str]:
    data = write_data(tmp_path / "data")
    return ["train", "--backbone", "tiny", "--steps", "4", "--batch-size", "4", "--aux-batch-size", "4",
            "--retrieval", *data["retrieval"], "--parallel", *data["parallel"], "--nonparallel", *data["nonparallel"],
            "--output", str(out), "--no-progress", *more]


@pytest.mark.parametrize(
    ("setting", "value", "problem"),
    [
        ("language_weight", ".inf", "language_weight: must be a finite number, got inf"),
        ("language_weight", ".nan", "language_weight: must be a finite number, got nan"),
        ("temperature", ".inf", "temperature: must be a finite number, got inf"),
        ("max_grad_norm", ".nan", "max_grad_norm: must be a finite number, got nan"),
        ("learning_rate", "-0.001", "learning_rate: must be positive"),
        ("weight_decay", "-1", "weight_decay: must not be negative"),
        ("seed", str(2**64), "seed: must be between 0 and 2**63 - 1"),
    ],
)
def test_a_setting_out_of_range_is_one_line_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture, setting: str, value: str, problem: str
) -> None:
    config, out = tmp_path / "config.yaml", tmp_path / "run"
    config.write_text(f"backbone: tiny\nsteps: 2\n{setting}: {value}\n", encoding="utf-8")
    assert main(["train", "--config", str(config), "--output", str(out)]) == 2
    line = one_error(capsys)
    assert line.startswith(f"babelir: error: {config}:3: ") and problem in line, line
    assert not out.exists()


def test_max_seq_length_beyond_the_backbones_positions_is_bad_input(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(_train_argv(tmp_path, out, "--max-seq-length", "100000")) == 2
    assert "max_seq_length: 100000 is more than the 512 positions of tiny" in one_error(capsys)


def test_a_run_that_diverges_stops_naming_the_step_and_keeps_a_checkpoint(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(_train_argv(tmp_path, out, "--learning-rate", "1e30", "--checkpoint-every", "1")) == 2
    line = one_error(capsys)
    assert "training diverged at step " in line and "loss nan" in line and "--overwrite" in line, line
    assert not (out / "model").exists()  # nothing NaN was saved as a model
    assert any((out / "checkpoints").glob("step-*"))
    assert main(_train_argv(tmp_path, out, "--checkpoint-every", "1")) == 2  # its checkpoints are not lost ...
    assert "--resume" in one_error(capsys)
    assert main(_train_argv(tmp_path, out, "--overwrite")) == 0  # ... until the user says to start again
    assert (out / "model").is_dir()


@pytest.fixture
def nan_model(tmp_path: Path) -> Path:
    from babelir.backbones.tiny import build_tiny

    folder = shutil.copytree(build_tiny(tmp_path / "tiny"), tmp_path / "nan-model")
    weights = next(folder.rglob("*.safetensors"))
    tensors = load_file(str(weights))
    name = next(k for k, t in tensors.items() if t.is_floating_point() and t.dim() == 2)
    tensors[name][0, 0] = torch.nan
    save_file(tensors, str(weights), metadata={"format": "pt"})
    return folder


def test_a_model_with_nan_weights_is_refused_by_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture, nan_model: Path
) -> None:
    texts = tmp_path / "texts.txt"
    texts.write_text("the first text\nthe second text\n", encoding="utf-8")
    corpus = tmp_path / "corpus.tsv"
    corpus.write_text("d1\tthe first text\nd2\tthe second text\n", encoding="utf-8")
    beir = tmp_path / "toy"
    (beir / "qrels").mkdir(parents=True)
    (beir / "corpus.jsonl").write_text('{"_id": "d1", "text": "the first text"}\n', encoding="utf-8")
    (beir / "queries.jsonl").write_text('{"_id": "q1", "text": "first"}\n', encoding="utf-8")
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n", encoding="utf-8")
    commands = [
        ["encode", str(nan_model), str(texts), "--output", str(tmp_path / "emb.npy")],
        ["encode", str(nan_model), str(texts), "--output", str(tmp_path / "emb.npy"), "--backend", "onnx"],
        ["index", str(nan_model), str(corpus), str(tmp_path / "idx")],
        ["evaluate", str(nan_model), "--benchmarks", str(beir), "--no-progress"],
    ]
    for argv in commands:
        assert main(argv) == 2, argv
        line = one_error(capsys)
        assert "holds NaN or infinite values" in line and "safetensors" in line, line
    assert not (tmp_path / "emb.npy").exists() and not (tmp_path / "idx" / "manifest.json").exists()
