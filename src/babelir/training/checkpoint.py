"""Checkpoints that a crash cannot corrupt, and that let a run continue exactly.

A checkpoint folder holds the trainable parameters (safetensors), the optimizer and scheduler states,
the RNG states and the step; it is written to a temporary folder and renamed into place, and the
``latest`` pointer is replaced atomically afterwards. A run killed at any moment resumes from the last
complete checkpoint. Frozen parameters are not stored: they are reloaded from the backbone.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from babelir.utils.atomic import atomic_directory, atomic_write_text

STATE_FILE = "trainer_state.json"


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
    """Write checkpoint ``step`` under ``folder`` atomically and keep the newest ``keep``.

    ``rank_rng`` (torchrun runs): every rank's :func:`rank_rng_state`, so each rank's dropout stream
    continues exactly after ``--resume``; one-process checkpoints are unchanged without it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"step-{step:07d}"
    trainable = {n: p.detach().contiguous().clone() for n, p in model.named_parameters() if p.requires_grad}
    with atomic_directory(target) as tmp:
        save_file(trainable, str(tmp / "trainable.safetensors"))
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
        rng = _rng_state()
        rng_file: dict[str, Any] = {"torch": rng["torch"]}
        if rank_rng is not None:
            rng_file["ranks"] = rank_rng
        torch.save(rng_file, tmp / "rng.pt")
        payload = {"step": step, "python_rng": _jsonable(rng["python"]), **state}
        (tmp / STATE_FILE).write_text(json.dumps(payload, indent=2), encoding="utf-8")
    atomic_write_text(folder / "latest", target.name + "\n")
    for old in sorted(folder.glob("step-*"))[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return target


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
    torch.set_rng_state(saved[rank]["torch"])
    if "cuda" in saved[rank] and torch.cuda.is_available():
        torch.cuda.set_rng_state(saved[rank]["cuda"], torch.cuda.current_device())
    return True


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, tuple | list):
        return [_jsonable(x) for x in obj]
    return obj


def _python_state(obj: Any) -> Any:
    # random.setstate needs (version, tuple_of_ints, gauss)
    return (obj[0], tuple(obj[1]), obj[2])


def latest_checkpoint(folder: Path) -> Checkpoint | None:
    """The newest complete checkpoint, or None. Incomplete (temporary) folders are ignored."""
    pointer = folder / "latest"
    candidates = []
    if pointer.is_file():
        candidates.append(folder / pointer.read_text(encoding="utf-8").strip())
    candidates += sorted(folder.glob("step-*"), reverse=True)
    for path in candidates:
        state_file = path / STATE_FILE
        if state_file.is_file():
            state = json.loads(state_file.read_text(encoding="utf-8"))
            return Checkpoint(path=path, step=int(state["step"]), state=state)
    return None


def load_checkpoint(
    checkpoint: Checkpoint, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any
) -> None:
    tensors = load_file(str(checkpoint.path / "trainable.safetensors"))
    params = dict(model.named_parameters())
    missing = [n for n, p in params.items() if p.requires_grad and n not in tensors]
    if missing:
        raise ValueError(f"{checkpoint.path}: checkpoint lacks trainable parameters {missing[:3]}...")
    with torch.no_grad():
        for name, value in tensors.items():
            params[name].copy_(value)
    optimizer.load_state_dict(torch.load(checkpoint.path / "optimizer.pt", weights_only=True))
    scheduler.load_state_dict(torch.load(checkpoint.path / "scheduler.pt", weights_only=True))
    torch.set_rng_state(torch.load(checkpoint.path / "rng.pt", weights_only=True)["torch"])
    random.setstate(_python_state(checkpoint.state["python_rng"]))
