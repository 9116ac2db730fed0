"""Statistics over saved experiment results: means over seeds, expected scores, and tests that match the design.

The design: the same query verse is scored in every language (one query per ``bible-xref-<lang>``, or one
per language inside a pool), and trained conditions are run with several seeds. The translations of a query
are not independent units, so the interval and the test resample **query clusters** (a query id with all
its translations, :func:`babelir.evaluation.benchmarks.base.item_of`), and the interval resamples seeds too:

* :func:`cluster_bootstrap`: the mean paired difference and its percentile interval (clusters drawn with
  replacement, each resample averaged over seeds drawn with replacement when there are two or more);
* :func:`cluster_permutation_test`: a sign-flip test on each cluster's difference (averaged over its
  languages and the seeds first), exact when there are few clusters;
* :func:`holm` for the p-values of several comparisons, :func:`non_inferior` for "within a margin".

:func:`paired_permutation_test` (queries in every language as independent units) is kept: reports made
before the cluster statistics quote it, and ``--report-only`` must still reproduce them.
"""

from __future__ import annotations

import statistics
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from babelir.experiments.spec import Experiment

ROUNDS = 10_000
_CHUNK = 1_000  # bootstrap rounds drawn at once: memory stays ~CHUNK x clusters floats whatever ROUNDS is
EXACT_UP_TO = 13  # clusters: up to 2**13 sign patterns the test enumerates all of them instead of sampling


@dataclass(frozen=True)
class Interval:
    """A mean difference and its percentile interval (same units as the scores)."""

    mean: float
    low: float
    high: float


def sign_flip_test(differences: Sequence[float], rounds: int = ROUNDS, seed: int = 0, exact_up_to: int = EXACT_UP_TO) -> float:
    """Two-sided p-value of the mean of paired ``differences`` under random sign flips: every sign pattern
    when there are at most ``exact_up_to`` differences (the exact test), else ``rounds`` random ones."""
    diff = np.asarray(differences, dtype=np.float64)
    if not len(diff) or not diff.any():
        return 1.0
    observed = abs(diff.mean())
    n = len(diff)
    if n <= exact_up_to:
        signs = 1.0 - 2.0 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
        return float((np.abs(signs @ diff / n) >= observed - 1e-12).mean())
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=(rounds, n))
    return float(((np.abs((signs * diff).mean(axis=1)) >= observed - 1e-12).sum() + 1) / (rounds + 1))


def paired_permutation_test(a: list[float], b: list[float], rounds: int = ROUNDS, seed: int = 0) -> float:
    """Two-sided p-value of mean(b - a) under random sign flips of the paired differences, each pair an
    independent unit (the reports' first test; it understates p when pairs are translations of one query)."""
    return sign_flip_test(np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64), rounds, seed, exact_up_to=0)


def _cluster_index(clusters: Sequence[Hashable]) -> tuple[np.ndarray, int]:
    codes: dict[Hashable, int] = {}
    index = np.fromiter((codes.setdefault(c, len(codes)) for c in clusters), dtype=np.int64, count=len(clusters))
    return index, len(codes)


def _per_cluster(matrix: np.ndarray, index: np.ndarray, n_clusters: int) -> np.ndarray:
    """``(seeds, units)`` -> ``(seeds, clusters)``: each cluster's sum over its units."""
    return np.stack([np.bincount(index, weights=row, minlength=n_clusters) for row in matrix])


def _seed_means(rng: np.random.Generator, sums: np.ndarray, rounds: int, weights: np.ndarray | None = None) -> np.ndarray:
    """``(rounds, clusters)``: per-cluster sums averaged over seeds drawn with replacement (``weights``: the
    counts of a draw already made, so paired seeds are drawn once for both conditions)."""
    n_seeds = sums.shape[0]
    if n_seeds == 1:
        return np.broadcast_to(sums[0], (rounds, sums.shape[1]))
    if weights is None:
        weights = rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=rounds)
    return weights @ sums / n_seeds


def _matrices(reference: Any, other: Any, clusters: Sequence[Hashable]) -> tuple[np.ndarray, np.ndarray]:
    ref, oth = np.atleast_2d(np.asarray(reference, dtype=np.float64)), np.atleast_2d(np.asarray(other, dtype=np.float64))
    if ref.shape[1] != oth.shape[1] or ref.shape[1] != len(clusters):
        raise ValueError(f"paired scores need one column per unit: {ref.shape}, {oth.shape}, {len(clusters)} clusters")
    return ref, oth


def cluster_bootstrap(
    reference: Any,
    other: Any,
    clusters: Sequence[Hashable],
    paired_seeds: bool = False,
    rounds: int = ROUNDS,
    seed: int = 0,
    level: float = 0.95,
) -> Interval:
    """Mean of ``other - reference`` over units and its ``level`` percentile interval by cluster bootstrap.

    ``reference`` and ``other`` are ``(seeds, units)`` score arrays (one row per seed; a 1-D array is one
    seed), ``clusters`` labels each unit: units that share a label (a query and its translations) are drawn
    together. Each resample draws clusters with replacement and, for a condition with two or more seeds,
    its seeds with replacement; with ``paired_seeds`` (the same seeds, in the same order, for both) one
    draw of seeds serves both, keeping the pairs. The mean weights every unit equally, as the tables do.
    """
    ref, oth = _matrices(reference, other, clusters)
    index, n_clusters = _cluster_index(clusters)
    sizes = np.bincount(index, minlength=n_clusters).astype(np.float64)
    ref_sums, oth_sums = _per_cluster(ref, index, n_clusters), _per_cluster(oth, index, n_clusters)
    paired = paired_seeds and ref.shape[0] == oth.shape[0] > 1
    rng = np.random.default_rng(seed)
    stats = []
    for start in range(0, rounds, _CHUNK):
        n = min(_CHUNK, rounds - start)
        drawn = rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=n)
        if paired:
            diff = _seed_means(rng, oth_sums - ref_sums, n)
        else:
            diff = _seed_means(rng, oth_sums, n) - _seed_means(rng, ref_sums, n)
        stats.append((diff * drawn).sum(axis=1) / (drawn @ sizes))
    low, high = np.percentile(np.concatenate(stats), [50 * (1 - level), 50 * (1 + level)])
    return Interval(float(oth.mean() - ref.mean()), float(low), float(high))


def cluster_permutation_test(
    reference: Any, other: Any, clusters: Sequence[Hashable], rounds: int = ROUNDS, seed: int = 0
) -> float:
    """Two-sided sign-flip p-value with clusters as the units: each cluster's difference is first averaged
    over its units (languages) and over seeds; see :func:`sign_flip_test`."""
    ref, oth = _matrices(reference, other, clusters)
    index, n_clusters = _cluster_index(clusters)
    diff = oth.mean(axis=0) - ref.mean(axis=0)
    per_cluster = np.bincount(index, weights=diff, minlength=n_clusters) / np.bincount(index, minlength=n_clusters)
    return sign_flip_test(per_cluster, rounds, seed)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given: the k-th smallest of m is multiplied by
    m - k + 1, then made non-decreasing in that order and capped at 1."""
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((len(p) - np.arange(len(p))) * p[order]))
    out = np.empty_like(p)
    out[order] = adjusted
    return out.tolist()


def non_inferior(interval: Interval, margin: float) -> bool:
    """"No worse than ``margin``": the interval's lower bound lies above ``-margin`` (same units)."""
    return interval.low > -margin


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


def score_matrix(cond_results: dict[str, Any], units: list[tuple[str, str]]) -> np.ndarray:
    """``(seeds, units)`` per-query scores of a condition, seeds in its saved order (a missing query is 0)."""
    return np.array([[s["per_query"][b].get(q, 0.0) for b, q in units] for s in cond_results.values()])


@dataclass(frozen=True)
class Comparison:
    """One condition against its reference on a set of (benchmark, query) units."""

    interval: Interval  # mean difference and its cluster-bootstrap interval
    p_clusters: float  # sign flips over query clusters


def compare(reference: dict[str, Any], other: dict[str, Any], units: list[tuple[str, str]]) -> Comparison:
    """Compare two conditions' saved results on ``units``; seeds are paired when both ran the same ones,
    by seed, whatever order each file saved them in (a seed added later, or rows taken from another file)."""
    from babelir.evaluation.benchmarks.base import item_of

    paired = set(reference) == set(other)
    if paired:
        reference, other = ({seed: runs[seed] for seed in sorted(runs, key=int)} for runs in (reference, other))
    ref, oth = score_matrix(reference, units), score_matrix(other, units)
    clusters = [item_of(q) for _, q in units]
    return Comparison(
        interval=cluster_bootstrap(ref, oth, clusters, paired_seeds=paired),
        p_clusters=cluster_permutation_test(ref, oth, clusters),
    )


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
