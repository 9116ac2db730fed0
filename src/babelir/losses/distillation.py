"""Multilingual knowledge distillation on parallel pairs: the translation regresses onto the English vector."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

from babelir.losses._common import Embedder, sentence_embedding


class TranslationDistillationLoss(nn.Module):
    r"""Pull each translation's embedding onto the English sentence's, as a teacher gives it.

    For parallel pairs :math:`(x_i, y_i)` (English, translation), student :math:`f` and teacher
    :math:`g`:

    .. math::
        L_{kd} = \frac{1}{B} \sum_i \big[ \lVert f(x_i) - g(x_i) \rVert^2 + \lVert f(y_i) - g(x_i) \rVert^2 \big]

    the objective of Reimers and Gurevych (2020), who train a multilingual student to reproduce a
    monolingual teacher in every language. Without a separate ``teacher`` (babelir's co-training), the
    teacher is the model itself on the English side with its gradient stopped, :math:`g = \mathrm{sg}(f)`:
    the first term vanishes and the English model, while it is being fine-tuned for retrieval, carries
    its vectors over to the translations, and only the translation side moves. Unlike the semantic
    loss there are no negatives: nothing pushes non-translations apart.

    Squared distances are summed over dimensions (not averaged): for the unit vectors of a
    sentence-transformers model with ``Normalize`` this is :math:`2 - 2\cos`, on a scale comparable to
    the other losses (a per-dimension mean would divide it by the dimension, e.g. 384).

    Args:
        model: the student, a ``SentenceTransformer`` (or any module returning ``sentence_embedding``).
        teacher: a frozen model giving the English targets; None = ``model`` itself with a stopped gradient.
        embedder: how to turn tokenised features into one vector per text (default: pooled output).

    Inputs:
        +-------------------------------+--------+
        | Texts                         | Labels |
        +===============================+========+
        | (source, translation)         | none   |
        +-------------------------------+--------+

    References: Reimers and Gurevych, "Making Monolingual Sentence Embeddings Multilingual using
    Knowledge Distillation", EMNLP 2020 (Section 2); sentence-transformers' ``MSELoss`` is the same
    regression with precomputed teacher vectors as labels.
    """

    def __init__(self, model: nn.Module, teacher: nn.Module | None = None, embedder: Embedder | None = None) -> None:
        super().__init__()
        self.model = model
        self.teacher = teacher
        self.embedder = embedder

    def forward(self, sentence_features: Iterable[dict[str, Any]], labels: Tensor | None = None) -> Tensor:
        features = list(sentence_features)
        if len(features) != 2:
            raise ValueError("TranslationDistillationLoss needs exactly (source, translation) columns")
        embed = self.embedder or sentence_embedding(self.model)
        sources, targets = embed(features[0]), embed(features[1])
        if self.teacher is None:
            return self.compute_from_embeddings(sources, targets)
        with torch.no_grad():
            teacher = sentence_embedding(self.teacher)(features[0])
        return self.compute_from_embeddings(sources, targets, teacher)

    def compute_from_embeddings(self, sources: Tensor, targets: Tensor, teacher: Tensor | None = None) -> Tensor:
        """``teacher`` None: the sources, detached, are the targets (self-distillation)."""
        goal = (sources if teacher is None else teacher).detach().float()
        loss = (targets.float() - goal).pow(2).sum(-1).mean()
        if teacher is not None:
            loss = loss + (sources.float() - goal).pow(2).sum(-1).mean()
        return loss

    def get_config_dict(self) -> dict[str, Any]:
        return {"teacher": None if self.teacher is None else type(self.teacher).__name__}
