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


def test_a_result_another_experiment_measured_is_taken_not_run_again(tmp_path, monkeypatch):
    """Two files sharing a condition (same settings, evaluation, seed) share its measurement: the second
    file takes the first's result and names where it came from; unrelated JSON beside it is passed over."""
    import json

    from babelir.experiments import load_experiment, result_key

    from .helpers import GOOD, fake

    monkeypatch.chdir(tmp_path)
    (tmp_path / "first.yaml").write_text(GOOD)
    (tmp_path / "second.yaml").write_text(GOOD.replace("name: t\n", "name: second\n")
                                          .replace("compare_to: a", "compare_to: base"))
    first, second = load_experiment(tmp_path / "first.yaml"), load_experiment(tmp_path / "second.yaml")
    key = result_key(first, first.conditions[0], 42)
    assert key == result_key(second, second.conditions[0], 42)  # the name of the file is not the measurement
    record = fake({"bible-xref-en-mini": 0.2, "bible-xref-sw-mini": 0.1})["42"] | {"key": key}
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "first.json").write_text(json.dumps({"conditions": {"base": {"42": record}}}))
    (reports / "notes.json").write_text('{"conditions": [1, 2]}')  # someone's own file: not a results file
    (reports / "broken.json").write_text("{")
    args = argparse.Namespace(file="second.yaml", runs_dir=str(tmp_path / "runs"), output="reports/second.json",
                              conditions="base", report_only=False, device="cpu")  # fmt: skip
    assert run_command(args) == 0
    taken = json.loads((reports / "second.json").read_text())["conditions"]["base"]["42"]
    assert taken["scores"] == record["scores"] and taken["reused_from"] == "first.json"
    assert "Measured by first.json (same settings, evaluation and seeds): base." in (reports / "second.md").read_text()
    assert not (tmp_path / "runs").exists()  # nothing was evaluated again


def test_seeds_run_a_subset_now_and_the_rest_later(tmp_path, monkeypatch):
    """``--seeds 43`` trains and evaluates only seed 43 of each trained condition (the untrained base once);
    a seed the file does not list is one error before anything runs."""
    import json

    from .helpers import GOOD

    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.yaml").write_text(GOOD.replace("compare_to: a\n", "compare_to: a\nseeds: [42, 43]\n")
                                     .replace("  - {name: b, train: {}, expected: {bible-xref-sw-mini: 0.30}, tolerance: 0.01}\n", ""))
    args = argparse.Namespace(file="t.yaml", runs_dir=str(tmp_path / "runs"), output=str(tmp_path / "t.json"),
                              conditions=None, report_only=False, device="cpu", seeds="44")  # fmt: skip
    with pytest.raises(DataError, match="--seeds: 44 not among the file's seeds"):
        run_command(args)
    args.seeds = "43"
    assert run_command(args) == 0
    done = json.loads((tmp_path / "t.json").read_text())["conditions"]
    assert sorted(done["a"]) == ["43"] and sorted(done["base"]) == ["42"]
