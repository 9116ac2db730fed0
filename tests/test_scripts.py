"""Scripts under scripts/ that rewrite reports."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_refresh_claims_tables_rewrites_only_the_tables_after_each_marker(tmp_path, monkeypatch):
    refresh = load_script("refresh_claims_tables").refresh
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports" / "experiments").mkdir(parents=True)
    (tmp_path / "reports" / "experiments" / "x.md").write_text(
        "### x\n\nwords\n\n| condition | en |\n|---|---:|\n| a | 30.0 |\n\nPaired permutation test against a:\n\n"
        "| condition | group | Δ x100 | p |\n|---|---|---:|---:|\n| b | all | +1.00 | 0.5000 |\n"
    )
    claims = tmp_path / "claims.md"
    claims.write_text(
        "intro\n\n<!-- table: babelir experiment configs/experiments/x.yaml --report-only -->\n"
        "| condition | en |\n|---|---:|\n| a | 29.0 |\n\n| old | table |\n\nThe text after stays.\n"
    )
    assert refresh(claims) == 1
    text = claims.read_text()
    assert "| a | 30.0 |" in text and "29.0" not in text and "| old | table |" not in text
    assert "| b | all | +1.00 | 0.5000 |\n\nThe text after stays.\n" in text
    assert text.startswith("intro\n\n<!-- table:")
    assert refresh(claims) == 1 and claims.read_text() == text  # idempotent
    claims.write_text("<!-- table: babelir experiment configs/experiments/missing.yaml --report-only -->\n")
    with pytest.raises(SystemExit, match="missing.md not found"):
        refresh(claims)
