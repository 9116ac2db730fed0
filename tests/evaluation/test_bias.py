"""Language-bias views on synthetic embeddings whose language signal is known."""

from __future__ import annotations

import numpy as np

from babelir.evaluation.analysis.bias import probe_accuracy, similarity_profile


def _embeddings(language_strength: float) -> tuple[np.ndarray, list[str], np.ndarray]:
    rng = np.random.default_rng(0)
    languages = ["en", "de", "zh"]
    content = rng.normal(size=(40, 16))
    directions = rng.normal(size=(3, 16))
    rows, langs, verse = [], [], []
    for li, lang in enumerate(languages):
        for i in range(40):
            rows.append(content[i] + language_strength * directions[li] + 0.1 * rng.normal(size=16))
            langs.append(lang)
            verse.append(i)
    emb = np.array(rows)
    return emb / np.linalg.norm(emb, axis=1, keepdims=True), langs, np.array(verse)


def test_probe_finds_a_language_direction_and_not_a_missing_one() -> None:
    emb, langs, verse = _embeddings(3.0)
    assert probe_accuracy(emb, np.array(langs), verse)["accuracy"] > 0.95
    emb, langs, verse = _embeddings(0.0)
    result = probe_accuracy(emb, np.array(langs), verse)
    assert result["accuracy"] < 0.6 and result["chance"] == 1 / 3


def test_similarity_gap_reflects_language_signal() -> None:
    related = np.zeros((40, 40), dtype=bool)
    emb, langs, verse = _embeddings(3.0)
    biased = similarity_profile(emb, langs, verse, related, ["en", "de", "zh"])["overall"]
    emb, langs, verse = _embeddings(0.0)
    agnostic = similarity_profile(emb, langs, verse, related, ["en", "de", "zh"])["overall"]
    assert biased["gap"] > 0.3 and abs(agnostic["gap"]) < 0.05
    assert agnostic["translations"] > 0.9 and biased["nearest_unrelated_same_language"] == 1.0
