"""The control and the alternative to the language loss: SimCSE on the auxiliary sentences, and
multilingual knowledge distillation, pinned on hand examples and inside CoTrainingLoss."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from babelir.losses import CoTrainingLoss, DropoutViewContrastiveLoss, TranslationDistillationLoss
from tests.losses.test_losses import TAU, LookupModel


def test_simcse_matches_hand_computation_for_identical_orthogonal_views() -> None:
    views = torch.eye(3)  # three orthogonal sentences, two identical views each: cos 1 with itself, 0 else
    loss = DropoutViewContrastiveLoss(None, TAU).compute_from_embeddings(views, views.clone())
    expected = -math.log(math.exp(1 / TAU) / (math.exp(1 / TAU) + 2))
    assert float(loss) == pytest.approx(expected)


def test_simcse_is_lower_when_the_views_agree() -> None:
    gen = torch.Generator().manual_seed(0)
    first = torch.randn(6, 8, generator=gen)
    near = first + 0.01 * torch.randn(6, 8, generator=gen)
    far = torch.randn(6, 8, generator=gen)
    simcse = DropoutViewContrastiveLoss(None, TAU)
    assert float(simcse.compute_from_embeddings(first, near)) < float(simcse.compute_from_embeddings(first, far))


def test_simcse_never_makes_a_translation_a_negative_of_its_source() -> None:
    """Columns are separate batches: a source and its translation, identical here, cost nothing extra."""
    table = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    model = LookupModel(table)
    cols = [{"ids": torch.tensor([0, 1])}, {"ids": torch.tensor([0, 1])}]  # translation == source
    loss = DropoutViewContrastiveLoss(model, TAU)(cols)
    single = DropoutViewContrastiveLoss(model, TAU)(cols[:1])
    assert float(loss.detach()) == pytest.approx(float(single.detach()))


def test_distillation_is_the_squared_distance_to_the_stopped_english_vector() -> None:
    sources = torch.tensor([[1.0, 0.0], [0.0, 1.0]], requires_grad=True)
    targets = torch.tensor([[0.6, 0.8], [0.0, 1.0]], requires_grad=True)
    loss = TranslationDistillationLoss(None).compute_from_embeddings(sources, targets)
    assert float(loss.detach()) == pytest.approx(((0.4**2 + 0.8**2) + 0.0) / 2)
    loss.backward()
    assert sources.grad is None  # the English side is the teacher: only translations move
    assert torch.allclose(targets.grad, torch.tensor([[-0.4, 0.8], [0.0, 0.0]]))


def test_distillation_with_a_teacher_also_pulls_the_english_side() -> None:
    teacher = torch.tensor([[1.0, 0.0]])
    sources, targets = torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 0.0]])
    loss = TranslationDistillationLoss(None).compute_from_embeddings(sources, targets, teacher)
    assert float(loss) == pytest.approx(2.0)  # English 2.0 away from the teacher, translation on it


def test_cotraining_adds_the_control_and_the_alternative_on_the_auxiliary_columns() -> None:
    table = F.normalize(torch.randn(10, 8, generator=torch.Generator().manual_seed(5)), dim=-1)
    model = LookupModel(table)
    cols = [{"ids": torch.tensor([2 * i, 2 * i + 1])} for i in range(5)]
    loss = CoTrainingLoss(model, temperature=TAU, language_weight=0, simcse_weight=2.0, distillation_weight=3.0)
    assert loss.column_names() == ["query", "positive", "source", "translation", "nonparallel"]
    parts = loss(cols)
    assert set(parts) == {"retrieval", "simcse", "distillation"}
    e = [table[2 * i : 2 * i + 2] for i in range(5)]
    simcse = DropoutViewContrastiveLoss(None, TAU)
    per_column = [float(simcse.compute_from_embeddings(c, c)) for c in e[2:]]  # a lookup has no dropout
    assert float(parts["simcse"].detach()) == pytest.approx(2.0 * sum(per_column) / 3)
    distilled = TranslationDistillationLoss(None).compute_from_embeddings(e[2], e[3])
    assert float(parts["distillation"].detach()) == pytest.approx(3.0 * float(distilled))
    assert loss.weights["simcse"] == 2.0 and loss.weights["distillation"] == 3.0
    only_distillation = CoTrainingLoss(model, language_weight=0, distillation_weight=1.0)
    assert only_distillation.column_names() == ["query", "positive", "source", "translation"]
    with pytest.raises(ValueError, match="non-negative"):
        CoTrainingLoss(model, simcse_weight=-1.0)
