"""Gradient caching: a contrastive batch larger than memory, with the gradients of the whole batch.

Gao, Zhang, Han and Callan (2021), "Scaling Deep Contrastive Learning Batch Size under Memory Limited
Setup" (RepL4NLP); sentence-transformers' ``CachedMultipleNegativesRankingLoss`` is the same idea for one
loss. A contrastive loss couples every text of the batch, so the batch cannot simply be split; but it
depends on the encoder only through the embeddings. So, per step:

1. encode every view of the step (:meth:`babelir.losses.CoTrainingLoss.views`: queries, positives,
   negatives, the auxiliary columns, SimCSE's second views) in mini-batches *without* graphs, remembering
   each mini-batch's RNG state;
2. compute all losses from those embeddings and their gradient w.r.t. the embeddings, once (the batch's
   negatives, gathered across ranks, are all there);
3. encode each mini-batch again *with* its graph under its remembered RNG state (the same dropout
   masks, so the same embeddings), and back-propagate the cached gradient of its rows.

Peak activation memory is one mini-batch's; the parameter gradients equal those of the whole batch (up to
floating-point summation order; tested against the uncached step). Under DistributedDataParallel every
backward but the last runs in ``no_sync()``, so gradients are all-reduced once per step. The RNG is left
where step 1 left it, as an uncached step would, so ``--resume`` stays exact.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from babelir.training.checkpoint import rank_rng_state, set_rank_rng

Features = dict[str, Any]


def split_features(features: Features, size: int) -> list[Features]:
    """The tokenizer's batch cut into consecutive slices of ``size`` rows (tensors sliced on dim 0)."""
    rows = next(v.size(0) for v in features.values() if isinstance(v, Tensor))
    return [
        {k: v[start : start + size] if isinstance(v, Tensor) else v for k, v in features.items()}
        for start in range(0, rows, size)
    ]


def cached_backward(
    loss: Any,
    features: list[Features],
    mini_batch_size: int,
    *,
    embed_graph: Callable[[Features], Tensor],
    embed_plain: Callable[[Features], Tensor],
    autocast: Callable[[], contextlib.AbstractContextManager],
    scale: Callable[[Tensor], Tensor],
    no_sync: Callable[[], contextlib.AbstractContextManager],
    device: torch.device,
    labels: Tensor | None = None,
) -> dict[str, Tensor]:
    """Back-propagate ``loss`` (a :class:`~babelir.losses.CoTrainingLoss`) over ``features`` (one tokenised
    batch per column) mini-batch by mini-batch; returns the detached weighted components.

    ``embed_graph`` encodes with a graph (through DDP under torchrun), ``embed_plain`` without one;
    ``scale`` is the loss scaler's (identity unless fp16); ``no_sync`` is DDP's (a null context on one
    process); ``labels`` go to the loss as they are (the erasure term's language ids).
    """
    views = loss.views()
    chunks = [split_features(features[index], mini_batch_size) for index in views]
    states: list[list[dict[str, Any]]] = []
    cached = []
    with torch.no_grad(), autocast():
        for view_chunks in chunks:
            states.append([])
            parts = []
            for chunk in view_chunks:
                states[-1].append(rank_rng_state(device))
                parts.append(embed_plain(chunk))
            cached.append(torch.cat(parts))
    after = rank_rng_state(device)
    leaves = [embedding.detach().requires_grad_() for embedding in cached]
    with autocast():
        components = loss.loss_from_embeddings(leaves, labels)
        total = torch.stack(list(components.values())).sum()
    scale(total).backward()
    used = [v for v, leaf in enumerate(leaves) if leaf.grad is not None]  # a view no term used: nothing to push
    last = (used[-1], len(chunks[used[-1]]) - 1) if used else None  # its backward all-reduces (DDP)
    for v in used:
        for c, (chunk, row_grad) in enumerate(zip(chunks[v], leaves[v].grad.split(mini_batch_size), strict=True)):
            set_rank_rng(states[v][c], device)
            with contextlib.nullcontext() if (v, c) == last else no_sync():
                with autocast():
                    embedding = embed_graph(chunk)
                embedding.backward(row_grad)
    set_rank_rng(after, device)
    return {name: value.detach() for name, value in components.items()}
