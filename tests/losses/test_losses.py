"""Pin the math of each loss against hand computations on tiny examples."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from babelir.losses import (
    CoTrainingLoss,
    LanguageContrastiveLoss,
    RetrievalInfoNCELoss,
    SemanticContrastiveLoss,
)

TAU = 0.5


class LookupModel(torch.nn.Module):
    """Features {"ids": LongTensor} -> rows of a fixed embedding table (stands in for an encoder)."""

    def __init__(self, table: torch.Tensor) -> None:
        super().__init__()
        self.table = torch.nn.Parameter(table.clone())

    def forward(self, features):
        return {"sentence_embedding": self.table[features["ids"]]}


def cos(a, b):
    return float(F.cosine_similarity(torch.tensor(a, dtype=torch.float), torch.tensor(b, dtype=torch.float), dim=0))


def test_retrieval_matches_hand_computation_with_hard_negative():
    q = [[1.0, 0.0], [0.0, 1.0]]
    p = [[1.0, 1.0], [-1.0, 1.0]]
    n = [[1.0, -1.0], [0.0, -1.0]]
    loss = RetrievalInfoNCELoss(None, temperature=TAU).compute_from_embeddings(
        torch.tensor(q), torch.tensor(p), [torch.tensor(n)]
    )
    passages = p + n
    expected = 0.0
    for i in range(2):
        logits = [cos(q[i], d) / TAU for d in passages]
        expected -= logits[i] - math.log(sum(math.exp(x) for x in logits))
    assert float(loss) == pytest.approx(expected / 2, rel=1e-6)


def test_retrieval_forward_embeds_each_column():
    table = torch.randn(6, 4, generator=torch.Generator().manual_seed(0))
    model = LookupModel(table)
    features = [{"ids": torch.tensor([0, 1])}, {"ids": torch.tensor([2, 3])}, {"ids": torch.tensor([4, 5])}]
    loss = RetrievalInfoNCELoss(model, temperature=TAU)(features, None)
    direct = RetrievalInfoNCELoss(None, temperature=TAU).compute_from_embeddings(table[:2], table[2:4], [table[4:]])
    assert float(loss.detach()) == pytest.approx(float(direct.detach()))
    loss.backward()
    assert model.table.grad.abs().sum() > 0


def test_semantic_matches_hand_computation():
    x = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    y = [[2.0, 0.5], [0.1, 1.0], [1.0, 0.8]]
    loss = SemanticContrastiveLoss(None, temperature=TAU).compute_from_embeddings(torch.tensor(x), torch.tensor(y))
    expected = 0.0
    for a, b in ((x, y), (y, x)):
        for i in range(3):
            logits = [cos(a[i], b[j]) / TAU for j in range(3)]
            expected -= logits[i] - math.log(sum(math.exp(v) for v in logits))
    assert float(loss) == pytest.approx(expected / 6, rel=1e-6)


def test_semantic_lower_for_aligned_than_shuffled_pairs():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(8, 16, generator=gen)
    y = x + 0.1 * torch.randn(8, 16, generator=gen)
    loss = SemanticContrastiveLoss(None, temperature=0.05)
    aligned = loss.compute_from_embeddings(x, y)
    shuffled = loss.compute_from_embeddings(x, y[torch.roll(torch.arange(8), 1)])
    assert float(aligned) < float(shuffled)


def test_language_is_log2_with_zero_gradient_when_equidistant():
    x = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]], requires_grad=True)
    y = torch.tensor([[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]], requires_grad=True)
    # each z is equally similar to both sides of every pair
    z = torch.tensor([[0.0, 0.0, 1.0, 0.0], [1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]], requires_grad=True)
    loss = LanguageContrastiveLoss(None, temperature=TAU).compute_from_embeddings(x, y, z)
    assert float(loss.detach()) == pytest.approx(math.log(2), abs=1e-7)
    loss.backward()
    for tensor in (x, y, z):
        assert tensor.grad.abs().max() < 1e-7


def test_language_grows_when_a_sentence_prefers_one_side():
    x = torch.tensor([[1.0, 0.0, 0.0]])
    y = torch.tensor([[0.0, 1.0, 0.0]])
    loss = LanguageContrastiveLoss(None, temperature=TAU)
    neutral = float(loss.compute_from_embeddings(x, y, torch.tensor([[0.0, 0.0, 1.0]])))
    leaning = float(loss.compute_from_embeddings(x, y, torch.tensor([[0.5, 0.0, 1.0]])))
    strongly = float(loss.compute_from_embeddings(x, y, torch.tensor([[1.0, 0.0, 0.0]])))
    assert neutral == pytest.approx(math.log(2))
    assert neutral < leaning < strongly
    # hand value: z = x, s(z,x) = 1/tau, s(z,y) = 0 -> p = sigmoid(1/tau)
    p = 1 / (1 + math.exp(-1 / TAU))
    assert strongly == pytest.approx(-0.5 * (math.log(p) + math.log(1 - p)), rel=1e-6)


def test_language_rank_variant_matches_hand_computation():
    x = [[1.0, 0.0], [0.0, 1.0]]
    y = [[1.0, 0.2], [0.3, 1.0]]
    z = [[1.0, 1.0], [-1.0, 0.5], [0.2, -1.0]]
    loss = LanguageContrastiveLoss(None, temperature=TAU, variant="rank").compute_from_embeddings(
        torch.tensor(x), torch.tensor(y), torch.tensor(z)
    )
    expected = 0.0
    for i in range(2):
        pos = cos(x[i], y[i]) / TAU
        negs = [cos(x[i], zk) / TAU for zk in z]
        expected -= pos - math.log(math.exp(pos) + sum(math.exp(v) for v in negs))
    assert float(loss) == pytest.approx(expected / 2, rel=1e-6)


def test_language_rejects_unknown_variant():
    with pytest.raises(ValueError, match="variant"):
        LanguageContrastiveLoss(None, variant="bogus")


def test_cotraining_sums_weighted_components_and_drops_unused_columns():
    table = torch.randn(10, 8, generator=torch.Generator().manual_seed(2))
    model = LookupModel(table)
    cols = [{"ids": torch.tensor([2 * i, 2 * i + 1])} for i in range(5)]
    full = CoTrainingLoss(model, temperature=TAU, semantic_weight=0.5, language_weight=2.0)
    assert full.column_names() == ["query", "positive", "source", "translation", "nonparallel"]
    parts = full(cols)
    e = [table[2 * i : 2 * i + 2] for i in range(5)]
    assert float(parts["retrieval"].detach()) == pytest.approx(
        float(RetrievalInfoNCELoss(None, TAU).compute_from_embeddings(e[0], e[1]))
    )
    assert float(parts["semantic"].detach()) == pytest.approx(
        0.5 * float(SemanticContrastiveLoss(None, TAU).compute_from_embeddings(e[2], e[3]))
    )
    assert float(parts["language"].detach()) == pytest.approx(
        2.0 * float(LanguageContrastiveLoss(None, TAU).compute_from_embeddings(e[2], e[3], e[4]))
    )
    retrieval_only = CoTrainingLoss(model, temperature=TAU, semantic_weight=0, language_weight=0)
    assert retrieval_only.column_names() == ["query", "positive"]
    assert set(retrieval_only(cols[:2])) == {"retrieval"}
    with pytest.raises(ValueError, match="expects columns"):
        retrieval_only(cols)


def test_cotraining_accepts_another_retrieval_loss():
    """The auxiliary terms are add-ons: any retrieval loss taking features can replace L_IR."""

    class ConstantRetrieval(torch.nn.Module):
        def forward(self, features, labels):
            return torch.tensor(3.0)

    table = torch.randn(8, 4, generator=torch.Generator().manual_seed(3))
    model = LookupModel(table)
    loss = CoTrainingLoss(model, semantic_weight=1.0, language_weight=0, retrieval_loss=ConstantRetrieval())
    parts = loss([{"ids": torch.tensor([2 * i, 2 * i + 1])} for i in range(4)])
    assert float(parts["retrieval"].detach()) == 3.0 and "semantic" in parts


def test_cotraining_aux_temperature_applies_to_auxiliary_losses_only():
    table = torch.randn(10, 8, generator=torch.Generator().manual_seed(4))
    model = LookupModel(table)
    cols = [{"ids": torch.tensor([2 * i, 2 * i + 1])} for i in range(5)]
    e = [table[2 * i : 2 * i + 2] for i in range(5)]
    parts = CoTrainingLoss(model, temperature=TAU, aux_temperature=0.2, semantic_weight=1.0, language_weight=1.0)(cols)
    assert float(parts["retrieval"].detach()) == pytest.approx(
        float(RetrievalInfoNCELoss(None, TAU).compute_from_embeddings(e[0], e[1]))
    )
    assert float(parts["semantic"].detach()) == pytest.approx(
        float(SemanticContrastiveLoss(None, 0.2).compute_from_embeddings(e[2], e[3]))
    )
    assert float(parts["language"].detach()) == pytest.approx(
        float(LanguageContrastiveLoss(None, 0.2).compute_from_embeddings(e[2], e[3], e[4]))
    )
    assert float(parts["language"].detach()) != pytest.approx(
        float(LanguageContrastiveLoss(None, TAU).compute_from_embeddings(e[2], e[3], e[4]))
    )
