"""Late-interaction (MaxSim) retrieval loss: hand-checked scores, padding, and use inside CoTrainingLoss."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from babelir.losses import CoTrainingLoss, LateInteractionInfoNCELoss, RetrievalInfoNCELoss, maxsim


def _masked(lengths: list[int], length: int, dim: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random token vectors with huge values in the padding, so any leak of padding shows."""
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.randn(len(lengths), length, dim, generator=gen)
    mask = torch.zeros(len(lengths), length, dtype=torch.long)
    for row, n in enumerate(lengths):
        mask[row, :n] = 1
        tokens[row, n:] = 1e3
    return tokens, mask


def test_maxsim_matches_loop_and_ignores_padding():
    q, qm = _masked([2, 4, 1], 4, 5, seed=0)
    d, dm = _masked([3, 1, 5, 2], 5, 5, seed=1)
    got = maxsim(q, qm, d, dm)
    assert got.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            qi = F.normalize(q[i, : int(qm[i].sum())], dim=-1)
            dj = F.normalize(d[j, : int(dm[j].sum())], dim=-1)
            want = (qi @ dj.T).max(dim=1).values.mean()
            assert float(got[i, j]) == pytest.approx(float(want), abs=1e-6)


def test_one_token_per_text_reduces_to_dense_infonce():
    gen = torch.Generator().manual_seed(2)
    q, p, n = (torch.randn(4, 8, generator=gen) for _ in range(3))
    ones = torch.ones(4, 1, dtype=torch.long)
    late = LateInteractionInfoNCELoss(None, temperature=0.1).compute_from_tokens(
        (q[:, None], ones), [(p[:, None], ones), (n[:, None], ones)]
    )
    dense = RetrievalInfoNCELoss(None, temperature=0.1).compute_from_embeddings(q, p, [n])
    assert float(late) == pytest.approx(float(dense), rel=1e-6)


def test_passage_columns_of_different_lengths_are_padded_together():
    q = _masked([3, 2], 3, 6, seed=3)
    p = _masked([4, 2], 4, 6, seed=4)
    n = _masked([1, 6], 6, 6, seed=5)
    loss = LateInteractionInfoNCELoss(None, temperature=0.1).compute_from_tokens(q, [p, n])
    d_tok = torch.cat([F.pad(p[0], (0, 0, 0, 2)), n[0]])
    d_mask = torch.cat([F.pad(p[1], (0, 2)), n[1]])
    want = F.cross_entropy(maxsim(*q, d_tok, d_mask) / 0.1, torch.arange(2))
    assert float(loss) == pytest.approx(float(want), rel=1e-6)


class TokenLookup(torch.nn.Module):
    """Features {"ids": (n, length), "attention_mask"} -> token vectors and a mean-pooled sentence vector."""

    def __init__(self) -> None:
        super().__init__()
        self.table = torch.nn.Parameter(torch.randn(20, 6, generator=torch.Generator().manual_seed(6)))

    def forward(self, features):
        tokens = self.table[features["ids"]]
        mask = features["attention_mask"]
        pooled = (tokens * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return {"token_embeddings": tokens, "attention_mask": mask, "sentence_embedding": pooled}


def _column(rows: list[list[int]]) -> dict[str, torch.Tensor]:
    length = max(map(len, rows))
    ids = torch.tensor([r + [0] * (length - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (length - len(r)) for r in rows])
    return {"ids": ids, "attention_mask": mask}


def test_cotraining_with_late_interaction_trains_tokens_and_pooled_vector():
    model = TokenLookup()
    loss = CoTrainingLoss(model, temperature=0.1, language_weight=1.0,
                          retrieval_loss=LateInteractionInfoNCELoss(model, temperature=0.1))
    columns = [_column([[1, 2, 3], [4, 5]]), _column([[6, 7], [8, 9, 10, 11]]),  # query, positive
               _column([[12], [13, 14]]), _column([[15, 16], [17]]), _column([[18, 19], [3]])]  # aux
    parts = loss(columns)
    assert set(parts) == {"retrieval", "language"}
    direct = LateInteractionInfoNCELoss(model, temperature=0.1)(columns[:2])
    assert float(parts["retrieval"].detach()) == pytest.approx(float(direct.detach()))
    sum(parts.values()).backward()
    touched = model.table.grad.abs().sum(dim=1) > 0
    assert touched[[1, 6, 12, 18]].all()  # retrieval columns and auxiliary columns both get gradient
    assert loss.get_config_dict()["retrieval_loss"] == "LateInteractionInfoNCELoss"


def test_late_interaction_needs_a_passage_column():
    model = TokenLookup()
    with pytest.raises(ValueError, match="query, positive"):
        LateInteractionInfoNCELoss(model)([_column([[1]])])
