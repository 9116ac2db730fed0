"""Language concept erasure loss (LANCER's idea, Huang et al., EMNLP 2024), from language-labelled text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from babelir.losses._common import Embedder, gather_with_grad, sentence_embedding, world_size


class LanguageErasureLoss(nn.Module):
    r"""Penalise what a linear probe could read about a text's language from its embedding.

    Linear concept erasure (LEACE, Belrose et al., 2023) shows that no linear classifier can predict a
    concept :math:`Z` from a representation :math:`X` better than a constant exactly when the
    cross-covariance :math:`\Sigma_{XZ}` is zero. LANCER (Huang et al., 2024) turns that condition into a
    training loss next to English retrieval, using only language-labelled, *unaligned* multilingual
    text. babelir's reading, with :math:`x` the L2-normalised embeddings, :math:`z` one-hot language
    labels with shares :math:`p_l`, and each label column standardised (so that a rare language counts as
    much as its variance allows, not less):

    .. math::
        L_{erase} = \big\lVert \Sigma_{XZ} D^{-1/2} \big\rVert_F^2
                  = \sum_l p_l (1 - p_l)\, \big\lVert \mu_l - \mu_{\neg l} \big\rVert^2,
        \qquad D = \operatorname{diag}\big(p_l (1 - p_l)\big)

    where :math:`\mu_l` is the mean embedding of language :math:`l` and :math:`\mu_{\neg l}` that of the
    other languages. Each squared distance is estimated without bias from the batch's cosine matrix (a
    linear-kernel MMD\ :sup:`2` U-statistic: within-language pairs exclude a text with itself), because
    the plug-in estimate is dominated by noise in small batches (a language seen once would count its own
    vector's spread as a language effect and the loss would pull every text to the batch mean). A
    language needs at least two texts in the batch, and so do the others, to count; the estimate can
    be slightly negative. It is zero in expectation exactly when every language has the same mean, i.e.
    when :math:`\Sigma_{XZ} = 0`.

    Args:
        model: a ``SentenceTransformer`` (or any module returning ``sentence_embedding``).
        gather_across_devices: under ``torch.distributed``, estimate over every rank's texts and labels.
        embedder: how to turn tokenised features into one vector per text (default: pooled output).

    Inputs:
        +------------------------------------+---------------------------------------+
        | Texts                              | Labels                                |
        +====================================+=======================================+
        | (sentence) or several text columns | language id per text (int), in column |
        |                                    | order when there are several columns  |
        +------------------------------------+---------------------------------------+

    References: Huang, Yu, Ravfogel and Allan, "Language Concept Erasure for Language-invariant Dense
    Retrieval", EMNLP 2024; Belrose et al., "LEACE: Perfect linear concept erasure in closed form",
    NeurIPS 2023.

    Example::

        loss = LanguageErasureLoss(model)   # dataset columns: sentence, label (an int per language)
    """

    def __init__(self, model: nn.Module, gather_across_devices: bool = False, embedder: Embedder | None = None) -> None:
        super().__init__()
        self.model = model
        self.gather_across_devices = gather_across_devices
        self.embedder = embedder

    def forward(self, sentence_features: Iterable[dict[str, Any]], labels: Tensor) -> Tensor:
        embed = self.embedder or sentence_embedding(self.model)
        embeddings = torch.cat([embed(features) for features in sentence_features])
        return self.compute_from_embeddings(embeddings, labels)

    def compute_from_embeddings(self, embeddings: Tensor, languages: Tensor) -> Tensor:
        if languages.numel() != embeddings.size(0):
            raise ValueError(f"LanguageErasureLoss needs one language label per text: "
                             f"{embeddings.size(0)} texts, {languages.numel()} labels")
        languages = languages.reshape(-1).to(embeddings.device)
        if self.gather_across_devices and world_size() > 1:
            embeddings = gather_with_grad(embeddings)
            parts = [torch.empty_like(languages) for _ in range(world_size())]
            torch.distributed.all_gather(parts, languages.contiguous())
            languages = torch.cat(parts)
        with torch.autocast(device_type=embeddings.device.type, enabled=False):
            x = F.normalize(embeddings.float(), dim=-1)
            return erasure_from_gram(x @ x.T, languages)

    def get_config_dict(self) -> dict[str, Any]:
        return {"gather_across_devices": self.gather_across_devices}

    @property
    def citation(self) -> str:
        return CITATION


def erasure_from_gram(gram: Tensor, languages: Tensor) -> Tensor:
    r""":math:`\sum_l p_l (1-p_l)\, \widehat{\lVert \mu_l - \mu_{\neg l} \rVert^2}` from the Gram matrix
    of the batch's vectors and one label per row (the unbiased pair estimate; see the class)."""
    n = gram.size(0)
    _, index = torch.unique(languages, return_inverse=True)
    members = F.one_hot(index).to(gram.dtype)  # n x K
    counts = members.sum(0)
    rest = n - counts
    diagonal = torch.diagonal(gram)
    row_sums = members.T @ gram.sum(1)  # sum over i in l, all j
    within_sums = torch.einsum("il,ij,jl->l", members, gram, members)
    own_diagonal = members.T @ diagonal
    total, trace = gram.sum(), diagonal.sum()
    usable = (counts >= 2) & (rest >= 2)
    safe_counts, safe_rest = counts.clamp(min=2), rest.clamp(min=2)
    within = (within_sums - own_diagonal) / (safe_counts * (safe_counts - 1))
    rest_sums = total - 2 * row_sums + within_sums
    rest_within = (rest_sums - (trace - own_diagonal)) / (safe_rest * (safe_rest - 1))
    cross = (row_sums - within_sums) / (safe_counts * safe_rest)
    distance = within + rest_within - 2 * cross
    share = counts / n
    return torch.where(usable, share * (1 - share) * distance, torch.zeros_like(distance)).sum()


CITATION = """
@inproceedings{huang-etal-2024-language,
    title = "Language Concept Erasure for Language-invariant Dense Retrieval",
    author = "Huang, Zhiqi and Yu, Puxuan and Ravfogel, Shauli and Allan, James",
    booktitle = "Proceedings of the 2024 Conference on Empirical Methods in Natural Language Processing",
    year = "2024",
    url = "https://aclanthology.org/2024.emnlp-main.736",
}
"""
