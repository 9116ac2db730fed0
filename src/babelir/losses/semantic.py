"""Semantic contrastive loss on parallel pairs (the L_sem term of Hu et al., 2023)."""

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


class SemanticContrastiveLoss(ContrastiveLoss):
    r"""Symmetric InfoNCE that pulls translations together and pushes non-translations apart.

    For parallel pairs :math:`(x_i, y_i)` (e.g. English and its translation), batch size B:

    .. math::
        L_{sem} = -\frac{1}{2B} \sum_i \Big[
            \log \mathrm{softmax}_j\, s(x_i, y_j)\big|_{j=i} + \log \mathrm{softmax}_j\, s(y_i, x_j)\big|_{j=i}
        \Big]

    In-batch non-translations are the negatives (gathered across ranks with ``gather_across_devices``).

    Args:
        model: a ``SentenceTransformer`` (or any module returning ``sentence_embedding``).
        temperature: :math:`\tau` in :math:`s(a,b) = \cos(f(a), f(b)) / \tau`.
        gather_across_devices: under ``torch.distributed``, use every rank's pairs as negatives.
        embedder: how to turn tokenised features into one vector per text (default: pooled output);
            a late-interaction model passes e.g. a masked mean of its token vectors.

    Inputs:
        +-------------------------------+--------+
        | Texts                         | Labels |
        +===============================+========+
        | (source, translation)         | none   |
        +-------------------------------+--------+

    Recommendations: mix language pairs inside a batch; duplicated sentences in a batch are false
    negatives. If translations are already aligned (as in multilingual-e5), this loss is small and can
    push apart merely related sentences: weigh it with care (see ``reports/dev-history.md``).

    References: Hu et al., Findings of ACL 2023 (arXiv 2210.06633), Section 3 (semantic contrastive loss).

    Example::

        loss = SemanticContrastiveLoss(model)          # dataset columns: english, translation
        trainer = SentenceTransformerTrainer(model=model, train_dataset={"ir": ir_ds, "par": par_ds},
                                             loss={"ir": MultipleNegativesRankingLoss(model), "par": loss})
    """

    def forward(self, sentence_features: Iterable[dict[str, Any]], labels: Tensor | None = None) -> Tensor:
        embeddings = self.embed_columns(sentence_features)
        if len(embeddings) != 2:
            raise ValueError("SemanticContrastiveLoss needs exactly (source, translation) columns")
        return self.compute_from_embeddings(*embeddings)

    def compute_from_embeddings(self, sources: Tensor, targets: Tensor) -> Tensor:
        local_batch = sources.size(0)
        offset = 0
        all_sources, all_targets = sources, targets
        if self.gather_across_devices:
            all_sources, all_targets = gather_with_grad(sources), gather_with_grad(targets)
            offset = rank_offset(local_batch)
        labels = torch.arange(offset, offset + local_batch, device=sources.device)
        forward = F.cross_entropy(cosine_logits(sources, all_targets, self.temperature), labels)
        backward = F.cross_entropy(cosine_logits(targets, all_sources, self.temperature), labels)
        return (forward + backward) / 2
