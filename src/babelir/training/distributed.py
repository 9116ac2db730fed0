"""Multi-process training with ``torchrun``: process group, batch slices, cross-rank reductions.

``torchrun --nproc-per-node N -m babelir train ...`` starts N copies of ``babelir train``; each reads
``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and ``MASTER_ADDR/PORT`` from the environment torchrun sets and
joins one process group (gloo on CPU, NCCL on GPU; ``BABELIR_DIST_BACKEND`` overrides).

Design (see ``docs/scaling.md``):

* **Global batch.** ``batch_size`` and ``aux_batch_size`` are the *global* batch of each stream. Every
  rank computes the same :class:`~babelir.training.batching.BatchSchedule` batch for step t and keeps its
  contiguous slice ``[rank * b, (rank + 1) * b)``, ``b = batch_size / world_size``. So a run's
  hyper-parameters (the number of in-batch negatives, the learning rate) mean the same on 1 or 64
  processes, ``--resume`` still needs only the step, and a 2-rank run reproduces the 1-process run.
* **Gradients.** The losses gather every rank's embeddings (``gather_across_devices``) with a backward that
  sums gradients over ranks; DDP averages parameter gradients. Together that is exactly the gradient of
  the single-process loss on the global batch (:func:`babelir.losses._common.gather_with_grad`).
* **Files.** Only rank 0 writes (config, JSONL log, checkpoints, final model); the others only compute.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import torch

logger = logging.getLogger(__name__)

S = TypeVar("S", bound=Sequence[Any] | torch.Tensor)
TORCHRUN_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class DistributedContext:
    """Where this process sits in the job; the default is a plain single process (no process group)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def enabled(self) -> bool:
        """True when there are other ranks to talk to (a 1-process torchrun job runs the plain path)."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes files, prints progress and saves the model."""
        return self.rank == 0

    @classmethod
    def current(cls) -> DistributedContext:
        """Describe the process group already initialised (by :func:`init_distributed` or a test)."""
        dist = torch.distributed
        if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
            return cls()
        backend = str(dist.get_backend())
        local_rank = int(os.environ.get("LOCAL_RANK", dist.get_rank()))
        device = torch.device("cuda", local_rank) if backend == "nccl" else torch.device("cpu")
        return cls(dist.get_rank(), dist.get_world_size(), local_rank, backend, device)

    # ------------------------------------------------------------- collectives
    def barrier(self) -> None:
        if self.enabled:
            torch.distributed.barrier()

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """Average a tensor over ranks (gloo has no AVG: sum then divide). Identity on one process."""
        if not self.enabled:
            return values
        buffer = values.detach().to(self.device, torch.float64).clone()
        torch.distributed.all_reduce(buffer, op=torch.distributed.ReduceOp.SUM)
        return (buffer / self.world_size).to(values.device, values.dtype)

    def gather(self, obj: Any) -> list[Any]:
        """Every rank's ``obj``, in rank order, on every rank (e.g. per-rank RNG states for a checkpoint)."""
        if not self.enabled:
            return [obj]
        out: list[Any] = [None] * self.world_size
        torch.distributed.all_gather_object(out, obj)
        return out

    @contextlib.contextmanager
    def local_main_first(self) -> Iterator[None]:
        """Local rank 0 of each node runs the block first, then the others.

        Why: building the default data or converting a backbone fills a per-machine cache; doing it once
        per node and letting the other ranks read the result avoids N processes racing on the same files.
        """
        if self.enabled and self.local_rank != 0:
            torch.distributed.barrier()
        try:
            yield
        finally:
            if self.enabled and self.local_rank == 0:
                torch.distributed.barrier()

    # ------------------------------------------------------------- data
    def local_slice(self, rows: S) -> S:
        """This rank's contiguous slice of a global batch column (a list or a tensor, kept as such).

        Contiguous, in rank order: gathering the slices rebuilds the global column row for row, so the
        gathered logits are the single-process logits and ``rank * size`` is this rank's first row.
        """
        if not self.enabled:
            return rows
        size = len(rows) // self.world_size
        return rows[self.rank * size : (self.rank + 1) * size]  # type: ignore[return-value]


def launched_by_torchrun(environ: dict[str, str] | None = None) -> bool:
    """True when torchrun (or any launcher that sets the same variables) started this process."""
    env = os.environ if environ is None else environ
    return all(name in env for name in TORCHRUN_VARS)


def default_backend() -> str:
    """NCCL when CUDA is there (the fast GPU collective), gloo otherwise; ``BABELIR_DIST_BACKEND`` wins."""
    chosen = os.environ.get("BABELIR_DIST_BACKEND")
    if chosen:
        return chosen
    return "nccl" if torch.cuda.is_available() else "gloo"


def init_distributed(backend: str | None = None, timeout_minutes: float = 30.0) -> DistributedContext:
    """Join the process group described by torchrun's environment variables; a no-op otherwise.

    A job of one process stays on the single-process path (no process group), so
    ``torchrun --nproc-per-node 1`` trains bit-identically to plain ``babelir train``.
    """
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return DistributedContext.current()
    if not launched_by_torchrun() or int(os.environ["WORLD_SIZE"]) <= 1:
        return DistributedContext()
    if not dist.is_available():
        raise RuntimeError("this torch build has no torch.distributed; cannot run under torchrun")
    backend = backend or default_backend()
    local_rank = int(os.environ["LOCAL_RANK"])
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend=backend, timeout=timedelta(minutes=timeout_minutes))
    context = DistributedContext.current()
    logger.info("rank %d/%d (local %d) joined the %s process group", context.rank, context.world_size,
                local_rank, backend)
    return context


def shutdown_distributed() -> None:
    """Leave the process group (after the final barrier) so the process exits cleanly."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
