"""Statistics over saved experiment results: means over seeds, the paired permutation test, expected scores."""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np

from babelir.experiments.spec import Experiment


def paired_permutation_test(a: list[float], b: list[float], rounds: int = 10000, seed: int = 0) -> float:
    """Two-sided p-value of mean(b - a) under random sign flips of the paired differences."""
    diff = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)
    if not len(diff) or not diff.any():
        return 1.0
    observed = abs(diff.mean())
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=(rounds, len(diff)))
    return float(((np.abs((signs * diff).mean(axis=1)) >= observed - 1e-12).sum() + 1) / (rounds + 1))


def mean_scores(cond_results: dict[str, Any]) -> dict[str, float]:
    """``benchmark -> main score`` averaged over a condition's seeds."""
    seeds = list(cond_results.values())
    return {b: statistics.mean(s["scores"][b] for s in seeds) for b in seeds[0]["scores"]}


def mean_per_query(cond_results: dict[str, Any], benches: list[str]) -> dict[tuple[str, str], float]:
    """``(benchmark, query) -> score`` averaged over a condition's seeds (a query missing from a seed is 0)."""
    seeds = list(cond_results.values())
    out = {}
    for b in benches:
        for q in seeds[0]["per_query"][b]:
            out[(b, q)] = statistics.mean(s["per_query"][b].get(q, 0.0) for s in seeds)
    return out


def check_expected(exp: Experiment, results: dict[str, Any]) -> list[tuple[str, str, float, float, bool]]:
    """``(condition, benchmark, expected, measured, within tolerance)`` for every expected score with results."""
    rows = []
    for cond in exp.conditions:
        if cond.name not in results["conditions"]:
            continue
        means = mean_scores(results["conditions"][cond.name])
        for bench, expected in cond.expected.items():
            got = means.get(bench, float("nan"))
            rows.append((cond.name, bench, expected, got, abs(got - expected) <= cond.tolerance))
    return rows
