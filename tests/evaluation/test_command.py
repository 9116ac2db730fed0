"""``babelir evaluate`` and ``babelir bias`` through the real CLI entry point."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from babelir.cli import main


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BABELIR_CACHE", str(tmp_path / "cache"))


def test_evaluate_writes_json_runs_and_prints_table(beir_folder: Path, tmp_path: Path, capsys) -> None:
    out, runs = tmp_path / "res.json", tmp_path / "runs"
    rc = main(
        [
            "evaluate",
            "bm25",
            "--benchmarks",
            str(beir_folder),
            "--output",
            str(out),
            "--run-dir",
            str(runs),
            "--no-progress",
        ]
    )
    assert rc == 0
    printed = capsys.readouterr()
    assert "| benchmark | main |" in printed.out and "nDCG@10 = 1.0000" in printed.err
    data = json.loads(out.read_text())
    assert data["benchmarks"][str(beir_folder)]["metrics"]["nDCG@10"] == 1.0
    assert (runs / "toy.run").is_file() or any(runs.iterdir())
    table = tmp_path / "res.md"
    again = ["evaluate", "bm25", "--benchmarks", str(beir_folder), "--no-progress"]
    assert main([*again, "--output", str(out), "--markdown", str(table)]) == 0  # its own files: replaced
    shutil.copy(out, tmp_path / "copy.json")  # a results file of the very shape, not written there by babelir
    assert main([*again, "--output", str(tmp_path / "copy.json")]) == 2
    for flag, path in (("--output", tmp_path / "notes.json"), ("--markdown", tmp_path / "notes.md")):
        path.write_text('{"my": "notes"}')
        capsys.readouterr()
        assert main([*again, flag, str(path)]) == 2 and "babelir did not write it" in capsys.readouterr().err
        assert path.read_text() == '{"my": "notes"}'


def test_evaluate_reports_unknown_benchmarks(capsys) -> None:
    assert main(["evaluate", "bm25", "--benchmarks", "bible-xref-klingon"]) == 2
    assert "unknown benchmark 'bible-xref-klingon'" in capsys.readouterr().err


def test_list_benchmarks(capsys) -> None:
    assert main(["evaluate", "--list-benchmarks"]) == 0
    out = capsys.readouterr().out
    assert "| bible-xref-pool | bible-xref-pool |" in out and "| wiki-fr-full |" in out


def test_help_names_the_flags(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    text = capsys.readouterr().out
    for flag in ("--benchmarks", "--output", "--run-dir", "--batch-size", "--no-cache", "--list-benchmarks"):
        assert flag in text


def test_bias_report_files(tiny_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "bias"
    rc = main(
        [
            "bias",
            str(tiny_dir),
            "--output-dir",
            str(out),
            "--languages",
            "en,de,zh",
            "--verses",
            "12",
            "--no-progress",
        ]
    )
    assert rc == 0
    report = json.loads((out / "bias.json").read_text())
    assert report["texts"] == 36 and 0.0 <= report["probe"]["accuracy"] <= 1.0
    assert (out / "bias_pca.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "language-ID probe accuracy" in capsys.readouterr().out
    argv = ["bias", str(tiny_dir), "--output-dir", str(out), "--languages", "en,de", "--verses", "4", "--no-progress"]
    assert main(argv) == 0  # its own report: replaced
    (out / "bias.md").write_text("my edits", encoding="utf-8")  # a report the user changed is theirs
    assert main(argv) == 2 and "bias.md: exists and babelir did not write it" in capsys.readouterr().err
    assert (out / "bias.md").read_text(encoding="utf-8") == "my edits"


def test_bias_needs_a_dense_model(tmp_path: Path, capsys) -> None:
    assert main(["bias", "bm25", "--output-dir", str(tmp_path / "b")]) == 2
    assert "dense model" in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "problem"), [
    (["--languages", "en,en"], "at least two languages"),
    (["--verses", "0"], "at least 2 verses"),
])  # fmt: skip
def test_bias_checks_its_flags_before_loading_anything(tmp_path: Path, capsys, flags, problem) -> None:
    assert main(["bias", "tiny", "--output-dir", str(tmp_path / "b"), *flags]) == 2
    assert problem in capsys.readouterr().err and not (tmp_path / "b").exists()
