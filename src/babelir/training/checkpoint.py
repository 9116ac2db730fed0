"""Checkpoints that a crash cannot corrupt, and that let a run continue exactly.

A checkpoint folder holds the trainable parameters (safetensors), the optimizer and scheduler states,
the RNG states, the step, and the SHA-256 of each of those files; it is written to a temporary folder,
fsynced and renamed into place, and the ``latest`` pointer is replaced atomically afterwards. A run
killed at any moment resumes from the last complete checkpoint. Frozen parameters are not stored: they
are reloaded from the backbone.

``--resume`` (:func:`resume_checkpoint`) reads and checks every file of the newest checkpoint before it
changes anything: a file that is missing, cut short or altered later (disk errors, a copy that stopped)
makes it fall back to the checkpoint before, with a warning naming the file. A fallback exists because
the previous checkpoint is deleted only once the new one is complete (and, with the default
``keep_checkpoints: 2``, kept beside it).

Longer than 350 lines on purpose: writing, verifying and falling back over checkpoints read one file
format, which stays consistent only when one module owns all three.
"""

from __future__ import annotations

import json
import logging
import random
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from babelir.utils.atomic import atomic_directory, atomic_write_text
from babelir.utils.errors import CheckpointError
from babelir.utils.ownership import file_sha256

logger = logging.getLogger(__name__)
# records still reach handlers the application configured; without any, the warning is printed once by
# resume_checkpoint and not a second time by logging's last-resort handler
logger.addHandler(logging.NullHandler())

STATE_FILE = "trainer_state.json"
WEIGHTS_FILE = "trainable.safetensors"
TORCH_FILES = ("optimizer.pt", "scheduler.pt", "rng.pt")
CHECKSUM_FILE = "checksums.json"  # absent in checkpoints of earlier versions: those are checked by loading
_STEP_DIR = re.compile(r"step-(\d+)")


@dataclass
class Checkpoint:
    path: Path
    step: int
    state: dict[str, Any]


def _rng_state() -> dict[str, Any]:
    return {"python": random.getstate(), "torch": torch.get_rng_state()}


def save_checkpoint(
    folder: Path,
    step: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    state: dict[str, Any],
    keep: int = 2,
    rank_rng: list[dict[str, Any]] | None = None,
) -> Path:
    """Write checkpoint ``step`` under ``folder`` atomically and keep the newest ``keep`` (0: all).

    Older checkpoints are deleted only once this one is complete, so even ``keep: 1`` never leaves a
    moment without a complete checkpoint; the default 2 also keeps a fallback for a damaged newest one.

    ``rank_rng`` (torchrun runs): every rank's :func:`rank_rng_state`, so each rank's dropout stream
    continues exactly after ``--resume``; one-process checkpoints are unchanged without it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"step-{step:07d}"
    trainable = {n: p.detach().contiguous().clone() for n, p in model.named_parameters() if p.requires_grad}
    with atomic_directory(target) as tmp:
        save_file(trainable, str(tmp / WEIGHTS_FILE))
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
        rng = _rng_state()
        rng_file: dict[str, Any] = {"torch": rng["torch"]}
        if rank_rng is not None:
            rng_file["ranks"] = rank_rng
        torch.save(rng_file, tmp / "rng.pt")
        payload = {"step": step, "python_rng": _jsonable(rng["python"]), **state}
        (tmp / STATE_FILE).write_text(json.dumps(payload, indent=2), encoding="utf-8")
        names = (WEIGHTS_FILE, *TORCH_FILES, STATE_FILE)
        sums = {"sha256": {n: file_sha256(tmp / n) for n in names},
                "bytes": {n: (tmp / n).stat().st_size for n in names}}
        (tmp / CHECKSUM_FILE).write_text(json.dumps(sums, indent=2), encoding="utf-8")
    atomic_write_text(folder / "latest", target.name + "\n")
    # only now that the new checkpoint is complete: older ones beyond ``keep`` go, and so do later steps
    # left by an earlier run in this folder (they are not this run's, and a fallback must never use them)
    older = [path for n, path in _step_dirs(folder) if n < step]
    stale = [path for n, path in _step_dirs(folder) if n > step]
    for old in stale + (older[keep - 1 :] if keep > 0 else []):
        shutil.rmtree(old, ignore_errors=True)
    return target


def _step_dirs(folder: Path) -> list[tuple[int, Path]]:
    """``(step, path)`` of every checkpoint folder, newest first (temporary ``.step-*`` ones excluded)."""
    found = [(int(m.group(1)), p) for p in folder.glob("step-*") if (m := _STEP_DIR.fullmatch(p.name))]
    return sorted(found, key=lambda item: item[0], reverse=True)


def has_checkpoints(folder: Path) -> bool:
    return bool(_step_dirs(folder))


def newest_settings(folder: Path) -> dict[str, Any] | None:
    """The training settings stored with the newest readable checkpoint (None: none stored them; checkpoints
    of earlier versions did not)."""
    for _, path in _step_dirs(folder):
        try:
            state = json.loads((path / STATE_FILE).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        settings = state.get("settings") if isinstance(state, dict) else None
        return settings if isinstance(settings, dict) else None
    return None


def holds_babelir_checkpoints(folder: Path) -> bool:
    """Whether ``folder`` holds a step folder with the trainer state that :func:`save_checkpoint`
    writes: a checkpoint copied on its own into a new run folder, to be continued there with ``--resume``."""
    steps = _step_dirs(folder)
    return any((path / STATE_FILE).is_file() for _, path in steps)


def refuse_fresh_start(folder: Path, resume: bool) -> None:
    """A run started without ``--resume`` prunes checkpoints as it goes: in a folder that holds an earlier
    run's checkpoints it would delete them, so it stops instead (nothing is lost by a forgotten flag)."""
    if not resume and _step_dirs(folder):
        raise CheckpointError(
            folder, None,
            "holds the checkpoints of an earlier run: add --resume to continue it, or choose a new --output",
        )


def rank_rng_state(device: torch.device | None = None) -> dict[str, Any]:
    """This process's RNG states (CPU, and the CUDA device's when training on GPU)."""
    out: dict[str, Any] = {"torch": torch.get_rng_state()}
    if device is not None and device.type == "cuda":
        out["cuda"] = torch.cuda.get_rng_state(device)
    return out


def restore_rank_rng(path: Path, rank: int, world_size: int) -> bool:
    """Give rank ``rank`` back its own RNG states from a torchrun checkpoint; False if it has none.

    A checkpoint from a run with another number of processes has no state for this layout: the ranks
    then keep the rank-0 state :func:`load_checkpoint` set, with a different offset each, and training
    goes on (only dropout noise differs from an uninterrupted run).
    """
    saved = torch.load(path / "rng.pt", weights_only=True).get("ranks")
    if not saved or len(saved) != world_size:
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,))) + rank)
        return False
    set_rank_rng(saved[rank])
    return True


def set_rank_rng(state: dict[str, Any], device: torch.device | None = None) -> None:
    """Put back states from :func:`rank_rng_state` (CUDA's on ``device``, default the current one)."""
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"], device if device is not None else torch.cuda.current_device())


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, tuple | list):
        return [_jsonable(x) for x in obj]
    return obj


def _python_state(obj: Any) -> Any:
    # random.setstate needs (version, tuple_of_ints, gauss)
    return (obj[0], tuple(obj[1]), obj[2])


def _candidates(folder: Path) -> list[Path]:
    """Checkpoint folders to try, newest first: the one ``latest`` names, then the earlier ones.

    Steps after the one ``latest`` names come from an earlier run in this folder and are never used; an
    unreadable pointer (it is written atomically, but disks fail) leaves the steps in order.
    """
    steps = _step_dirs(folder)
    pointer = folder / "latest"
    named = pointer.read_text(encoding="utf-8", errors="replace").strip() if pointer.is_file() else ""
    match = _STEP_DIR.fullmatch(named)
    if match and (folder / named).is_dir():
        return [folder / named] + [path for n, path in steps if n < int(match.group(1))]
    return [path for _, path in steps]


def latest_checkpoint(folder: Path) -> Checkpoint | None:
    """The newest checkpoint whose state file reads, or None (its other files are not checked here)."""
    for path in _candidates(folder):
        try:
            return read_checkpoint(path, state_only=True).checkpoint
        except CheckpointError:
            continue
    return None


@dataclass
class CheckpointContents:
    """Everything a resume restores, read and checked before any of it is applied."""

    checkpoint: Checkpoint
    tensors: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    rng: dict[str, Any]


def read_checkpoint(path: Path, state_only: bool = False) -> CheckpointContents:
    """Read checkpoint folder ``path`` whole; :class:`CheckpointError` names the first bad file.

    Checked: every file is there and still has the SHA-256 written with it, the JSON state parses, the
    safetensors header and lengths hold, and the torch states load with the keys resume needs.
    ``state_only`` reads just the JSON state (to learn the step).
    """
    names = (WEIGHTS_FILE, *TORCH_FILES, STATE_FILE)
    for name in names if not state_only else ():
        if not (path / name).is_file():
            raise CheckpointError(path / name, None, "missing")
    if not state_only and (path / CHECKSUM_FILE).exists():
        _verify_checksums(path, names)
    state = _read_json(path / STATE_FILE)
    if not isinstance(state.get("step"), int) or len(state.get("python_rng") or ()) != 3:
        raise CheckpointError(path / STATE_FILE, None, "lacks the step or the Python RNG state")
    checkpoint = Checkpoint(path=path, step=state["step"], state=state)
    if state_only:
        return CheckpointContents(checkpoint, {}, {}, {}, {})
    tensors = _load(path / WEIGHTS_FILE, lambda p: load_file(str(p)))
    optimizer, scheduler, rng = (_load(path / name, _torch_load) for name in TORCH_FILES)
    for name, value, keys in (("optimizer.pt", optimizer, ("state", "param_groups")),
                              ("scheduler.pt", scheduler, ()), ("rng.pt", rng, ("torch",))):
        if not isinstance(value, dict) or any(key not in value for key in keys):
            raise CheckpointError(path / name, None, f"not a saved state: expected the keys {list(keys)}")
    if not (isinstance(rng["torch"], torch.Tensor) and rng["torch"].dtype == torch.uint8
            and rng["torch"].shape == torch.get_rng_state().shape):
        raise CheckpointError(path / "rng.pt", None, "not a saved state: no torch RNG state of the right size")
    try:  # checked here, so that a damaged old checkpoint (no checksums) falls back instead of failing late
        random.Random().setstate(_python_state(state["python_rng"]))
    except (TypeError, ValueError, IndexError) as err:
        raise CheckpointError(path / STATE_FILE, None, f"holds a damaged Python RNG state ({err})") from None
    return CheckpointContents(checkpoint, tensors, optimizer, scheduler, rng)


def _verify_checksums(path: Path, names: tuple[str, ...]) -> None:
    """Each file against the length and SHA-256 recorded when the checkpoint was written."""
    table = _read_json(path / CHECKSUM_FILE)
    sums, sizes = table.get("sha256"), table.get("bytes")
    if not isinstance(sums, dict) or not isinstance(sizes, dict):
        raise CheckpointError(path / CHECKSUM_FILE, None, "lacks its 'sha256' or 'bytes' table")
    for name in names:
        size, expected = (path / name).stat().st_size, sizes.get(name)
        if expected is not None and size != expected:
            problem = (f"empty: {expected} bytes were written" if size == 0 else
                       f"truncated: {size} of the {expected} bytes written" if size < expected else
                       f"longer than written: {size} bytes, not {expected}")
            raise CheckpointError(path / name, None, problem)
        if name in sums and _load(path / name, file_sha256) != sums[name]:
            raise CheckpointError(path / name, None, "altered since it was written: its SHA-256 differs")


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CheckpointError(path, None, "missing")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(path, None, f"not readable JSON: {err}") from err
    if not isinstance(value, dict):
        raise CheckpointError(path, None, "not a JSON object")
    return value


def _torch_load(path: Path) -> Any:
    return torch.load(path, weights_only=True)


def _load(path: Path, reader: Callable[[Path], Any]) -> Any:
    try:
        return reader(path)
    except Exception as err:  # safetensors, zip, unpickling and the disk each fail their own way
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(path, None, f"cannot be loaded: {first_line}") from err


def resume_checkpoint(
    folder: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    announce: bool = True,
) -> Checkpoint | None:
    """Restore the newest usable checkpoint under ``folder``; None when there is none at all.

    A damaged checkpoint is skipped for the one before it, with a warning naming the damaged file (logged,
    and printed on stderr when ``announce``: the main process). When every checkpoint is damaged,
    :class:`CheckpointError` names the newest damaged file and what to do.
    """
    damaged: list[CheckpointError] = []
    for path in _candidates(folder):
        try:
            contents = read_checkpoint(path)
        except CheckpointError as err:
            damaged.append(err)
            continue
        for err in damaged:
            message = f"{err.path} is damaged ({err.problem}); resuming from step {contents.checkpoint.step}"
            logger.warning("%s", message)
            if announce:
                print(f"babelir: warning: {message}", file=sys.stderr)
        apply_checkpoint(contents, model, optimizer, scheduler)
        return contents.checkpoint
    if not damaged:
        return None
    newest = damaged[0]
    earlier = f"so are the {len(damaged) - 1} earlier ones" if len(damaged) > 1 else "there is no earlier one"
    raise CheckpointError(
        newest.path, None,
        f"damaged ({newest.problem}), and {earlier} in {folder}: nothing to resume from; "
        "start again without --resume (from step 0), or with a new --output",
    )


def apply_checkpoint(
    contents: CheckpointContents, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any
) -> None:
    """Put a checkpoint's weights, optimizer, scheduler and RNG states into this run."""
    path = contents.checkpoint.path
    params = dict(model.named_parameters())
    tensors = contents.tensors
    missing = [n for n, p in params.items() if p.requires_grad and n not in tensors]
    unfit = [n for n, t in tensors.items() if n not in params or params[n].shape != t.shape]
    if missing or unfit:
        raise CheckpointError(
            path / WEIGHTS_FILE, None,
            f"does not fit this model (missing {missing[:3]}, other shape or unknown {unfit[:3]}): it was "
            "written with other settings; resume with that run's settings, or start without --resume",
        )
    with torch.no_grad():
        for name, value in tensors.items():
            params[name].copy_(value)
    try:
        optimizer.load_state_dict(contents.optimizer)
    except (ValueError, KeyError) as err:
        problem = f"does not fit this run's optimizer ({err})"
        raise CheckpointError(path / "optimizer.pt", None, problem) from err
    scheduler.load_state_dict(contents.scheduler)
    torch.set_rng_state(contents.rng["torch"])
    random.setstate(_python_state(contents.checkpoint.state["python_rng"]))


def load_checkpoint(
    checkpoint: Checkpoint, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any
) -> None:
    """Restore ``checkpoint`` (no fallback: :class:`CheckpointError` if any of its files is bad)."""
    apply_checkpoint(read_checkpoint(checkpoint.path), model, optimizer, scheduler)
