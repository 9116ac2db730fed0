"""The comparisons of an experiment: every condition against each reference it names, per group of
benchmarks, with the clustered interval and p, Holm-corrected over the experiment's whole table.

One owner for these rows: the experiment's markdown report prints them and the claims file
(:mod:`babelir.experiments.claims`) reads its verdicts from them, so both always agree.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from babelir.experiments.spec import Experiment
from babelir.experiments.stats import Comparison, compare, holm, mean_per_query, paired_permutation_test


@dataclass(frozen=True)
class ComparisonRow:
    """One condition against one reference on one group of benchmarks (differences x100)."""

    condition: str
    reference: str
    group: str
    delta: float  # mean difference over the group's queries, x100
    p_units: float  # the first test: queries as independent units
    clustered: Comparison  # interval (x1) and p over query clusters and seeds
    p_holm: float  # p_clusters, Holm-corrected over every row of the experiment

    @property
    def low(self) -> float:
        return 100 * self.clustered.interval.low

    @property
    def high(self) -> float:
        return 100 * self.clustered.interval.high


def reported(exp: Experiment, results: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The conditions with results (in the file's order) and the benchmarks they were scored on."""
    conds = [c.name for c in exp.conditions if c.name in results["conditions"]]
    benches = list(next(iter(results["conditions"][conds[0]].values()))["scores"]) if conds else []
    return conds, benches


def comparison_rows(exp: Experiment, results: dict[str, Any], labels: dict[str, str]) -> list[ComparisonRow]:
    """Every (condition, reference, group) row with results, in the report's order; ``labels`` maps each
    scored benchmark to its column label (the language), which the groups list."""
    conds, benches = reported(exp, results)
    pairs = [(c.name, ref) for c in exp.conditions if c.name in conds for ref in c.compare_to or (exp.compare_to,)]
    pairs = [(name, ref) for name, ref in pairs if ref in conds and ref != name]
    measured = []
    for name, reference in pairs:
        ref = mean_per_query(results["conditions"][reference], benches)
        other = mean_per_query(results["conditions"][name], benches)
        for group, members in {"all": [labels[b] for b in benches], **exp.groups}.items():
            keys = [k for k in ref if labels[k[0]] in members and k in other]
            if not keys:
                continue
            a, b = [ref[k] for k in keys], [other[k] for k in keys]
            delta = 100 * (statistics.mean(b) - statistics.mean(a))
            clustered = compare(results["conditions"][reference], results["conditions"][name], keys)
            measured.append((name, reference, group, delta, paired_permutation_test(a, b), clustered))
    adjusted = holm([row[5].p_clusters for row in measured])
    return [ComparisonRow(*row, h) for row, h in zip(measured, adjusted, strict=True)]
