"""Directional checks: a stated effect between two conditions, so that a broken loss fails even when its
effect is about as small as an expected score's tolerance."""

from __future__ import annotations

from pathlib import Path

import pytest

from babelir.experiments.checks import Check, parse_checks, run_checks
from babelir.utils.errors import DataError

CONDITIONS = {"base", "trained"}


def results(trained_share: float, trained_score: float) -> dict:
    def run(score: float, share: float) -> dict:
        return {"scores": {"pool-mini": score}, "extras": {"pool-mini": {"own_language_share@10": share}}}

    return {"conditions": {"base": {"42": run(0.20, 0.50)},
                           "trained": {"42": run(trained_score, trained_share), "43": run(trained_score, trained_share)}}}


def test_a_check_passes_only_beyond_its_margin() -> None:
    [share] = parse_checks([{"condition": "trained", "reference": "base", "benchmark": "pool-mini",
                             "metric": "own_language_share@10", "expect": "lower", "by": 0.05}],
                           Path("x.yaml"), 3, CONDITIONS)
    [(_, delta, ok)] = run_checks([share], results(0.40, 0.3))
    assert delta == pytest.approx(-0.10) and ok
    assert not run_checks([share], results(0.47, 0.3))[0][2]  # lower, but by less than the margin
    assert not run_checks([share], results(0.60, 0.3))[0][2]  # the wrong way: a broken loss
    main = Check("trained", "base", "pool-mini", "main", "higher", 0.05)
    assert run_checks([main], results(0.4, 0.26))[0][2] and not run_checks([main], results(0.4, 0.24))[0][2]
    missing = Check("trained", "base", "pool-mini", "no-such-metric", "higher", 0.0)
    assert run_checks([missing], results(0.4, 0.3)) == [(missing, None, False)]
    assert "own_language_share@10: trained lower than base by >= 0.05" in share.describe()


@pytest.mark.parametrize(("item", "problem"), [
    ({"condition": "nope", "reference": "base", "benchmark": "b", "expect": "lower", "by": 0.1}, "not a condition"),
    ({"condition": "trained", "reference": "base", "benchmark": "b", "expect": "down", "by": 0.1}, "lower or higher"),
    ({"condition": "trained", "reference": "base", "benchmark": "b", "expect": "lower", "by": "x"}, "a number"),
    ({"condition": "trained", "reference": "base", "benchmark": "b", "expect": "lower"}, "needs condition"),
    ({"condition": "trained", "reference": "base", "benchmark": "b", "expect": "lower", "by": 1, "oops": 1}, "unknown keys"),
])
def test_a_malformed_check_is_named_with_its_file_and_line(item: dict, problem: str) -> None:
    with pytest.raises(DataError, match=rf"x.yaml:7: check 1: .*{problem}"):
        parse_checks([item], Path("x.yaml"), 7, CONDITIONS)
