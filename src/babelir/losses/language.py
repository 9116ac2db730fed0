"""Language contrastive loss (the L_lang term of Hu et al., 2023), in two readings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from babelir.losses._common import (
    ContrastiveLoss,
    Embedder,
    cosine_logits,
    gather_with_grad,
)

Variant = Literal["uniform", "rank"]


class LanguageContrastiveLoss(ContrastiveLoss):
    r"""Make similarity blind to language, using parallel pairs and non-parallel sentences.

    A parallel pair :math:`(x_i, y_i)` means the same thing in two languages, so
    :math:`f(x_i) - f(y_i)` is a *language* direction. A language-agnostic encoder must not let any
    other sentence :math:`z_k` (any language, including languages without parallel data) prefer one side.

    ``variant="uniform"`` (default; docs/method.md's first reading): with
    :math:`p_{ik} = \frac{\exp s(z_k, x_i)}{\exp s(z_k, x_i) + \exp s(z_k, y_i)} = \sigma(s(z_k,x_i) - s(z_k,y_i))`,

    .. math::
        L_{lang} = -\frac{1}{B_z B} \sum_{k,i} \tfrac12 \big[\log p_{ik} + \log (1 - p_{ik})\big]

    the cross-entropy against the uniform target (1/2, 1/2): it equals :math:`\log 2` with zero gradient
    exactly when :math:`s(z_k, x_i) = s(z_k, y_i)` for all k, i, and grows as any :math:`z_k` prefers a side.

    ``variant="rank"`` (the second reading, for comparison): rank each translation above non-parallel
    sentences of the anchor's own language (the ``nonparallel`` column must then hold sentences in the
    language of ``source``):

    .. math::
        L'_{lang} = -\frac{1}{B} \sum_i \log \frac{\exp s(x_i, y_i)}
            {\exp s(x_i, y_i) + \sum_k \exp s(x_i, z_k)}

    Args:
        model: a ``SentenceTransformer`` (or any module returning ``sentence_embedding``).
        temperature: :math:`\tau` in :math:`s(a,b) = \cos(f(a), f(b)) / \tau`.
        variant: ``"uniform"`` or ``"rank"`` (above).
        gather_across_devices: under ``torch.distributed``, compare with every rank's pairs (uniform) or
            non-parallel sentences (rank).
        embedder: how to turn tokenised features into one vector per text (default: pooled output).

    Inputs:
        +-----------------------------------------+--------+
        | Texts                                   | Labels |
        +=========================================+========+
        | (source, translation, nonparallel)      | none   |
        +-----------------------------------------+--------+

    References: Hu et al., Findings of ACL 2023 (arXiv 2210.06633), Section 3 (language contrastive loss).

    Example::

        loss = LanguageContrastiveLoss(model)   # dataset columns: english, translation, other_sentence
    """

    def __init__(
        self,
        model: nn.Module,
        temperature: float = 0.05,
        variant: Variant = "uniform",
        gather_across_devices: bool = False,
        embedder: Embedder | None = None,
    ) -> None:
        if variant not in ("uniform", "rank"):
            raise ValueError(f"variant must be 'uniform' or 'rank', got {variant!r}")
        super().__init__(model, temperature, gather_across_devices, embedder)
        self.variant: Variant = variant

    def forward(self, sentence_features: Iterable[dict[str, Any]], labels: Tensor | None = None) -> Tensor:
        embeddings = self.embed_columns(sentence_features)
        if len(embeddings) != 3:
            raise ValueError("LanguageContrastiveLoss needs exactly (source, translation, nonparallel) columns")
        return self.compute_from_embeddings(*embeddings)

    def compute_from_embeddings(self, sources: Tensor, targets: Tensor, others: Tensor) -> Tensor:
        if self.variant == "rank":
            if self.gather_across_devices:
                others = gather_with_grad(others)
            positive = (F.normalize(sources, dim=-1) * F.normalize(targets, dim=-1)).sum(-1) / self.temperature
            negatives = cosine_logits(sources, others, self.temperature)
            logits = torch.cat([positive.unsqueeze(1), negatives], dim=1)
            return -torch.log_softmax(logits, dim=1)[:, 0].mean()
        if self.gather_across_devices:
            sources, targets = gather_with_grad(sources), gather_with_grad(targets)
        # margin[k, i] = s(z_k, x_i) - s(z_k, y_i); p_ik = sigmoid(margin)
        margin = cosine_logits(others, sources, self.temperature) - cosine_logits(others, targets, self.temperature)
        return -0.5 * (F.logsigmoid(margin) + F.logsigmoid(-margin)).mean()

    def get_config_dict(self) -> dict[str, Any]:
        return {**super().get_config_dict(), "variant": self.variant}
