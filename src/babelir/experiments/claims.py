"""Claims as data: the verdict tables and results tables of ``reports/claims.md`` and ``README.md``,
written from a claims file and the saved experiment results, never typed by hand.

The claims file (``reports/claims.yaml``) holds two kinds of table:

* ``verdicts``: each entry a claim, the experiment that tests it, the condition and its reference, the
  groups of benchmarks (the experiment's ``groups``, or ``all``) and what the claim expects
  (``higher``, ``lower``, or ``within: M``, non-inferiority by M points x100). The numbers come from the
  experiment's comparison rows (:mod:`babelir.experiments.comparisons`), so the Holm correction is over
  the experiment's whole table, as its report prints it. A claim may name the pair the other way round
  from the experiment's row: the difference and its interval are then negated.
* ``means``: per condition, the mean over its seeds of benchmark scores or of a benchmark's extra
  metrics (e.g. the own-language share of the top 10 in a pool).

The verdict rule is mechanical: **holds** when the 95% interval excludes the claim's boundary on its side
and (for ``higher``/``lower``) the Holm-corrected p is below 0.05; **does not hold** when the interval lies
wholly on the other side; else **not shown**. A trained condition with fewer seeds than its experiment
names is marked interim.

A Markdown file carries each table between ``<!-- claims-table: NAME -->`` and
``<!-- end claims-table -->``; :func:`refresh` rewrites them and :func:`check` reports those that differ.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from babelir.experiments.checks import run_measure
from babelir.experiments.comparisons import ComparisonRow, comparison_rows, reported
from babelir.experiments.spec import Experiment, load_experiment
from babelir.utils.atomic import atomic_write_text
from babelir.utils.errors import DataError

START = re.compile(r"^<!-- claims-table: (\S+) -->$")
END = "<!-- end claims-table -->"
SIGNIFICANCE = 0.05
EXPECTATIONS = ("higher", "lower")


@dataclass(frozen=True)
class Claim:
    """One verdict row per group: ``condition`` against ``reference`` in ``experiment``."""

    claim: str
    experiment: str
    condition: str
    reference: str
    groups: tuple[str, ...]
    expect: str  # higher | lower | within
    margin: float = 0.0  # points x100, for ``within``
    comparison: str = ""  # how the row reads the pair (default: "condition vs reference")


@dataclass(frozen=True)
class MeansTable:
    """One row per condition of ``experiment``: the mean over its seeds of each column."""

    experiment: str
    columns: tuple[dict[str, Any], ...]
    conditions: tuple[str, ...] = ()  # default: every condition with results


@dataclass
class ClaimsFile:
    path: Path
    verdicts: dict[str, list[Claim]] = field(default_factory=dict)
    means: dict[str, MeansTable] = field(default_factory=dict)
    experiments_dir: Path = Path("configs/experiments")
    results_dir: Path = Path("reports/experiments")


def load_claims(path: str | Path) -> ClaimsFile:
    """Read a claims file; a malformed entry is a :class:`DataError` naming the file and the entry."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(path, None, f"cannot read the claims file: {exc}") from None
    base = path.parent
    out = ClaimsFile(
        path,
        experiments_dir=(base / raw.get("experiments", "../configs/experiments")).resolve(),
        results_dir=(base / raw.get("results", "experiments")).resolve(),
    )
    for table, entries in (raw.get("verdicts") or {}).items():
        out.verdicts[table] = [_claim(path, table, i, entry) for i, entry in enumerate(entries or [], 1)]
    for table, spec in (raw.get("means") or {}).items():
        if not isinstance(spec, dict) or "experiment" not in spec or not spec.get("columns"):
            raise DataError(path, None, f"means table {table!r} needs an experiment and columns")
        out.means[table] = MeansTable(spec["experiment"], tuple(spec["columns"]), tuple(spec.get("conditions") or ()))
    return out


def _claim(path: Path, table: str, number: int, entry: Any) -> Claim:
    where = f"verdicts.{table}, entry {number}"
    if not isinstance(entry, dict):
        raise DataError(path, None, f"{where}: must be a mapping (claim, experiment, condition, reference, ...)")
    missing = [k for k in ("claim", "experiment", "condition", "reference", "expect") if k not in entry]
    if missing:
        raise DataError(path, None, f"{where}: missing {', '.join(missing)}")
    expect, margin = entry["expect"], 0.0
    if isinstance(expect, dict) and set(expect) == {"within"}:
        expect, margin = "within", float(expect["within"])
    elif expect not in EXPECTATIONS:
        raise DataError(path, None, f"{where}: expect must be higher, lower or {{within: MARGIN}}, got {expect!r}")
    groups = entry.get("groups") or ["all"]
    return Claim(entry["claim"], entry["experiment"], entry["condition"], entry["reference"],
                 tuple([groups] if isinstance(groups, str) else groups), expect, margin, entry.get("comparison", ""))


# ------------------------------------------------------------------------------------------- verdicts
def verdict(claim: Claim, low: float, high: float, p_holm: float) -> str:
    """The rule of the module docstring, on an interval in points x100."""
    if claim.expect == "within":
        if low > -claim.margin:  # non-inferiority, as stats.non_inferior on an interval in points x100
            return "**holds**"
        return "**does not hold**" if high < -claim.margin else "not shown"
    sign = 1 if claim.expect == "higher" else -1
    low, high = sorted((sign * low, sign * high))
    if low > 0 and p_holm < SIGNIFICANCE:
        return "**holds**"
    return "**does not hold**" if high < 0 else "not shown"


class _Results:
    """Each experiment's definition, saved results and comparison rows, read once."""

    def __init__(self, claims: ClaimsFile) -> None:
        self.claims = claims
        self._cache: dict[str, tuple[Experiment, dict[str, Any], list[ComparisonRow] | None]] = {}

    def get(self, name: str, rows: bool = True) -> tuple[Experiment, dict[str, Any], list[ComparisonRow]]:
        if name not in self._cache:
            config = self.claims.experiments_dir / f"{name}.yaml"
            results = self.claims.results_dir / f"{name}.json"
            if not results.is_file():
                raise DataError(self.claims.path, None, f"experiment {name!r} has no saved results at {results}; "
                                f"run babelir experiment {config}")
            self._cache[name] = (load_experiment(config), json.loads(results.read_text(encoding="utf-8")), None)
        exp, results, computed = self._cache[name]
        if rows and computed is None:
            from babelir.experiments.report import benchmark_labels

            computed = comparison_rows(exp, results, benchmark_labels(exp, reported(exp, results)[1]))
            self._cache[name] = (exp, results, computed)
        return exp, results, computed or []


def _find(rows: list[ComparisonRow], claim: Claim, group: str) -> tuple[ComparisonRow, int]:
    """The experiment's row for the claim's pair and group, and +1 or -1 when it names them the other way."""
    for row in rows:
        if row.group != group:
            continue
        if (row.condition, row.reference) == (claim.condition, claim.reference):
            return row, 1
        if (row.condition, row.reference) == (claim.reference, claim.condition):
            return row, -1
    raise KeyError(group)


def _interim(exp: Experiment, results: dict[str, Any], condition: str) -> str:
    runs = results["conditions"].get(condition, {})
    trained = any(run.get("train") for run in runs.values())
    if trained and len(runs) < len(exp.seeds):
        return f" (interim: {len(runs)} of {len(exp.seeds)} seeds)"
    return ""


def verdict_table(claims: ClaimsFile, name: str, results: _Results) -> list[str]:
    lines = ["| claim | comparison | group | Δ x100 [95% interval] | seeds | p Holm | verdict |",
             "|---|---|---|---:|---:|---:|---|"]
    for claim in claims.verdicts[name]:
        exp, saved, rows = results.get(claim.experiment)
        for group in claim.groups:
            try:
                row, sign = _find(rows, claim, group)
            except KeyError:
                raise DataError(claims.path, None, f"{claim.experiment} has no comparison of {claim.condition!r} "
                                f"with {claim.reference!r} on group {group!r}; name a pair and group its report "
                                "prints") from None
            delta, low, high = sign * row.delta, *sorted((sign * row.low, sign * row.high))
            seeds = "/".join(str(len(saved["conditions"][c])) for c in (claim.condition, claim.reference))
            text = verdict(claim, low, high, row.p_holm)
            interim = next((s for c in (claim.condition, claim.reference) if (s := _interim(exp, saved, c))), "")
            if claim.expect == "within":
                text += f" (margin {claim.margin:g})"
            cell = f"{delta:+.2f} [{low:+.2f}, {high:+.2f}]"
            comparison = claim.comparison or f"{claim.condition} vs {claim.reference}"
            lines.append(f"| {claim.claim} | {comparison} ({claim.experiment}) | {group} | {cell} | {seeds} | "
                         f"{row.p_holm:.4f} | {text}{interim} |")
    return lines


# ---------------------------------------------------------------------------------------------- means
def _column_value(run: dict[str, Any], column: dict[str, Any]) -> float | None:
    if "extra" in column:
        return run_measure(run, *column["extra"])
    scores = [run_measure(run, b) for b in column["scores"]]
    return None if any(s is None for s in scores) else statistics.mean(scores)


def means_table(claims: ClaimsFile, name: str, results: _Results) -> list[str]:
    spec = claims.means[name]
    _, saved, _ = results.get(spec.experiment, rows=False)
    headers = ["condition", *(c["label"] for c in spec.columns), "seeds"]
    lines = ["| " + " | ".join(headers) + " |", "|---|" + "---:|" * len(spec.columns) + "---|"]
    for condition in spec.conditions or tuple(saved["conditions"]):
        runs = saved["conditions"][condition]
        cells = []
        for column in spec.columns:
            values = [v for v in (_column_value(run, column) for run in runs.values()) if v is not None]
            cells.append(f"{100 * statistics.mean(values):.1f}" if values else "-")
        lines.append(f"| {condition} | {' | '.join(cells)} | {', '.join(sorted(runs, key=int))} |")
    return lines


# ------------------------------------------------------------------------------------ the Markdown files
def tables(claims: ClaimsFile) -> dict[str, list[str]]:
    """Every table of the claims file, by name."""
    results = _Results(claims)
    out = {name: means_table(claims, name, results) for name in claims.means}
    out |= {name: verdict_table(claims, name, results) for name in claims.verdicts}
    return out


def render(text: str, source: str | Path, generated: dict[str, list[str]]) -> tuple[str, list[str]]:
    """``text`` with every marked table replaced by its generated lines; and the names of those that changed."""
    lines, out, changed = text.split("\n"), [], []
    i = 0
    while i < len(lines):
        out.append(lines[i])
        match = START.match(lines[i].strip())
        i += 1
        if not match:
            continue
        name, start = match.group(1), i
        while i < len(lines) and lines[i].strip() != END:
            i += 1
        if i == len(lines):
            raise DataError(source, start, f"claims table {name!r} has no {END} line; add one after the table")
        if name not in generated:
            raise DataError(source, start, f"no table {name!r} in the claims file; add it there or fix the marker")
        if lines[start:i] != generated[name]:
            changed.append(name)
        out += generated[name]
        out.append(lines[i])
        i += 1
    return "\n".join(out), changed


def refresh(claims: ClaimsFile, targets: list[Path], write: bool = True) -> dict[Path, list[str]]:
    """The marked tables of each target that differ from what the claims file and results give, per file;
    with ``write``, those files are rewritten (atomically)."""
    generated = tables(claims)
    changes = {}
    for target in targets:
        text, changed = render(target.read_text(encoding="utf-8"), target, generated)
        if changed and write:
            atomic_write_text(target, text)
        changes[target] = changed
    return changes


def check(claims: ClaimsFile, targets: list[Path]) -> dict[Path, list[str]]:
    """:func:`refresh` that changes nothing: the tables that differ, per file."""
    return refresh(claims, targets, write=False)
