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
    """``cos(a_i, b_j) / temperature`` for every pair: shape ``(len(a), len(b))``."""
    return F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T / temperature


def gather_with_grad(tensor: Tensor) -> Tensor:
    """Concatenate ``tensor`` from every rank (this rank's slice keeps its gradient).

    Outside ``torch.distributed`` this is the identity, so every loss works the same on one process.
    """
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return tensor
    if torch.distributed.get_world_size() == 1:
        return tensor
    from sentence_transformers.util.distributed import all_gather_with_grad

    return all_gather_with_grad(tensor)


def rank_offset(local_batch: int) -> int:
    """Index of this rank's first row in a gathered batch (0 on one process)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank() * local_batch
    return 0


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
