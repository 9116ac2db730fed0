import pytest

from babelir.experiments import check_expected, mean_per_query, mean_scores, paired_permutation_test

from .helpers import experiment_with_results


def test_paired_permutation_test():
    a = [0.1, 0.4, 0.3, 0.2, 0.5, 0.6, 0.2, 0.3, 0.1, 0.4] * 3
    assert paired_permutation_test(a, a) == 1.0
    assert paired_permutation_test(a, [x + 0.1 for x in a]) < 0.001
    noisy = [x + (0.05 if i % 2 else -0.05) for i, x in enumerate(a)]
    assert paired_permutation_test(a, noisy) > 0.5


def test_means_over_seeds_and_expected_scores(tmp_path):
    exp, results = experiment_with_results(tmp_path)
    seeds = {"42": {"scores": {"x": 0.2}, "per_query": {"x": {"q1": 0.2, "q2": 0.4}}},
             "43": {"scores": {"x": 0.4}, "per_query": {"x": {"q1": 0.4}}}}  # fmt: skip
    assert mean_scores(seeds) == {"x": pytest.approx(0.3)}
    assert mean_per_query(seeds, ["x"]) == {("x", "q1"): pytest.approx(0.3), ("x", "q2"): 0.2}  # missing = 0
    assert check_expected(exp, results) == [("b", "bible-xref-sw-mini", 0.30, 0.25, False)]
    exp.conditions[2].tolerance = 0.06
    assert check_expected(exp, results)[0][4] is True
