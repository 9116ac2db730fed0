"""``babelir train --resume`` over damaged checkpoint files, end to end through ``babelir.cli.main``.

One 3-step run on the tiny backbone (checkpoints after steps 1 and 2, kept) is trained once; each case
copies it without its model (a run stopped after step 2), damages a file, and resumes. A damaged newest
checkpoint must be named in one warning and the run finished from step 1 with the weights of the
uninterrupted run; when no checkpoint is usable, one error line names the newest damaged file, and
nothing of the run is lost. Every damage of every file, checkpoints written before they recorded
checksums and a damaged ``latest`` pointer are covered, without training, in
tests/training/test_checkpoint.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from babelir.cli import main
from babelir.training.checkpoint import CHECKSUM_FILE, STATE_FILE, WEIGHTS_FILE
from babelir.training.trainer import CoTrainer
from babelir.utils.ownership import FOLDER_MARKER
from tests.faults.damage import damage
from tests.training.test_trainer import assert_same_weights, small_config, write_data

STEPS = 3
NEWEST, PREVIOUS = "step-0000002", "step-0000001"
Finished = tuple[Path, list[str]]  # the uninterrupted run's folder, the flags that reproduce it


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Finished:
    """The uninterrupted run (checkpoints kept) and the ``babelir train`` flags that reproduce it."""
    root = tmp_path_factory.mktemp("checkpoint_faults")
    data = write_data(root / "data")
    config = small_config(data, steps=STEPS, checkpoint_every=1, prune_checkpoints=False)
    CoTrainer(config, root / "full").train()
    flags = ["--backbone", "tiny", "--steps", str(STEPS), "--batch-size", "8", "--aux-batch-size", "8",
             "--learning-rate", "5e-4", "--warmup-steps", "1", "--checkpoint-every", "1", "--no-progress",
             "--num-threads", "1", "--seed", "7", "--no-prune-checkpoints",
             "--retrieval", *data["retrieval"], "--parallel", *data["parallel"],
             "--nonparallel", *data["nonparallel"]]
    return root / "full", flags


def interrupted(finished: Finished, tmp_path: Path) -> Path:
    """A copy of the run as it was before its last step: checkpoints, log and config, no model."""
    run = tmp_path / "run"
    shutil.copytree(finished[0], run, ignore=shutil.ignore_patterns("model"))
    return run


def resume(finished: Finished, run: Path, capsys: pytest.CaptureFixture) -> tuple[int, list[str]]:
    code = main(["train", *finished[1], "--output", str(run), "--resume"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, [line for line in err.splitlines() if line.startswith("babelir")]


def assert_finished_like_the_uninterrupted_run(finished: Finished, run: Path) -> None:
    assert_same_weights(finished[0] / "model", run / "model")
    steps = [json.loads(line)["step"] for line in (run / "train_log.jsonl").read_text().splitlines()]
    assert steps == list(range(1, STEPS + 1))
    assert not [p for p in run.rglob(".*") if p.name != FOLDER_MARKER], "a temporary file or folder was left behind"


@pytest.mark.parametrize(
    ("name", "how"),
    [(WEIGHTS_FILE, "truncate"), ("optimizer.pt", "corrupt"), ("scheduler.pt", "empty"), ("rng.pt", "truncate"),
     (STATE_FILE, "corrupt"), (CHECKSUM_FILE, "empty")],
)
def test_a_damaged_newest_checkpoint_is_named_and_the_run_finishes_from_the_previous_one(
    finished, tmp_path, capsys, name, how
):
    run = interrupted(finished, tmp_path)
    damaged = run / "checkpoints" / NEWEST / name
    damage(damaged, how)
    code, lines = resume(finished, run, capsys)
    assert code == 0
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"babelir: warning: {damaged} is damaged (")
    assert lines[0].endswith("; resuming from step 1")
    assert_finished_like_the_uninterrupted_run(finished, run)


def test_when_no_checkpoint_is_usable_one_error_line_names_the_newest_damaged_file(finished, tmp_path, capsys):
    run = interrupted(finished, tmp_path)
    for step in (NEWEST, PREVIOUS):
        damage(run / "checkpoints" / step / WEIGHTS_FILE, "truncate")
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    code, lines = resume(finished, run, capsys)
    assert code == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"babelir: error: {run / 'checkpoints' / NEWEST / WEIGHTS_FILE}: damaged (truncated")
    assert "without --resume" in lines[0]
    # nothing lost, nothing half-written: every file as it was (the damaged ones kept for inspection)
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    assert not (run / "model").exists()


def test_an_old_checkpoint_with_a_damaged_rng_state_falls_back_like_any_damaged_file(finished, tmp_path, capsys):
    run = interrupted(finished, tmp_path)
    for step in (NEWEST, PREVIOUS):  # written before checkpoints recorded checksums
        (run / "checkpoints" / step / CHECKSUM_FILE).unlink()
    state_file = run / "checkpoints" / NEWEST / STATE_FILE
    state = json.loads(state_file.read_text())
    state["python_rng"] = [3, "not a state", None]  # three items, as the cheap check wants, but unusable
    state_file.write_text(json.dumps(state))
    code, lines = resume(finished, run, capsys)
    assert code == 0, lines
    assert len(lines) == 1 and lines[0].startswith(f"babelir: warning: {state_file} is damaged ("), lines
    assert_finished_like_the_uninterrupted_run(finished, run)
