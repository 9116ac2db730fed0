import argparse
import shutil

import pytest

from babelir.data.errors import DataError
from babelir.experiments.command import run_command

from .helpers import ROOT


def test_report_only_reproduces_the_committed_report(tmp_path, monkeypatch, capsys):
    """``--report-only`` rebuilds reports/experiments/regression.md from its JSON, byte for byte."""
    monkeypatch.chdir(ROOT)  # the command line in the report names the file relative to the repository
    output = tmp_path / "regression.json"
    shutil.copy(ROOT / "reports/experiments/regression.json", output)
    args = argparse.Namespace(file="configs/experiments/regression.yaml", runs_dir=str(tmp_path / "runs"),
                              output=str(output), conditions=None, report_only=True)  # fmt: skip
    assert run_command(args) == 0
    committed = (ROOT / "reports/experiments/regression.md").read_text(encoding="utf-8")
    assert output.with_suffix(".md").read_text(encoding="utf-8") == committed
    assert output.with_suffix(".png").is_file() and "| co-training (defaults) |" in capsys.readouterr().out


def test_report_only_without_results_is_an_error(tmp_path, capsys):
    args = argparse.Namespace(file=str(ROOT / "configs/experiments/regression.yaml"), runs_dir="runs",
                              output=str(tmp_path / "none.json"), conditions=None, report_only=True)  # fmt: skip
    with pytest.raises(DataError, match="none.json: no results yet"):  # babelir.cli prints it, exit 2
        run_command(args)
