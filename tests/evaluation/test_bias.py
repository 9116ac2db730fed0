"""Language-bias views on synthetic embeddings whose language signal is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from babelir.evaluation.analysis.bias import plot_projection, probe_accuracy, similarity_profile


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


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_the_language_picture_is_a_png(tmp_path: Path, method: str) -> None:
    """``babelir bias --plot``'s figure (needs [plots]; no demo data: CI's lowest-versions step runs it)."""
    matplotlib_image = pytest.importorskip("matplotlib.image")
    emb, langs, _ = _embeddings(language_strength=2.0)
    path = tmp_path / "figures" / f"{method}.png"
    plot_projection(emb, langs, ["en", "de", "zh"], path, method, "three languages")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib_image.imread(path).shape[:2] == (7 * 110, 9 * 110)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # the temporary file is gone
