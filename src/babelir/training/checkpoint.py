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
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"step-{step:07d}"
    trainable = {n: p.detach().contiguous().clone() for n, p in model.named_parameters() if p.requires_grad}
    with atomic_directory(target) as tmp:
        save_file(trainable, str(tmp / "trainable.safetensors"))
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
        rng = _rng_state()
        torch.save({"torch": rng["torch"]}, tmp / "rng.pt")
        payload = {"step": step, "python_rng": _jsonable(rng["python"]), **state}
        (tmp / STATE_FILE).write_text(json.dumps(payload, indent=2), encoding="utf-8")
    atomic_write_text(folder / "latest", target.name + "\n")
    for old in sorted(folder.glob("step-*"))[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return target


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
