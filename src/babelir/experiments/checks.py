"""Directional checks of an experiment: "this condition is below (or above) that one by at least M".

An expected score with a tolerance (``expected:`` in a condition) catches drift, but not a broken loss
when the loss's effect is about as small as the tolerance. A directional check states the effect
itself, between two conditions of the same file trained on the same data::

    checks:
      - {condition: co-training, reference: retrieval-only, benchmark: bible-xref-pool-mini,
         metric: own_language_share@10, expect: lower, by: 0.05}

``metric`` is ``main`` (the benchmark's main score, the default) or one of its extra measures (a pool's
``own_language_share@10``, ``other_language_recall@100``, ...); values are means over each condition's
seeds. ``by`` is the least difference the check accepts, in the metric's units (0.05 = 5 points x100).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babelir.utils.errors import DataError

CHECK_KEYS = {"condition", "reference", "benchmark", "metric", "expect", "by"}


@dataclass(frozen=True)
class Check:
    condition: str
    reference: str
    benchmark: str  # the name scores are saved under (a subsample's ``-mini`` name when the file subsamples)
    metric: str
    expect: str  # lower | higher
    by: float

    def describe(self) -> str:
        where = self.benchmark if self.metric == "main" else f"{self.benchmark} {self.metric}"
        return f"{where}: {self.condition} {self.expect} than {self.reference} by >= {self.by:g}"


def parse_checks(raw: Any, path: Path, line: int | None, conditions: set[str]) -> list[Check]:
    """The ``checks:`` list of an experiment file, each naming two of its ``conditions``."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise DataError(path, line, "checks must be a list of {condition, reference, benchmark, metric, expect, by}")
    checks = []
    for number, item in enumerate(raw, 1):
        owner = f"check {number}: "
        if not isinstance(item, dict) or not {"condition", "reference", "benchmark", "expect", "by"} <= set(item):
            raise DataError(path, line, f"{owner}needs condition, reference, benchmark, expect and by, got {item!r}")
        if unknown := set(item) - CHECK_KEYS:
            raise DataError(path, line, f"{owner}unknown keys {sorted(unknown)}")
        for key in ("condition", "reference"):
            if item[key] not in conditions:
                raise DataError(path, line, f"{owner}{key} {item[key]!r} is not a condition of this file")
        if item["expect"] not in ("lower", "higher"):
            raise DataError(path, line, f"{owner}expect must be lower or higher, got {item['expect']!r}")
        try:
            by = float(item["by"])
        except (TypeError, ValueError):
            raise DataError(path, line, f"{owner}by must be a number, got {item['by']!r}") from None
        if not by >= 0:
            raise DataError(path, line, f"{owner}by must be a non-negative number, got {item['by']!r}")
        checks.append(Check(str(item["condition"]), str(item["reference"]), str(item["benchmark"]),
                            str(item.get("metric", "main")), item["expect"], by))
    return checks


def run_measure(run: dict[str, Any], benchmark: str, metric: str = "main") -> float | None:
    """One seed's saved value of ``benchmark``: its main score (``metric="main"``) or one of its extra
    measures (a pool's ``own_language_share@10``, ...); None where the run has none."""
    if metric == "main":
        value = run.get("scores", {}).get(benchmark)
    else:
        value = run.get("extras", {}).get(benchmark, {}).get(metric)
    return None if value is None else float(value)


def _value(runs: dict[str, Any], check: Check) -> float | None:
    """The mean over a condition's seeds; None when a seed lacks the value (it cannot be shown)."""
    values = [run_measure(run, check.benchmark, check.metric) for run in runs.values()]
    if not values or any(v is None for v in values):
        return None
    return statistics.mean(values)


def run_checks(checks: list[Check], results: dict[str, Any]) -> list[tuple[Check, float | None, bool]]:
    """``(check, measured difference condition - reference or None, passed)`` for each check whose two
    conditions have results; a check whose metric is missing fails (it cannot be shown)."""
    out = []
    conditions = results["conditions"]
    for check in checks:
        if check.condition not in conditions or check.reference not in conditions:
            continue
        a, b = _value(conditions[check.condition], check), _value(conditions[check.reference], check)
        if a is None or b is None:
            out.append((check, None, False))
            continue
        delta = a - b
        passed = delta <= -check.by if check.expect == "lower" else delta >= check.by
        out.append((check, delta, passed))
    return out
