"""Turning reader streams into training order: materialise, and cycle with an exactly reproducible shuffle.

Why not ``random.shuffle`` in the trainer: ``--resume`` must continue with exactly the items an
uninterrupted run would have seen. Here the order is a pure function of ``(seed, position)``: position
``p`` falls in epoch ``p // n`` at offset ``p % n`` of that epoch's permutation, and each epoch's
permutation depends only on ``(seed, epoch)``. So a resumed run needs only the position (saved by
``state_dict()``), not the random generator's internal state, and nothing depends on how many items
were drawn per call.

Permutations come from Python's ``random.Random`` seeded with an integer derived by SHA-256 from
``(seed, epoch)``; CPython has kept ``Random(int).shuffle`` stable since 3.2, and a test pins a value.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any, Generic, TypeVar

from babelir.data import readers
from babelir.data.readers import ParallelPair, RetrievalExample, Sentence

T = TypeVar("T")

__all__ = [
    "ParallelPair",
    "RetrievalExample",
    "Sentence",
    "ShuffledCycler",
    "cycle",
    "derive_seed",
    "materialize",
    "ordered_indices",
    "readers",
]


def materialize(stream: Iterable[T], limit: int | None = None) -> list[T]:
    """The first ``limit`` items (all when ``None``) as a list: what the trainer indexes into."""
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    return list(stream if limit is None else islice(stream, limit))


def derive_seed(seed: int, *names: Any) -> int:
    """A 64-bit seed for a named purpose (``derive_seed(0, "parallel")``), independent across names.

    Lets one run seed give each stream its own order without correlations between streams.
    """
    blob = json.dumps([seed, *names], sort_keys=True, default=str).encode("utf-8")
    return int.from_bytes(hashlib.sha256(blob).digest()[:8], "big")


def ordered_indices(n: int, seed: int, epoch: int) -> list[int]:
    """The permutation of ``range(n)`` used in ``epoch`` (0-based) for ``seed``: a pure function."""
    if n < 0 or epoch < 0:
        raise ValueError(f"n and epoch must be >= 0, got n={n}, epoch={epoch}")
    order = list(range(n))
    random.Random(derive_seed(seed, "epoch", epoch)).shuffle(order)
    return order


class ShuffledCycler(Generic[T]):
    """An infinite iterator over ``items``, reshuffled every epoch; resumable from ``state_dict()``.

    >>> c = ShuffledCycler(["a", "b", "c"], seed=1)
    >>> first = [next(c) for _ in range(4)]
    >>> state = c.state_dict()
    >>> rest = [next(c) for _ in range(5)]
    >>> d = ShuffledCycler(["a", "b", "c"], seed=1); d.load_state_dict(state)
    >>> [next(d) for _ in range(5)] == rest
    True
    """

    def __init__(self, items: Sequence[T], seed: int, position: int = 0):
        if len(items) == 0:
            raise ValueError("cannot cycle over an empty stream (did the reader yield nothing?)")
        self.items = items
        self.seed = int(seed)
        self.position = 0
        self._epoch = -1
        self._order: list[int] = []
        self.seek(position)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def epoch(self) -> int:
        """The epoch the next item comes from."""
        return self.position // len(self.items)

    def index_at(self, position: int) -> int:
        """Index into ``items`` of the item drawn at ``position`` (0-based, counting across epochs)."""
        epoch, offset = divmod(position, len(self.items))
        if epoch != self._epoch:
            self._order = ordered_indices(len(self.items), self.seed, epoch)
            self._epoch = epoch
        return self._order[offset]

    def seek(self, position: int) -> None:
        """Jump to ``position``: costs one permutation, not ``position`` draws."""
        if position < 0:
            raise ValueError(f"position must be >= 0, got {position}")
        self.position = int(position)

    def __iter__(self) -> ShuffledCycler[T]:
        return self

    def __next__(self) -> T:
        item = self.items[self.index_at(self.position)]
        self.position += 1
        return item

    def take(self, k: int) -> list[T]:
        """The next ``k`` items (one batch)."""
        return [next(self) for _ in range(k)]

    def state_dict(self) -> dict[str, int]:
        """JSON-serialisable state; ``size`` guards against resuming on different data."""
        return {"seed": self.seed, "position": self.position, "size": len(self.items)}

    def load_state_dict(self, state: dict[str, int]) -> None:
        if int(state["size"]) != len(self.items):
            raise ValueError(
                f"cannot resume: the saved stream had {state['size']} items, this one has {len(self.items)} "
                "(the training data changed)"
            )
        self.seed = int(state["seed"])
        self._epoch = -1
        self.seek(int(state["position"]))


def cycle(items: Sequence[T], seed: int, start: int = 0) -> ShuffledCycler[T]:
    """Infinite, epoch-wise reshuffled iteration over ``items``, starting at position ``start``."""
    return ShuffledCycler(items, seed, start)
