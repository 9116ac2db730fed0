"""Claims as data: the verdict rule, the marked tables, and a drift that --check must catch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from babelir.experiments.claims import Claim, check, load_claims, refresh, render, verdict
from babelir.utils.errors import DataError
from tests.test_scripts import load_script

EXPERIMENT = """name: toy
description: a toy experiment
defaults: {backbone: tiny}
evaluation: {benchmarks: [toy-a, toy-b]}
groups: {both: [toy-a, toy-b]}
compare_to: ref
seeds: [1, 2, 3]
conditions:
  - {name: ref, train: false}
  - {name: new, train: {steps: 2}}
"""

CLAIMS = """experiments: configs
results: results
means:
  toy-means:
    experiment: toy
    columns:
      - {label: A, scores: [toy-a]}
      - {label: share, extra: [toy-a, own_share]}
verdicts:
  toy-verdicts:
    - {claim: new beats ref, experiment: toy, condition: new, reference: ref, groups: [both], expect: higher}
    - {claim: ref trails new, experiment: toy, condition: ref, reference: new, groups: [all], expect: lower}
"""


def claim(expect: str, margin: float = 0.0) -> Claim:
    return Claim("c", "e", "a", "b", ("all",), expect, margin)


def test_the_verdict_rule() -> None:
    assert verdict(claim("higher"), 0.5, 2.0, 0.01) == "**holds**"
    assert verdict(claim("higher"), 0.5, 2.0, 0.2) == "not shown"  # interval clear, Holm p not
    assert verdict(claim("higher"), -0.5, 2.0, 0.01) == "not shown"
    assert verdict(claim("higher"), -2.0, -0.5, 0.3) == "**does not hold**"
    assert verdict(claim("lower"), -2.0, -0.5, 0.01) == "**holds**"
    assert verdict(claim("lower"), 0.5, 2.0, 0.01) == "**does not hold**"
    assert verdict(claim("within", 0.5), -0.4, 3.0, 0.9) == "**holds**"  # non-inferiority needs no p
    assert verdict(claim("within", 0.5), -0.6, 3.0, 0.9) == "not shown"
    assert verdict(claim("within", 0.5), -3.0, -0.6, 0.9) == "**does not hold**"


def write_toy(root: Path) -> Path:
    """A toy experiment with saved results (new = ref + 0.1 on every query, two of three seeds), a claims
    file and a Markdown file with both kinds of marked table."""
    (root / "configs").mkdir(parents=True)
    (root / "configs" / "toy.yaml").write_text(EXPERIMENT)
    queries = [f"q{i}" for i in range(12)]

    def run(offset: float, train: bool) -> dict:
        per_query = {b: {q: 0.2 + 0.01 * i + offset for i, q in enumerate(queries)} for b in ("toy-a", "toy-b")}
        scores = {b: sum(v.values()) / len(v) for b, v in per_query.items()}
        return {"scores": scores, "per_query": per_query, "extras": {"toy-a": {"own_share": 0.5}},
                "train": {"seconds": 1.0} if train else None}

    results = {"conditions": {"ref": {"42": run(0.0, False)}, "new": {"1": run(0.1, True), "2": run(0.1, True)}}}
    (root / "results").mkdir()
    (root / "results" / "toy.json").write_text(json.dumps(results))
    (root / "claims.yaml").write_text(CLAIMS)
    page = root / "page.md"
    page.write_text("# toy\n\n<!-- claims-table: toy-means -->\na stale line\n<!-- end claims-table -->\n\ntext kept\n\n"
                    "<!-- claims-table: toy-verdicts -->\n<!-- end claims-table -->\n")
    return page


def test_refresh_writes_the_tables_and_check_catches_an_edited_number(tmp_path: Path) -> None:
    page = write_toy(tmp_path)
    claims = load_claims(tmp_path / "claims.yaml")
    assert refresh(claims, [page]) == {page: ["toy-means", "toy-verdicts"]}
    text = page.read_text()
    assert "text kept" in text and "a stale line" not in text
    assert "| new | 35.5 | 50.0 | 1, 2 |" in text and "| ref | 25.5 | 50.0 | 42 |" in text
    rows = [line for line in text.splitlines() if line.startswith("| new beats ref")]
    assert rows == ["| new beats ref | new vs ref (toy) | both | +10.00 [+10.00, +10.00] | 2/1 | 0.0010 | "
                    "**holds** (interim: 2 of 3 seeds) |"]
    # a claim naming the pair the other way round reads the same row, negated
    assert "| ref trails new | ref vs new (toy) | all | -10.00 [-10.00, -10.00] | 1/2 |" in text
    assert check(claims, [page]) == {page: []}
    page.write_text(text.replace("| new | 35.5 |", "| new | 35.6 |"))  # a hand edit of one number
    assert check(claims, [page]) == {page: ["toy-means"]}
    script = load_script("claims_tables").main
    assert script(["--check", "--claims", str(tmp_path / "claims.yaml"), str(page)]) == 1
    assert script(["--claims", str(tmp_path / "claims.yaml"), str(page)]) == 0
    assert check(claims, [page]) == {page: []}


def test_a_marker_without_its_end_or_table_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="page.md:2: claims table 'x' has no"):
        render("a\n<!-- claims-table: x -->\nb", "page.md", {"x": []})
    with pytest.raises(DataError, match="no table 'y' in the claims file"):
        render("<!-- claims-table: y -->\n<!-- end claims-table -->", "page.md", {})


def test_a_claim_on_a_pair_the_experiment_does_not_compare_is_refused(tmp_path: Path) -> None:
    page = write_toy(tmp_path)
    (tmp_path / "claims.yaml").write_text(CLAIMS.replace("groups: [both]", "groups: [nowhere]"))
    with pytest.raises(DataError, match="no comparison of 'new' with 'ref' on group 'nowhere'"):
        check(load_claims(tmp_path / "claims.yaml"), [page])
    (tmp_path / "claims.yaml").write_text(CLAIMS.replace("expect: higher", "expect: better"))
    with pytest.raises(DataError, match="expect must be higher, lower or"):
        load_claims(tmp_path / "claims.yaml")
