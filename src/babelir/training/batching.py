"""Deterministic batch schedules: the batch at step t is a pure function of (seed, stream, t).

That is what makes ``--resume`` exact: a resumed run needs only the step number to continue with the
same batches. Each epoch is a seeded permutation; with length bucketing, windows of
``bucket_window`` batches are sorted by length (less padding, the main CPU cost) and the resulting
batches are shuffled again so that batch order stays random.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np


class BatchSchedule:
    """Batches of ``batch_size`` indices into a stream of ``len(lengths)`` items, for any step."""

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        seed: int,
        stream: int,
        bucketing: bool = True,
        bucket_window: int = 32,
    ) -> None:
        if len(lengths) < batch_size:
            raise ValueError(f"stream {stream} has {len(lengths)} items, fewer than one batch of {batch_size}")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.batch_size = batch_size
        self.seed = seed
        self.stream = stream
        self.bucketing = bucketing
        self.bucket_window = bucket_window
        self.batches_per_epoch = len(self.lengths) // batch_size  # the incomplete last batch is dropped

    @functools.lru_cache(maxsize=2)  # noqa: B019 - a schedule lives as long as its training run
    def _epoch(self, epoch: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, self.stream, epoch])
        order = rng.permutation(len(self.lengths))[: self.batches_per_epoch * self.batch_size]
        if self.bucketing:
            window = self.bucket_window * self.batch_size
            chunks = []
            for start in range(0, len(order), window):
                part = order[start : start + window]
                chunks.append(part[np.argsort(self.lengths[part], kind="stable")])
            order = np.concatenate(chunks)
        batches = order.reshape(self.batches_per_epoch, self.batch_size)
        if self.bucketing:
            batches = batches[rng.permutation(self.batches_per_epoch)]
        return batches

    def batch(self, step: int) -> np.ndarray:
        epoch, position = divmod(step, self.batches_per_epoch)
        return self._epoch(epoch)[position]
