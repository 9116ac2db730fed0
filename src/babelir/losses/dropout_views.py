"""Unsupervised SimCSE on the auxiliary sentences: more text in more languages, no language objective."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from babelir.losses._common import ContrastiveLoss, cosine_logits, gather_with_grad, rank_offset


class DropoutViewContrastiveLoss(ContrastiveLoss):
    r"""Each sentence's second dropout view is its positive; the other sentences are negatives (SimCSE).

    Every sentence :math:`x_i` is encoded twice in training mode, so two dropout masks give two views
    :math:`h_i, h_i^+`; with :math:`s(a,b) = \cos(a, b) / \tau` over a batch of N sentences:

    .. math::
        L_{view} = -\frac{1}{N} \sum_i \log \frac{\exp s(h_i, h_i^+)}{\sum_j \exp s(h_i, h_j^+)}

    In babelir it is the *control* for the language loss: given the same sentences the language loss
    sees (sources, translations and non-parallel sentences, in all their languages), it trains on them
    without any cross-language signal (translations are never paired), so "more text in more
    languages" can be told apart from "language-agnostic geometry" (reports/dev-history.md).

    Args:
        model: a ``SentenceTransformer`` (or any module returning ``sentence_embedding``), in train mode:
            without dropout the two views are identical and the loss only spreads sentences apart.
        temperature: :math:`\tau` (SimCSE uses 0.05).
        gather_across_devices: under ``torch.distributed``, every rank's sentences are negatives.
        embedder: how to turn tokenised features into one vector per text (default: pooled output).

    Inputs:
        +-------------------------------+--------+
        | Texts                         | Labels |
        +===============================+========+
        | (sentence,) or several columns| none   |
        +-------------------------------+--------+

    Each column is its own batch: a sentence and its translation (two columns of one row) are never
    each other's negatives, which would push translations apart; the loss is the mean over columns.

    References: Gao, Yao and Chen, "SimCSE: Simple Contrastive Learning of Sentence Embeddings",
    EMNLP 2021 (unsupervised SimCSE, Section 3).
    """

    def forward(self, sentence_features: Iterable[dict[str, Any]], labels: Tensor | None = None) -> Tensor:
        features = list(sentence_features)
        first = self.embed_columns(features)
        second = self.embed_columns(features)  # a second forward: other dropout masks
        return torch.stack([self.compute_from_embeddings(a, b) for a, b in zip(first, second, strict=True)]).mean()

    def compute_from_embeddings(self, first: Tensor, second: Tensor) -> Tensor:
        local_batch = first.size(0)
        offset, all_second = 0, second
        if self.gather_across_devices:
            all_second, offset = gather_with_grad(second), rank_offset(local_batch)
        labels = torch.arange(offset, offset + local_batch, device=first.device)
        return F.cross_entropy(cosine_logits(first, all_second, self.temperature).float(), labels)
