"""A small experiment file and fake results shared by the experiments tests."""

from __future__ import annotations

from pathlib import Path

from babelir.experiments import Experiment, load_experiment

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
name: t
defaults: {backbone: tiny, steps: 2}
evaluation: {benchmarks: [bible-xref-en, bible-xref-sw], queries: 10, documents: 50}
groups: {no-parallel: [sw]}
compare_to: a
conditions:
  - {name: base, train: false}
  - {name: a, train: {semantic_weight: 0}}
  - {name: b, train: {}, expected: {bible-xref-sw-mini: 0.30}, tolerance: 0.01}
"""


def fake(scores: dict[str, float]) -> dict:
    per_query = {b: {f"q{i}": s + (0.01 * (i % 3)) for i in range(12)} for b, s in scores.items()}
    return {"42": {"key": "k", "scores": scores, "per_query": per_query, "train": None}}


def experiment_with_results(tmp_path: Path) -> tuple[Experiment, dict]:
    path = tmp_path / "e.yaml"
    path.write_text(GOOD)
    results = {"conditions": {
        "base": fake({"bible-xref-en-mini": 0.2, "bible-xref-sw-mini": 0.1}),
        "a": fake({"bible-xref-en-mini": 0.3, "bible-xref-sw-mini": 0.2}),
        "b": fake({"bible-xref-en-mini": 0.3, "bible-xref-sw-mini": 0.25}),
    }}  # fmt: skip
    return load_experiment(path), results
