"""Run and judgement files, end to end through ``babelir.cli.main``: ``babelir evaluate`` reads TREC qrels
(``qrels/<split>.tsv`` of a BEIR folder) and writes runs and results; ``babelir search`` writes a run.

Damaged qrels are named with their line; an output that cannot be written is named with the OS reason
and leaves no partial or temporary file; a failed rerun leaves the previous run as it was. Every case:
exit 2, one ``babelir: error:`` line, no traceback.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from babelir.cli import main
from babelir.utils.ownership import FILE_LEDGER
from tests.faults.damage import damage
from tests.faults.errors import one_error

DOCS = {"d-cat": "The cat sleeps on the warm mat.", "d-rain": "Heavy rain flooded the old town."}
QUERIES = {"q-cat": "where does the cat sleep", "q-rain": "rain in the town"}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BABELIR_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def beir(tmp_path: Path) -> Path:
    folder = tmp_path / "toy"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps({"_id": d, "text": t}) + "\n" for d, t in DOCS.items()))
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in QUERIES.items()))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq-cat\td-cat\t1\nq-rain\td-rain\t1\n")
    return folder


def _evaluate(beir: Path, out: Path, *more: str) -> int:
    return main(["evaluate", "bm25", "--benchmarks", str(beir), "--output", str(out), "--no-progress", *more])


@pytest.mark.parametrize("how", ["cut", "garbage", "bad score"])
def test_damaged_qrels_are_named_with_their_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, beir: Path, how: str
) -> None:
    qrels = beir / "qrels" / "test.tsv"
    if how == "cut":
        qrels.write_bytes(qrels.read_bytes()[:-4])  # the last judgement lost its score column
    elif how == "garbage":
        qrels.write_bytes(qrels.read_bytes() + bytes(range(128, 256)) + b"\n")
    else:
        qrels.write_text(qrels.read_text() + "q-cat\td-rain\tmaybe\n")
    out = tmp_path / "res.json"
    assert _evaluate(beir, out) == 2
    line = one_error(capsys)
    assert line.startswith(f"babelir: error: {qrels}:"), line
    assert not out.exists()


def test_unwritable_outputs_are_named_and_nothing_is_half_written(
    tmp_path: Path, capsys: pytest.CaptureFixture, beir: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    assert _evaluate(beir, tmp_path / "res.json", "--run-dir", str(blocker / "runs")) == 2
    assert one_error(capsys).startswith(f"babelir: error: {blocker / 'runs'}: not a directory")
    assert _evaluate(beir, blocker / "res.json") == 2
    assert one_error(capsys).startswith(f"babelir: error: {blocker}: ")  # a file where a folder is needed
    assert blocker.read_text(encoding="utf-8") == "not a folder"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cache") == ["a-file", "toy"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_run_folder_is_named(tmp_path: Path, capsys: pytest.CaptureFixture, beir: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    runs.chmod(0o555)
    try:
        assert _evaluate(beir, tmp_path / "res.json", "--run-dir", str(runs)) == 2
        assert "permission denied" in one_error(capsys)
        assert list(runs.iterdir()) == []
    finally:
        runs.chmod(0o755)


def test_search_keeps_the_previous_run_when_a_rerun_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture, built_index: Path
) -> None:
    queries, run = tmp_path / "q.jsonl", tmp_path / "out.run"
    queries.write_text("".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in QUERIES.items()))
    assert main(["search", str(built_index), "--queries", str(queries), "--output", str(run), "--k", "2"]) == 0
    capsys.readouterr()
    before = run.read_bytes()
    damage(queries, "truncate")  # the last query is cut inside its JSON object
    assert main(["search", str(built_index), "--queries", str(queries), "--output", str(run), "--k", "2"]) == 2
    assert one_error(capsys).startswith(f"babelir: error: {queries}:")
    assert run.read_bytes() == before
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    queries.write_text(json.dumps({"_id": "q", "text": "cat"}) + "\n")
    assert main(["search", str(built_index), "--queries", str(queries), "--output", str(blocker / "r.run")]) == 2
    assert str(blocker) in one_error(capsys)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name not in ("cache", FILE_LEDGER)) == [
        "a-file", "out.run", "q.jsonl"]
