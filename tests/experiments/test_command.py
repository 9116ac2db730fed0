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


def experiment_args(tmp_path, output: str) -> argparse.Namespace:
    return argparse.Namespace(file=str(ROOT / "configs/experiments/regression.yaml"), runs_dir=str(tmp_path / "runs"),
                              output=str(tmp_path / output), conditions=None, report_only=False,
                              device="cpu")  # fmt: skip


@pytest.mark.parametrize("own", ["notes.md", "notes.png"])
def test_a_report_file_babelir_did_not_write_is_refused_before_any_training(tmp_path, own):
    (tmp_path / own).write_text("my own notes\n")
    with pytest.raises(DataError, match=f"{own}: exists and babelir experiment did not write it"):
        run_command(experiment_args(tmp_path, "notes.json"))
    assert (tmp_path / own).read_text() == "my own notes\n" and not (tmp_path / "runs").exists()


def test_output_must_be_a_results_json(tmp_path):
    with pytest.raises(DataError, match="must name a .json file"):  # else the markdown would replace the results
        run_command(experiment_args(tmp_path, "results.md"))
    (tmp_path / "other.json").write_text('{"rows": []}')
    with pytest.raises(DataError, match="other.json: is not a results file of babelir experiment"):
        run_command(experiment_args(tmp_path, "other.json"))


def test_babelirs_own_report_files_are_recognised_without_their_json(tmp_path, monkeypatch):
    from babelir.experiments.command import _check_report_files

    monkeypatch.chdir(ROOT)
    output = tmp_path / "regression.json"
    shutil.copy(ROOT / "reports/experiments/regression.json", output)
    args = argparse.Namespace(file="configs/experiments/regression.yaml", runs_dir=str(tmp_path / "runs"),
                              output=str(output), conditions=None, report_only=True)  # fmt: skip
    assert run_command(args) == 0
    output.unlink()  # the markdown and the chart left behind carry babelir's marks: a new run may replace them
    _check_report_files(output, None)
