"""Checkpoint files are checked whole before a resume uses them; a damaged newest one falls back.

A two-layer model stands in for the transformer (no backbone to load), so every file of a checkpoint
can be damaged in every way in well under a second each; tests/faults/test_checkpoint_faults.py runs
the same damage through ``babelir train --resume`` end to end.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from babelir.training.checkpoint import (
    CHECKSUM_FILE,
    STATE_FILE,
    TORCH_FILES,
    WEIGHTS_FILE,
    latest_checkpoint,
    read_checkpoint,
    resume_checkpoint,
    save_checkpoint,
)
from babelir.utils.errors import CheckpointError
from tests.faults.damage import DAMAGES, damage

FILES = (WEIGHTS_FILE, *TORCH_FILES, STATE_FILE, CHECKSUM_FILE)


class Run:
    """A model, its optimizer and scheduler: what the trainer hands to save and resume."""

    def __init__(self, seed: int = 0):
        torch.manual_seed(seed)
        self.model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 2))
        with torch.no_grad():  # a frozen parameter: not stored, the same in every run (as the backbone's)
            self.model[0].bias.fill_(0.5)
        self.model[0].bias.requires_grad_(False)
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(trainable, lr=0.1)
        self.scheduler = torch.optim.lr_scheduler.LinearLR(self.optimizer, total_iters=10)

    def step(self) -> None:
        self.model(torch.randn(3, 4)).sum().backward()
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad()

    def save(self, folder: Path, step: int, keep: int = 0) -> Path:
        return save_checkpoint(folder, step, self.model, self.optimizer, self.scheduler, {"elapsed_s": 1.0}, keep)

    def weights(self) -> dict[str, torch.Tensor]:
        return {n: p.detach().clone() for n, p in self.model.named_parameters()}


def trained(folder: Path, steps: int = 2, keep: int = 0) -> dict[int, dict[str, torch.Tensor]]:
    """Checkpoints after each of ``steps`` steps; the weights each one holds, by step."""
    run, weights = Run(), {}
    for step in range(1, steps + 1):
        run.step()
        run.save(folder, step, keep)
        weights[step] = run.weights()
    return weights


def resume(folder: Path) -> tuple[int | None, Run]:
    run = Run(seed=1)  # other initial weights: a resume must overwrite all of them
    checkpoint = resume_checkpoint(folder, run.model, run.optimizer, run.scheduler)
    return (checkpoint.step if checkpoint else None), run


@pytest.mark.parametrize("how", DAMAGES)
@pytest.mark.parametrize("name", FILES)
def test_any_damaged_file_of_the_newest_checkpoint_falls_back_to_the_previous_one(tmp_path, capsys, name, how):
    weights = trained(tmp_path)
    damaged = tmp_path / "step-0000002" / name
    damage(damaged, how)
    with pytest.raises(CheckpointError) as caught:
        read_checkpoint(tmp_path / "step-0000002")
    assert caught.value.path == str(damaged)
    step, run = resume(tmp_path)
    assert step == 1
    assert all(torch.equal(run.weights()[n], w) for n, w in weights[1].items())
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"babelir: warning: {damaged} is damaged (")
    assert lines[0].endswith("; resuming from step 1"), lines[0]


@pytest.mark.parametrize("how", ["truncate", "empty"])
@pytest.mark.parametrize("name", FILES[:-1])
def test_checkpoints_without_checksums_are_checked_by_loading_each_file(tmp_path, name, how):
    trained(tmp_path)
    for folder in tmp_path.glob("step-*"):  # as written before checkpoints recorded their checksums
        (folder / CHECKSUM_FILE).unlink()
    damage(tmp_path / "step-0000002" / name, how)
    with pytest.raises(CheckpointError) as caught:
        read_checkpoint(tmp_path / "step-0000002")
    assert caught.value.path == str(tmp_path / "step-0000002" / name)
    assert resume(tmp_path)[0] == 1


def test_a_missing_file_is_named(tmp_path):
    trained(tmp_path)
    (tmp_path / "step-0000002" / "rng.pt").unlink()
    with pytest.raises(CheckpointError, match=r"step-0000002/rng\.pt: missing"):
        read_checkpoint(tmp_path / "step-0000002")


def test_when_every_checkpoint_is_damaged_the_error_names_the_newest_file_and_what_to_do(tmp_path, capsys):
    trained(tmp_path)
    for folder in tmp_path.glob("step-*"):
        damage(folder / WEIGHTS_FILE, "truncate")
    with pytest.raises(CheckpointError) as caught:
        resume(tmp_path)
    assert caught.value.path == str(tmp_path / "step-0000002" / WEIGHTS_FILE)
    assert "truncated" in str(caught.value) and "so are the 1 earlier ones" in str(caught.value)
    assert "without --resume" in str(caught.value) and "--output" in str(caught.value)
    assert capsys.readouterr().err == ""  # no warning for a fallback that did not happen


def test_resume_continues_exactly_where_the_checkpoint_left_off(tmp_path):
    run = Run()
    run.step()
    run.save(tmp_path, 1)
    draws = random.random()
    run.step()
    run.step()  # each step draws its batch from torch's RNG: the stream must continue exactly
    step, resumed = resume(tmp_path)
    assert step == 1 and random.random() == draws
    resumed.step()
    resumed.step()
    assert all(torch.equal(resumed.weights()[n], w) for n, w in run.weights().items())
    assert resumed.scheduler.state_dict() == run.scheduler.state_dict()


def test_no_checkpoint_is_none_and_a_damaged_pointer_is_ignored(tmp_path):
    assert resume(tmp_path)[0] is None
    trained(tmp_path)
    damage(tmp_path / "latest", "corrupt")
    assert resume(tmp_path)[0] == 2
    assert latest_checkpoint(tmp_path).step == 2


def test_a_checkpoint_from_other_settings_is_an_error_not_a_fallback(tmp_path):
    trained(tmp_path)
    other = Run()
    other.model[1] = torch.nn.Linear(4, 3)
    with pytest.raises(CheckpointError, match="does not fit this model"):
        resume_checkpoint(tmp_path, other.model, other.optimizer, other.scheduler)


def test_older_checkpoints_go_only_once_the_new_one_is_complete(tmp_path, monkeypatch):
    run = Run()
    run.step()
    run.save(tmp_path, 1, keep=1)
    run.step()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(OSError):
        run.save(tmp_path, 2, keep=1)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "step-0000001"]  # no temporary left
    assert resume(tmp_path)[0] == 1
    run.save(tmp_path, 2, keep=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "step-0000002"]


def test_keep_two_keeps_a_fallback_and_later_steps_of_an_earlier_run_are_dropped(tmp_path):
    trained(tmp_path, steps=4, keep=2)
    assert sorted(p.name for p in tmp_path.glob("step-*")) == ["step-0000003", "step-0000004"]
    Run().save(tmp_path, 1, keep=2)  # a new run (no --resume) in the same folder
    assert sorted(p.name for p in tmp_path.glob("step-*")) == ["step-0000001"]
    assert resume(tmp_path)[0] == 1


def test_a_fresh_start_refuses_a_folder_with_an_earlier_runs_checkpoints(tmp_path: Path) -> None:
    from babelir.training.checkpoint import refuse_fresh_start
    from babelir.utils.errors import CheckpointError

    folder = tmp_path / "checkpoints"
    refuse_fresh_start(folder, resume=False)  # no folder yet: a fresh start is fine
    (folder / "step-0000007").mkdir(parents=True)
    refuse_fresh_start(folder, resume=True)  # --resume continues that run
    with pytest.raises(CheckpointError, match="add --resume"):
        refuse_fresh_start(folder, resume=False)
    assert (folder / "step-0000007").is_dir()
