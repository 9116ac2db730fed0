"""Retrieval InfoNCE with in-batch and hard negatives (the L_IR term of Hu et al., 2023)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from babelir.losses._common import (
    ContrastiveLoss,
    cosine_logits,
    gather_with_grad,
    rank_offset,
)


class RetrievalInfoNCELoss(ContrastiveLoss):
    r"""Contrastive retrieval loss over in-batch passages and optional hard negatives.

    For queries :math:`q_i`, positives :math:`p_i` and hard negatives :math:`n_{i,1..m}` (batch size B),
    with :math:`s(a, b) = \cos(f(a), f(b)) / \tau`:

    .. math::
        L_{IR} = -\frac{1}{B} \sum_i \log
            \frac{\exp s(q_i, p_i)}{\sum_{d \in P \cup N} \exp s(q_i, d)}

    where :math:`P \cup N` holds every positive and every hard negative of the batch (gathered across
    ranks when ``gather_across_devices`` is set, so the global batch supplies the negatives).

    Args:
        model: a ``SentenceTransformer`` (or any module returning ``sentence_embedding``).
        temperature: :math:`\tau`; 0.05 is the usual value for e5-style cosine models.
        gather_across_devices: under ``torch.distributed``, use every rank's passages as negatives.
        embedder: how to turn tokenised features into vectors; the default is the model's pooled output.

    Inputs:
        +------------------------------------------+--------+
        | Texts                                    | Labels |
        +==========================================+========+
        | (query, positive, negative_1 ... m)      | none   |
        +------------------------------------------+--------+

    References:
        Hu et al., "Language Agnostic Multilingual Information Retrieval with Contrastive Learning",
        Findings of ACL 2023 (arXiv 2210.06633); van den Oord et al., 2018 (InfoNCE).

    Related: ``sentence_transformers.losses.MultipleNegativesRankingLoss`` computes the same quantity with
    ``scale = 1 / temperature``; this module exposes ``compute_from_embeddings`` for co-training.

    Example::

        from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
        from babelir.losses import RetrievalInfoNCELoss

        model = SentenceTransformer("path/to/model")
        loss = RetrievalInfoNCELoss(model, temperature=0.05)
        trainer = SentenceTransformerTrainer(model=model, train_dataset=ds, loss=loss)  # ds: query, positive
    """

    def forward(self, sentence_features: Iterable[dict[str, Any]], labels: Tensor | None = None) -> Tensor:
        embeddings = self.embed_columns(sentence_features)
        if len(embeddings) < 2:
            raise ValueError("RetrievalInfoNCELoss needs (query, positive[, negatives...]) columns")
        return self.compute_from_embeddings(embeddings[0], embeddings[1], embeddings[2:])

    def compute_from_embeddings(self, queries: Tensor, positives: Tensor, negatives: list[Tensor] = ()) -> Tensor:
        local_batch = queries.size(0)
        offset = 0
        if self.gather_across_devices:
            positives = gather_with_grad(positives)
            negatives = [gather_with_grad(n) for n in negatives]
            offset = rank_offset(local_batch)
        passages = torch.cat([positives, *negatives], dim=0)
        logits = cosine_logits(queries, passages, self.temperature)
        targets = torch.arange(offset, offset + local_batch, device=queries.device)
        return F.cross_entropy(logits, targets)

