"""Late-interaction (ColBERT-style MaxSim) retrieval InfoNCE: a second retriever type for claim 4.

The auxiliary losses need one vector per sentence; a late-interaction retriever scores a query against a
passage token by token. Both come from the same encoder: ``CoTrainingLoss(retrieval_loss=
LateInteractionInfoNCELoss(model))`` trains MaxSim retrieval while the semantic and language losses act
on the pooled vector of the same transformer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from babelir.losses._common import ContrastiveLoss, gather_with_grad, rank_offset, world_size

# features -> (token vectors (n, length, dim), attention mask (n, length))
TokenEmbedder = Callable[[dict[str, Any]], tuple[Tensor, Tensor]]


def token_embedding(model: torch.nn.Module) -> TokenEmbedder:
    """The default token embedder: the transformer's last hidden states and the attention mask."""

    def embed(features: dict[str, Any]) -> tuple[Tensor, Tensor]:
        out = model(features)
        return out["token_embeddings"], out["attention_mask"]

    return embed


def maxsim(queries: Tensor, query_mask: Tensor, documents: Tensor, document_mask: Tensor) -> Tensor:
    r"""Mean over each query's tokens of the best cosine with any token of each document.

    Shapes: queries ``(nq, lq, dim)``, ``query_mask`` ``(nq, lq)``, documents ``(nd, ld, dim)``,
    ``document_mask`` ``(nd, ld)``; returns ``(nq, nd)`` scores in [-1, 1]. Token vectors are normalised
    here; padding never wins a max and never counts in the mean. The computation is
    sentence-transformers' ``util.mean_maxsim`` (differentiable, so the loss trains through it); evaluation
    scores with the same function (``tests/losses/test_late_interaction.py`` pins both on a plain loop).
    """
    from sentence_transformers.util import mean_maxsim

    return mean_maxsim(F.normalize(queries, dim=-1), F.normalize(documents, dim=-1), query_mask, document_mask)


def _gather_padded(tokens: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """Every rank's token vectors and masks, padded to the longest sequence of any rank (under
    ``torch.distributed`` with more than one process)."""
    longest = torch.tensor([tokens.size(1)], device=tokens.device)
    torch.distributed.all_reduce(longest, op=torch.distributed.ReduceOp.MAX)
    pad = int(longest) - tokens.size(1)
    tokens = F.pad(tokens, (0, 0, 0, pad))
    mask = F.pad(mask, (0, pad))
    return gather_with_grad(tokens), gather_with_grad(mask.to(tokens.dtype))


class LateInteractionInfoNCELoss(ContrastiveLoss):
    r"""Contrastive retrieval loss with ColBERT's MaxSim score instead of one cosine per text.

    With :math:`E_q` the normalised token vectors of query q and :math:`E_d` those of passage d,

    .. math::
        s(q, d) = \frac{1}{\tau\,|q|} \sum_{i \in q} \max_{j \in d} E_{q,i} \cdot E_{d,j}, \qquad
        L_{IR} = -\frac{1}{B} \sum_i \log \frac{\exp s(q_i, p_i)}{\sum_{d \in P \cup N} \exp s(q_i, d)}

    over in-batch positives :math:`P` and hard negatives :math:`N`, as in
    :class:`~babelir.losses.RetrievalInfoNCELoss`. Averaging over query tokens (ColBERT sums) keeps the
    score a cosine in [-1, 1], so the usual temperature of 0.05 applies. Token vectors are the encoder's
    last hidden states (no projection layer, so the saved model stays a plain sentence-transformers
    directory whose pooled vector the auxiliary losses train); every non-padding token counts, prompt and
    special tokens included.

    Args:
        model: a ``SentenceTransformer`` (its forward returns ``token_embeddings`` and ``attention_mask``).
        temperature: :math:`\tau`.
        gather_across_devices: under ``torch.distributed``, every rank's passages (padded to the longest)
            are negatives.
        token_embedder: features -> (token vectors, mask); default: the model's own forward. Under DDP
            pass one that calls the DDP wrapper so gradients are averaged.

    Inputs:
        +------------------------------------------+--------+
        | Texts                                    | Labels |
        +==========================================+========+
        | (query, positive, negative_1 ... m)      | none   |
        +------------------------------------------+--------+

    References:
        Khattab and Zaharia, "ColBERT: Efficient and Effective Passage Search via Contextualized Late
        Interaction over BERT", SIGIR 2020; Hu et al., Findings of ACL 2023 (the auxiliary losses this
        retriever is paired with in ``CoTrainingLoss``).

    Example::

        from babelir.losses import CoTrainingLoss, LateInteractionInfoNCELoss

        loss = CoTrainingLoss(model, retrieval_loss=LateInteractionInfoNCELoss(model), language_weight=1)
    """

    def __init__(
        self,
        model: torch.nn.Module,
        temperature: float = 0.05,
        gather_across_devices: bool = False,
        token_embedder: TokenEmbedder | None = None,
    ) -> None:
        super().__init__(model, temperature, gather_across_devices)
        self.token_embedder = token_embedder

    def forward(self, sentence_features: Iterable[dict[str, Any]], labels: Tensor | None = None) -> Tensor:
        embed = self.token_embedder or token_embedding(self.model)
        columns = [embed(features) for features in sentence_features]
        if len(columns) < 2:
            raise ValueError("LateInteractionInfoNCELoss needs (query, positive[, negatives...]) columns")
        return self.compute_from_tokens(columns[0], columns[1:])

    def compute_from_tokens(self, query: tuple[Tensor, Tensor], passages: list[tuple[Tensor, Tensor]]) -> Tensor:
        """``query`` and each passage column as (token vectors, mask); column 0 holds the positives."""
        q_tokens, q_mask = query
        longest = max(tokens.size(1) for tokens, _ in passages)
        d_tokens = torch.cat([F.pad(t, (0, 0, 0, longest - t.size(1))) for t, _ in passages])
        d_mask = torch.cat([F.pad(m, (0, longest - m.size(1))) for _, m in passages])
        local_batch = q_tokens.size(0)
        offset = 0
        if self.gather_across_devices:
            # one padded gather of all columns, reordered like RetrievalInfoNCELoss's passages
            d_tokens, d_mask, offset = self._gather(d_tokens, d_mask, local_batch, len(passages))
        logits = maxsim(q_tokens, q_mask, d_tokens, d_mask) / self.temperature
        targets = torch.arange(offset, offset + local_batch, device=q_tokens.device)
        return F.cross_entropy(logits, targets)

    @staticmethod
    def _gather(tokens: Tensor, mask: Tensor, local_batch: int, columns: int) -> tuple[Tensor, Tensor, int]:
        world = world_size()
        if world == 1:
            return tokens, mask, 0
        tokens, mask = _gather_padded(tokens, mask)
        per_rank = local_batch * columns
        # put every rank's positives first (column 0), in rank order, so target = global row index
        order = [r * per_rank + c * local_batch + i for c in range(columns) for r in range(world)
                 for i in range(local_batch)]
        index = torch.tensor(order, device=tokens.device)
        return tokens[index], mask[index], rank_offset(local_batch)

    def get_config_dict(self) -> dict[str, Any]:
        return {**super().get_config_dict(), "score": "maxsim (mean over query tokens)"}
