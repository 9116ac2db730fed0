import numpy as np
import pytest

from babelir.experiments import (
    Interval,
    check_expected,
    cluster_bootstrap,
    cluster_permutation_test,
    compare,
    holm,
    mean_per_query,
    mean_scores,
    non_inferior,
    paired_permutation_test,
)
from babelir.experiments.stats import sign_flip_test

from .helpers import experiment_with_results


def test_paired_permutation_test():
    a = [0.1, 0.4, 0.3, 0.2, 0.5, 0.6, 0.2, 0.3, 0.1, 0.4] * 3
    assert paired_permutation_test(a, a) == 1.0
    assert paired_permutation_test(a, [x + 0.1 for x in a]) < 0.001
    noisy = [x + (0.05 if i % 2 else -0.05) for i, x in enumerate(a)]
    assert paired_permutation_test(a, noisy) > 0.5
    sampled = paired_permutation_test([0.0] * 4, [1.0] * 4)  # the earlier reports' test: sampled, never exact
    assert sampled == pytest.approx(2 / 16, abs=0.01) and sampled != 2 / 16


def test_sign_flip_test_is_exact_for_few_differences():
    assert sign_flip_test([1, 1, 1, 1]) == 2 / 16  # only all + and all - reach |mean| 1
    assert sign_flip_test([1, 1, 1, -1]) == 10 / 16  # |sum| >= 2: 2 patterns of 4, 8 with one sign flipped
    assert sign_flip_test([0, 0]) == 1.0
    assert sign_flip_test([1.0] * 20) == pytest.approx(1 / 10001)  # 2**20 patterns: sampled


# 4 query clusters, each a query in 3 languages (units ordered cluster by cluster)
CLUSTERS = [c for c in "abcd" for _ in range(3)]
SCORES = np.array([0.2, 0.3, 0.1, 0.5, 0.4, 0.6, 0.0, 0.1, 0.2, 0.9, 0.7, 0.8])


def test_identical_systems_give_a_zero_interval_and_p_1():
    assert cluster_bootstrap(SCORES, SCORES, CLUSTERS) == Interval(0.0, 0.0, 0.0)
    assert cluster_permutation_test(SCORES, SCORES, CLUSTERS) == 1.0


def test_a_constant_difference_gives_that_interval_and_the_smallest_p():
    interval = cluster_bootstrap(SCORES, SCORES + 1, CLUSTERS)
    assert (interval.mean, interval.low, interval.high) == pytest.approx((1.0, 1.0, 1.0))
    assert cluster_permutation_test(SCORES, SCORES + 1, CLUSTERS) == 2 / 2**4  # 4 clusters, not 12 units
    three_seeds = np.stack([SCORES, SCORES + 0.1, SCORES - 0.1])
    interval = cluster_bootstrap(three_seeds, three_seeds + 1, CLUSTERS, paired_seeds=True)
    assert (interval.low, interval.high) == pytest.approx((1.0, 1.0))  # paired seeds: seed effects cancel


def test_the_test_averages_each_cluster_over_languages_first():
    # cluster a: +2 and 0 (mean +1), cluster b: +1 and +1: two clusters of mean +1, so p = 2 / 2**2
    assert cluster_permutation_test([0, 0, 0, 0], [2, 0, 1, 1], ["a", "a", "b", "b"]) == 0.5
    two_seeds = np.array([[0, 0, 0, 0], [0, 0, 0, 0]])
    assert cluster_permutation_test(two_seeds, [[3, 1, 2, 2], [1, -1, 0, 0]], ["a", "a", "b", "b"]) == 0.5


def test_resampling_by_cluster_keeps_translations_together():
    """When a query's translations move together, resampling them one by one understates the spread."""
    rng = np.random.default_rng(1)
    per_query = rng.normal(0.02, 0.1, size=30)  # 30 queries, each difference shared by its 5 translations
    diff = np.repeat(per_query, 5)
    queries = np.repeat(np.arange(30), 5).tolist()
    by_cluster = cluster_bootstrap(np.zeros(150), diff, queries)
    by_unit = cluster_bootstrap(np.zeros(150), diff, list(range(150)))
    assert by_cluster.mean == pytest.approx(by_unit.mean) == pytest.approx(per_query.mean())
    width = {name: i.high - i.low for name, i in (("cluster", by_cluster), ("unit", by_unit))}
    assert width["cluster"] > 1.8 * width["unit"]  # about sqrt(5) = 2.2 times wider
    assert cluster_permutation_test(np.zeros(150), diff, queries) > paired_permutation_test([0.0] * 150, diff.tolist())


def test_seeds_are_resampled_when_there_are_two_or_more():
    # every query gains +1 on seed 1 and loses 1 on seed 2: clusters alone see no spread, seeds do
    other = np.stack([np.ones(12), -np.ones(12)])
    interval = cluster_bootstrap(np.zeros(12), other, CLUSTERS)
    assert (interval.mean, interval.low, interval.high) == pytest.approx((0.0, -1.0, 1.0))
    # the same seed effect in both conditions cancels only when the seeds are paired
    reference = np.stack([np.zeros(12), np.full(12, 10.0)])
    paired = cluster_bootstrap(reference, reference + 1, CLUSTERS, paired_seeds=True)
    unpaired = cluster_bootstrap(reference, reference + 1, CLUSTERS)
    assert (paired.low, paired.high) == pytest.approx((1.0, 1.0)) and unpaired.high - unpaired.low > 9


def test_holm_matches_the_textbook():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04 -> non-decreasing: 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0]) and holm([0.02]) == [0.02] and holm([]) == []


def test_non_inferiority_reads_the_lower_bound():
    assert non_inferior(Interval(0.1, -0.4, 0.6), margin=0.5)
    assert not non_inferior(Interval(0.1, -0.6, 0.6), margin=0.5)


def test_compare_clusters_a_query_across_benchmarks_and_pool_languages(tmp_path):
    _, results = experiment_with_results(tmp_path)
    units = [(b, f"q{i}") for b in ("bible-xref-en-mini", "bible-xref-sw-mini") for i in range(12)]
    got = compare(results["conditions"]["a"], results["conditions"]["b"], units)
    assert got.interval.mean == pytest.approx(0.025)  # +0 in en, +0.05 in sw
    assert got.p_clusters == 2 / 2**12  # 12 queries, each in en and sw: every cluster +0.025
    pooled = {"42": {"per_query": {"pool": {"de:1": 0.0, "sw:1": 0.0, "de:2": 0.0, "sw:2": 0.0}}}}
    better = {"42": {"per_query": {"pool": {"de:1": 1.0, "sw:1": 1.0, "de:2": 1.0, "sw:2": 1.0}}}}
    assert compare(pooled, better, [("pool", q) for q in pooled["42"]["per_query"]["pool"]]).p_clusters == 0.5


def test_compare_pairs_seeds_by_name_not_by_saved_order():
    """A seed whose scores move both conditions alike cancels out once the runs are paired by seed."""
    units = [("x", f"q{i}") for i in range(8)]

    def runs(order: list[str], shift: float) -> dict:
        level = {"42": 0.2, "43": 0.6}  # seed 43 lifts every query: the seed effect pairing removes
        return {s: {"per_query": {"x": {q: level[s] + shift + 0.01 * i for i, (_, q) in enumerate(units)}}}
                for s in order}  # fmt: skip

    got = compare(runs(["43", "42"], 0.0), runs(["42", "43"], 0.05), units)
    assert got.interval.mean == pytest.approx(0.05)
    assert got.interval.low == pytest.approx(0.05) and got.interval.high == pytest.approx(0.05)
    three_seeds = runs(["42", "43"], 0.05) | {"44": runs(["43"], 0.05)["43"]}
    unpaired = compare(runs(["42", "43"], 0.0), three_seeds, units)  # other seeds: drawn apart, the seed effect stays
    assert unpaired.interval.high - unpaired.interval.low > 0.1


def test_means_over_seeds_and_expected_scores(tmp_path):
    exp, results = experiment_with_results(tmp_path)
    seeds = {"42": {"scores": {"x": 0.2}, "per_query": {"x": {"q1": 0.2, "q2": 0.4}}},
             "43": {"scores": {"x": 0.4}, "per_query": {"x": {"q1": 0.4}}}}  # fmt: skip
    assert mean_scores(seeds) == {"x": pytest.approx(0.3)}
    assert mean_per_query(seeds, ["x"]) == {("x", "q1"): pytest.approx(0.3), ("x", "q2"): 0.2}  # missing = 0
    assert check_expected(exp, results) == [("b", "bible-xref-sw-mini", 0.30, 0.25, False)]
    exp.conditions[2].tolerance = 0.06
    assert check_expected(exp, results)[0][4] is True
