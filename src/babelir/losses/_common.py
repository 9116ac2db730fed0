"""Helpers shared by the losses: embedding a column, cosine similarity, cross-rank gathering."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

Embedder = Callable[[dict[str, Any]], Tensor]


def sentence_embedding(model: torch.nn.Module) -> Embedder:
    """The default embedder: one pooled vector per text, as every sentence-transformers model returns."""

    def embed(features: dict[str, Any]) -> Tensor:
        return model(features)["sentence_embedding"]

    return embed


def cosine_logits(a: Tensor, b: Tensor, temperature: float) -> Tensor:
    """``cos(a_i, b_j) / temperature`` for every pair: shape ``(len(a), len(b))``, always in fp32.

    Under mixed precision (autocast) the encoder runs in bf16/fp16, but a logit divided by a temperature
    of 0.05 needs fp32: bf16's 8-bit mantissa would round cosines to ~0.004, i.e. logits to ~0.08.
    """
    with torch.autocast(device_type=a.device.type, enabled=False):
        return F.normalize(a.float(), dim=-1) @ F.normalize(b.float(), dim=-1).T / temperature


class _GatherWithGrad(torch.autograd.Function):
    """``all_gather`` whose backward *sums* the gradient of every rank's copy of this rank's rows.

    Why a sum: rank r's loss ``L_r`` uses every rank's rows as negatives, so the rows of rank s get
    gradient from every ``L_r``. Summing them gives rank s ``d(sum_r L_r)/d(rows_s)``; DDP then averages
    parameter gradients over the W ranks, which yields ``d/dtheta (1/W) sum_r L_r`` -- exactly the gradient
    of the single-process loss on the global batch (each ``L_r`` is a mean over an equal-sized slice).
    Keeping only the local copy's gradient (what many CLIP ports do) silently drops the ``r != s`` terms.
    sentence-transformers' ``all_gather_with_grad`` is also a sum (``torch.distributed.nn.all_gather``),
    but that API is deprecated and on gloo emulates reduce-scatter with W scatters; one ``all_reduce`` is
    simpler and works on every backend.
    """

    @staticmethod
    def forward(ctx: Any, tensor: Tensor) -> Tensor:  # type: ignore[override]
        dist = torch.distributed
        world, rank = dist.get_world_size(), dist.get_rank()
        rows = torch.tensor([tensor.size(0)], device=tensor.device, dtype=torch.long)
        sizes = [torch.zeros_like(rows) for _ in range(world)]
        dist.all_gather(sizes, rows)
        if any(int(s) != tensor.size(0) for s in sizes):
            # unequal slices would make rank_offset wrong and the mean of per-rank means not the global mean
            got = [int(s) for s in sizes]
            raise ValueError(f"gather_across_devices needs equal batch slices on every rank, got {got}")
        parts = [torch.empty_like(tensor) for _ in range(world)]
        dist.all_gather(parts, tensor.contiguous())
        ctx.rank, ctx.rows = rank, tensor.size(0)
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:  # type: ignore[override]
        grad = grad.contiguous().clone()  # all_reduce works in place; autograd's buffer must stay intact
        torch.distributed.all_reduce(grad, op=torch.distributed.ReduceOp.SUM)
        return grad[ctx.rank * ctx.rows : (ctx.rank + 1) * ctx.rows]


def gather_with_grad(tensor: Tensor) -> Tensor:
    """Concatenate ``tensor`` from every rank in rank order; gradients flow back to every rank's rows.

    Every rank must pass the same number of rows. The backward sums the gradients that all ranks' losses
    send to this rank's rows (see :class:`_GatherWithGrad`), which together with DDP's gradient averaging
    reproduces the single-process gradient on the global batch. Outside ``torch.distributed`` (or with one
    process) this is the identity, so every loss works the same on one process.
    """
    if world_size() == 1:
        return tensor
    return _GatherWithGrad.apply(tensor)


def world_size() -> int:
    """Processes of the ``torch.distributed`` job (1 outside one)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_world_size()
    return 1


def rank_offset(local_batch: int) -> int:
    """Index of this rank's first row in a gathered batch (0 on one process); slices are equal-sized."""
    return torch.distributed.get_rank() * local_batch if world_size() > 1 else 0


def check_temperature(temperature: float) -> float:
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    return float(temperature)


CITATION = """
@inproceedings{hu-etal-2023-language,
    title = "Language Agnostic Multilingual Information Retrieval with Contrastive Learning",
    author = "Hu, Xiyang and Chen, Xinchi and Qi, Peng and Kong, Deguang and Liu, Kunlun and Wang, William Yang and Huang, Zhiheng",
    booktitle = "Findings of the Association for Computational Linguistics: ACL 2023",
    year = "2023",
    url = "https://arxiv.org/abs/2210.06633",
}
"""


class ContrastiveLoss(nn.Module):
    """What every babelir loss shares: the model, the temperature, cross-rank gathering, the embedder."""

    def __init__(
        self,
        model: nn.Module,
        temperature: float = 0.05,
        gather_across_devices: bool = False,
        embedder: Embedder | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.temperature = check_temperature(temperature)
        self.gather_across_devices = gather_across_devices
        self.embedder = embedder

    def embed_columns(self, sentence_features: Iterable[dict[str, Any]]) -> list[Tensor]:
        embed = self.embedder or sentence_embedding(self.model)
        return [embed(features) for features in sentence_features]

    def get_config_dict(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "gather_across_devices": self.gather_across_devices}

    @property
    def citation(self) -> str:
        return CITATION
