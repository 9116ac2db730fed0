"""The co-training objective: retrieval plus the two auxiliary losses, in one step."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

from babelir.losses._common import CITATION, Embedder, sentence_embedding
from babelir.losses.distillation import TranslationDistillationLoss
from babelir.losses.dropout_views import DropoutViewContrastiveLoss
from babelir.losses.erasure import LanguageErasureLoss
from babelir.losses.language import LanguageContrastiveLoss, Variant
from babelir.losses.retrieval import RetrievalInfoNCELoss
from babelir.losses.semantic import SemanticContrastiveLoss


class CoTrainingLoss(nn.Module):
    r"""``L = L_IR + lambda_sem * L_sem + lambda_lang * L_lang``, one batch of each stream per step.

    Columns, in order (a weight of 0 drops its loss and the columns only it needs):

    +------------------------------------------------------------------------------------+--------+
    | Texts                                                                              | Labels |
    +====================================================================================+========+
    | query, positive, negative_1 .. negative_m, [source, translation], [nonparallel]    | none   |
    +------------------------------------------------------------------------------------+--------+

    ``source, translation`` are present when either auxiliary weight is non-zero; ``nonparallel`` when
    ``language_weight`` is. ``forward`` returns a dict of weighted components (``retrieval``,
    ``semantic``, ``language``); ``SentenceTransformerTrainer`` sums it and logs each part, and so does
    babelir's own trainer.

    Args:
        model: a ``SentenceTransformer`` (or any module returning ``sentence_embedding``).
        temperature: :math:`\tau` of the retrieval loss (and of the auxiliary ones unless ``aux_temperature``).
        aux_temperature: :math:`\tau` of the semantic and language losses (default: ``temperature``). In
            its quadratic regime the uniform language loss is about :math:`\log 2 + \Delta^2 / 8\tau^2`
            (:math:`\Delta` a cosine gap), so there a lower temperature acts like a larger weight.
        semantic_weight, language_weight: :math:`\lambda_{sem}`, :math:`\lambda_{lang}`. Defaults 0 and
            1, chosen on multilingual-e5-small over three seeds in ``reports/dev-history.md``: the uniform
            language loss stays within ~0.02 of its minimum log 2, so a short run (60 steps of 8) needs
            weight 10 to feel it, but from 120 steps on weight 10 costs English 4 points and weight 1 is
            best. The semantic loss (weights 0.1-1) cost English 1.5-4 nDCG@10 and helped no language
            there, because that backbone already aligns translations. Set it for a backbone that does not.
        language_variant: ``"uniform"`` (default) or ``"rank"``; see :class:`LanguageContrastiveLoss`.
        num_negatives: hard negatives per query (columns after ``positive``).
        gather_across_devices: use every rank's batch as negatives under ``torch.distributed``.
        retrieval_loss: replace the retrieval term (any module with
            ``compute_from_embeddings(queries, positives, negatives)`` or a plain ST loss taking features;
            e.g. a late-interaction loss), keeping the auxiliary terms as add-ons.
        embedder: one vector per text for the auxiliary terms (default: the model's pooled output).
        simcse_weight, distillation_weight: the field's alternatives, for controls and comparisons
            (default 0, off): :class:`DropoutViewContrastiveLoss` (SimCSE) on the same auxiliary columns
            as the language loss, without its cross-language signal, and
            :class:`TranslationDistillationLoss` (multilingual knowledge distillation) on the parallel
            pairs. Each adds its term ``simcse`` / ``distillation`` to the returned dict.
        erasure_weight: weight of :class:`LanguageErasureLoss` (LANCER's alternative to the language loss;
            default 0, off) over every auxiliary sentence (sources, translations, non-parallel), each
            labelled with its language and none paired with another: ``forward`` then needs ``labels``,
            one language id per auxiliary row in column order. It adds the term ``erasure``.

    References: Hu et al., Findings of ACL 2023 (arXiv 2210.06633), Eq. for the total loss.
    """

    def __init__(
        self,
        model: nn.Module,
        temperature: float = 0.05,
        aux_temperature: float | None = None,
        semantic_weight: float = 0.0,
        language_weight: float = 1.0,
        language_variant: Variant = "uniform",
        num_negatives: int = 0,
        gather_across_devices: bool = False,
        retrieval_loss: nn.Module | None = None,
        embedder: Embedder | None = None,
        simcse_weight: float = 0.0,
        distillation_weight: float = 0.0,
        erasure_weight: float = 0.0,
    ) -> None:
        super().__init__()
        if min(semantic_weight, language_weight, simcse_weight, distillation_weight, erasure_weight) < 0:
            raise ValueError("loss weights must be non-negative")
        self.model = model
        self.temperature = temperature
        self.aux_temperature = aux_temperature or temperature
        self.semantic_weight = float(semantic_weight)
        self.language_weight = float(language_weight)
        self.num_negatives = int(num_negatives)
        self.embedder = embedder
        self.retrieval = retrieval_loss or RetrievalInfoNCELoss(model, temperature, gather_across_devices)
        self.semantic = SemanticContrastiveLoss(model, self.aux_temperature, gather_across_devices)
        self.language = LanguageContrastiveLoss(model, self.aux_temperature, language_variant, gather_across_devices)
        self.simcse_weight = float(simcse_weight)
        self.distillation_weight = float(distillation_weight)
        self.simcse = DropoutViewContrastiveLoss(model, self.aux_temperature, gather_across_devices)
        self.distillation = TranslationDistillationLoss(model)
        self.erasure_weight = float(erasure_weight)
        self.erasure = LanguageErasureLoss(model, gather_across_devices)

    @property
    def uses_parallel(self) -> bool:
        return self.uses_nonparallel or self.semantic_weight > 0 or self.distillation_weight > 0

    @property
    def uses_nonparallel(self) -> bool:
        return self.language_weight > 0 or self.simcse_weight > 0 or self.erasure_weight > 0

    @property
    def uses_languages(self) -> bool:
        """True when ``forward`` needs ``labels``: one language id per auxiliary row (the erasure term)."""
        return self.erasure_weight > 0

    @property
    def weights(self) -> dict[str, float]:
        """Each component's weight, keyed like ``forward``'s dict (to log the losses unweighted)."""
        return {
            "retrieval": 1.0, "semantic": self.semantic_weight, "language": self.language_weight,
            "simcse": self.simcse_weight, "distillation": self.distillation_weight,
            "erasure": self.erasure_weight,
        }

    def column_names(self) -> list[str]:
        """The columns this configuration expects, in order."""
        names = ["query", "positive"] + [f"negative_{i + 1}" for i in range(self.num_negatives)]
        if self.uses_parallel:
            names += ["source", "translation"]
        if self.uses_nonparallel:
            names.append("nonparallel")
        return names

    def views(self) -> list[int]:
        """The column index of every pooled embedding :meth:`loss_from_embeddings` takes, in its order:
        the retrieval columns, the auxiliary columns, and (SimCSE) the auxiliary columns once more, whose
        second forward draws other dropout masks. Gradient caching encodes exactly these."""
        retrieval = list(range(2 + self.num_negatives))
        aux = list(range(len(retrieval), len(self.column_names()))) if self.uses_parallel else []
        return retrieval + aux + (aux if self.simcse_weight > 0 else [])

    @property
    def takes_embeddings(self) -> bool:
        """True when every term is computed from pooled embeddings (not from a token-level retrieval loss)."""
        return hasattr(self.retrieval, "compute_from_embeddings")

    def forward(self, sentence_features: Iterable[dict[str, Any]], labels: Tensor | None = None) -> dict[str, Tensor]:
        features = list(sentence_features)
        expected = self.column_names()
        if len(features) != len(expected):
            raise ValueError(f"CoTrainingLoss expects columns {expected}, got {len(features)} columns")
        embed = self.embedder or sentence_embedding(self.model)
        if self.takes_embeddings:
            return self.loss_from_embeddings([embed(features[i]) for i in self.views()], labels)
        retrieval_columns = 2 + self.num_negatives
        losses = {"retrieval": self.retrieval(features[:retrieval_columns], None)}
        aux_views = [embed(features[i]) for i in self.views()[retrieval_columns:]]
        return losses | self._auxiliary_losses(aux_views, labels)

    def loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor | None = None) -> dict[str, Tensor]:
        """The weighted components from one pooled embedding per entry of :meth:`views` (same order);
        ``labels``: the auxiliary rows' language ids, when :attr:`uses_languages`."""
        retrieval_columns = 2 + self.num_negatives
        ir = embeddings[:retrieval_columns]
        losses = {"retrieval": self.retrieval.compute_from_embeddings(ir[0], ir[1], ir[2:])}
        return losses | self._auxiliary_losses(embeddings[retrieval_columns:], labels)

    def _auxiliary_losses(self, views: list[Tensor], labels: Tensor | None = None) -> dict[str, Tensor]:
        losses: dict[str, Tensor] = {}
        if not self.uses_parallel:
            return losses
        n_aux = len(self.column_names()) - 2 - self.num_negatives
        aux, second = views[:n_aux], views[n_aux:]
        if self.semantic_weight > 0:
            losses["semantic"] = self.semantic_weight * self.semantic.compute_from_embeddings(aux[0], aux[1])
        if self.language_weight > 0:
            losses["language"] = self.language_weight * self.language.compute_from_embeddings(*aux[:3])
        if self.distillation_weight > 0:
            losses["distillation"] = self.distillation_weight * self.distillation.compute_from_embeddings(aux[0], aux[1])
        if self.simcse_weight > 0:
            # second dropout views of exactly the sentences the language loss sees, column by column
            per_column = [self.simcse.compute_from_embeddings(a, b) for a, b in zip(aux, second, strict=True)]
            losses["simcse"] = self.simcse_weight * torch.stack(per_column).mean()
        if self.erasure_weight > 0:
            if labels is None:
                raise ValueError("CoTrainingLoss with erasure_weight > 0 needs labels: the language id of "
                                 "every auxiliary row, in column order")
            losses["erasure"] = self.erasure_weight * self.erasure.compute_from_embeddings(torch.cat(aux), labels)
        return losses

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "aux_temperature": self.aux_temperature,
            "semantic_weight": self.semantic_weight,
            "language_weight": self.language_weight,
            "language_variant": self.language.variant,
            "simcse_weight": self.simcse_weight,
            "distillation_weight": self.distillation_weight,
            "erasure_weight": self.erasure_weight,
            "num_negatives": self.num_negatives,
            "retrieval_loss": type(self.retrieval).__name__,
        }

    @property
    def citation(self) -> str:
        return CITATION
