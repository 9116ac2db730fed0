"""The language erasure loss (LANCER's alternative to the language loss): its estimate pinned on hand
examples and against the plain definition, its expectation, its gradient, and its place in CoTrainingLoss."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from babelir.losses import CoTrainingLoss, LanguageErasureLoss
from babelir.losses.erasure import erasure_from_gram
from babelir.training.steps import language_id
from tests.losses.test_losses import LookupModel


def plain_definition(x: torch.Tensor, labels: list[int]) -> float:
    """sum_l p_l (1 - p_l) * unbiased ||mu_l - mu_rest||^2, written out pair by pair."""
    n, total = len(labels), 0.0
    for language in set(labels):
        own = [i for i in range(n) if labels[i] == language]
        rest = [i for i in range(n) if labels[i] != language]
        if len(own) < 2 or len(rest) < 2:
            continue
        within = sum(float(x[i] @ x[j]) for i in own for j in own if i != j) / (len(own) * (len(own) - 1))
        others = sum(float(x[i] @ x[j]) for i in rest for j in rest if i != j) / (len(rest) * (len(rest) - 1))
        cross = sum(float(x[i] @ x[j]) for i in own for j in rest) / (len(own) * len(rest))
        share = len(own) / n
        total += share * (1 - share) * (within + others - 2 * cross)
    return total


def test_two_languages_on_orthogonal_axes_cost_their_squared_mean_distance() -> None:
    x = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    loss = LanguageErasureLoss(None).compute_from_embeddings(x, torch.tensor([7, 7, 9, 9]))
    # each language: p(1-p) = 1/4, ||mu_l - mu_rest||^2 = 2; both languages count
    assert float(loss) == pytest.approx(2 * 0.25 * 2.0)


def test_the_estimate_matches_the_definition_and_skips_languages_seen_once() -> None:
    x = F.normalize(torch.randn(14, 6, generator=torch.Generator().manual_seed(3)), dim=-1)
    labels = [0, 0, 0, 1, 1, 2, 3, 3, 3, 3, 4, 0, 5, 1]  # languages 2, 4 and 5 appear once
    got = float(erasure_from_gram(x @ x.T, torch.tensor(labels)))
    assert got == pytest.approx(plain_definition(x, labels), abs=1e-6)
    once = [0, 0, 0, 1, 1, 9, 3, 3, 3, 3, 8, 0, 7, 1]  # other ids for the singletons: same value
    assert float(erasure_from_gram(x @ x.T, torch.tensor(once))) == pytest.approx(got, abs=1e-6)


def test_languages_drawn_from_one_distribution_cost_nothing_on_average() -> None:
    """Unbiased: with labels independent of the vectors the estimate is centred on 0 (the plug-in estimate
    would not be: it counts each language's own spread as a language effect)."""
    gen = torch.Generator().manual_seed(0)
    values = []
    for _ in range(200):
        x = F.normalize(torch.randn(16, 8, generator=gen) + 1.0, dim=-1)
        values.append(float(erasure_from_gram(x @ x.T, torch.randint(0, 4, (16,), generator=gen))))
    mean, spread = torch.tensor(values).mean(), torch.tensor(values).std() / len(values) ** 0.5
    assert abs(float(mean)) < 3 * float(spread)
    shifted = []
    for _ in range(50):  # a language displaced along one axis costs clearly more
        labels = torch.randint(0, 4, (16,), generator=gen)
        x = torch.randn(16, 8, generator=gen) + 1.0
        x[labels == 0, 0] += 3.0
        x = F.normalize(x, dim=-1)
        shifted.append(float(erasure_from_gram(x @ x.T, labels)))
    assert torch.tensor(shifted).mean() > 10 * float(spread) + float(mean)


def test_its_gradient_pulls_the_language_means_together() -> None:
    gen = torch.Generator().manual_seed(1)
    table = torch.randn(12, 8, generator=gen)
    table[:6, 0] += 2.0  # language 0 sits apart on axis 0
    model = LookupModel(table)
    labels = torch.tensor([0] * 6 + [1] * 6)
    loss_fn = LanguageErasureLoss(model)

    def gap() -> float:
        x = F.normalize(model.table.detach(), dim=-1)
        return float((x[:6].mean(0) - x[6:].mean(0)).norm())

    before = gap()
    optimizer = torch.optim.SGD(model.parameters(), lr=5.0)
    for _ in range(20):
        optimizer.zero_grad()
        loss_fn([{"ids": torch.arange(12)}], labels).backward()
        optimizer.step()
    assert gap() < 0.5 * before


def test_one_label_per_text() -> None:
    with pytest.raises(ValueError, match="one language label per text"):
        LanguageErasureLoss(None).compute_from_embeddings(torch.eye(3), torch.tensor([0, 1]))


def test_cotraining_adds_the_erasure_term_over_every_auxiliary_row() -> None:
    table = F.normalize(torch.randn(10, 8, generator=torch.Generator().manual_seed(5)), dim=-1)
    model = LookupModel(table)
    cols = [{"ids": torch.tensor([2 * i, 2 * i + 1])} for i in range(5)]
    loss = CoTrainingLoss(model, language_weight=0, erasure_weight=3.0)
    assert loss.column_names() == ["query", "positive", "source", "translation", "nonparallel"]
    assert loss.uses_languages and loss.weights["erasure"] == 3.0
    labels = torch.tensor([1, 1, 2, 2, 1, 2])  # source, translation and non-parallel rows, in column order
    parts = loss(cols, labels)
    assert set(parts) == {"retrieval", "erasure"}
    expected = float(erasure_from_gram(table[4:10] @ table[4:10].T, labels))
    assert float(parts["erasure"].detach()) == pytest.approx(3.0 * expected)
    with pytest.raises(ValueError, match="needs labels"):
        loss(cols)
    assert not CoTrainingLoss(model).uses_languages


def test_language_ids_are_stable_and_distinct_for_the_benchmark_languages() -> None:
    codes = ["en", "de", "ru", "sw", "hi", "ko", "ar", "vi", "zh", "es", "fr", "ja"]
    assert len({language_id(code) for code in codes}) == len(codes)
    assert language_id("de") == __import__("zlib").crc32(b"de")  # the same id in every process and run
