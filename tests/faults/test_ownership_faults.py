"""A user's files survive every command that writes, with and without ``--overwrite``, byte for byte.

Each case was a way to lose files (issue "Lose nothing, part two"): a folder counted as babelir's because it
held a ``manifest.json`` or a ``config.yaml`` with a ``backbone`` key, a file replaced because it had the name
or layout babelir writes. Now only babelir's marker or ledger (:mod:`babelir.utils.ownership`) makes an
output babelir's. Every refusal: exit 2, one ``babelir: error:`` line naming the path, nothing written.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from babelir.cli import main
from babelir.utils.ownership import FOLDER_MARKER, mark_folder
from tests.faults.errors import one_error
from tests.training.test_trainer import write_data

DOCS = {"d-cat": "The cat sleeps on the warm mat.", "d-rain": "Heavy rain flooded the old town."}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BABELIR_CACHE", str(tmp_path / "cache"))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def users_folder(tmp_path: Path) -> Path:
    """A web app's folder and a hand-written run folder in one: every name babelir once trusted."""
    folder = tmp_path / "project"
    (folder / "src").mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"name": "My app", "icons": []}), encoding="utf-8")
    (folder / "index.html").write_text("<h1>mine</h1>", encoding="utf-8")
    (folder / "src" / "app.js").write_text("console.log(1)", encoding="utf-8")
    (folder / "config.yaml").write_text("# my settings\nbackbone: tiny\nsteps: 5\n", encoding="utf-8")
    (folder / "train_log.jsonl").write_text('{"step": 1, "note": "my own log"}\n', encoding="utf-8")
    (folder / "model").mkdir()
    (folder / "model" / "notes.md").write_text("my notes", encoding="utf-8")
    return folder


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps({"_id": d, "text": t}) + "\n" for d, t in DOCS.items()), encoding="utf-8")
    return path


def _refused(capsys: pytest.CaptureFixture, argv: list[str], path: Path) -> str:
    assert main(argv) == 2, argv
    line = one_error(capsys)
    assert str(path) in line, line
    return line


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_index_and_merge_leave_a_folder_with_a_users_manifest_as_it_was(
    users_folder: Path, corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture, overwrite: list[str]
) -> None:
    before = _snapshot(users_folder)
    _refused(capsys, ["index", "tiny", str(corpus), str(users_folder), *overwrite], users_folder)
    shards = [tmp_path / f"s{i}" for i in range(2)]
    for i, shard in enumerate(shards):
        assert main(["index", "tiny", str(corpus), str(shard), "--shard-id", str(i), "--shard-count", "2"]) == 0
    capsys.readouterr()
    _refused(capsys, ["index", "merge", *map(str, shards), "--output", str(users_folder), *overwrite], users_folder)
    assert _snapshot(users_folder) == before


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"], ["--resume"]])
def test_train_leaves_a_folder_with_a_hand_written_config_as_it_was(
    users_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture, overwrite: list[str]
) -> None:
    data = write_data(tmp_path / "data")
    before = _snapshot(users_folder)
    argv = ["train", "--backbone", "tiny", "--steps", "2", "--batch-size", "4", "--retrieval", *data["retrieval"],
            "--parallel", *data["parallel"], "--nonparallel", *data["nonparallel"], "--output", str(users_folder),
            *overwrite]
    assert "did not write" in _refused(capsys, argv, users_folder)
    assert _snapshot(users_folder) == before


def test_a_kill_during_the_overwrite_swap_leaves_nothing_behind_the_next_build(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "idx"
    assert main(["index", "tiny", str(corpus), str(out)]) == 0
    trash = tmp_path / ".idx.old-k1ll3d"  # what replace_directory leaves when killed between its renames
    shutil.copytree(out, trash / "idx")
    users = tmp_path / ".idx.old-mine"  # a user's folder of that shape, not babelir's: kept
    (users / "idx").mkdir(parents=True)
    (users / "idx" / "keep.txt").write_text("mine", encoding="utf-8")
    assert main(["index", "tiny", str(corpus), str(out), "--overwrite"]) == 0
    assert not trash.exists()
    assert (users / "idx" / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_a_folder_marked_as_another_kind_of_output_is_refused(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run = tmp_path / "run"
    mark_folder(run, "run")
    (run / "config.yaml").write_text("backbone: tiny\n", encoding="utf-8")
    line = _refused(capsys, ["index", "tiny", str(corpus), str(run), "--overwrite"], run)
    assert "holds babelir's run output, not a index" in line or "not an index" in line or "not a index" in line
    assert (run / "config.yaml").is_file() and (run / FOLDER_MARKER).is_file()


def test_mine_never_replaces_its_own_input_or_a_users_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = write_data(tmp_path / "data")
    retrieval = Path(data["retrieval"][0])
    before = retrieval.read_bytes()
    base = ["mine", "tiny", "--retrieval", str(retrieval), "--device", "cpu", "--num-negatives", "1"]
    assert "is the --retrieval file this command reads" in _refused(capsys, [*base, "--output", str(retrieval)],
                                                                    retrieval)
    assert retrieval.read_bytes() == before
    users = tmp_path / "hard.jsonl"  # the very layout mine writes, by hand
    users.write_text(json.dumps({"query": "q", "positive": "p", "negatives": ["n"]}) + "\n", encoding="utf-8")
    text = users.read_bytes()
    assert "babelir did not write it" in _refused(capsys, [*base, "--output", str(users)], users)
    assert users.read_bytes() == text
    mined = tmp_path / "mined.jsonl"
    assert main([*base, "--output", str(mined)]) == 0
    assert main([*base, "--output", str(mined)]) == 0  # its own earlier output: replaced
    assert main([*base[:-2], "--num-negatives", "2", "--output", str(mined), "--batch-size", "0"]) == 2
    assert "batch size 0" in one_error(capsys)


def test_evaluate_run_dir_replaces_only_this_models_own_runs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    beir = tmp_path / "toy"
    (beir / "qrels").mkdir(parents=True)
    (beir / "corpus.jsonl").write_text("".join(json.dumps({"_id": d, "text": t}) + "\n" for d, t in DOCS.items()))
    (beir / "queries.jsonl").write_text(json.dumps({"_id": "q-cat", "text": "where does the cat sleep"}) + "\n")
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq-cat\td-cat\t1\n")
    runs = tmp_path / "runs"
    base = ["evaluate", "--benchmarks", str(beir), "--run-dir", str(runs), "--no-progress"]
    assert main(["evaluate", "tiny", *base[1:]]) == 0
    run_file = next(runs.glob("*.run"))
    assert main(["evaluate", "tiny", *base[1:]]) == 0  # its own earlier run: replaced
    bm25 = run_file.read_bytes()
    assert main(["evaluate", "bm25", *base[1:]]) == 2  # another system's run of that benchmark: kept
    assert "holds" in one_error(capsys) and run_file.read_bytes() == bm25
    run_file.write_text("q-cat Q0 d-cat 1 1.0 mine\n", encoding="utf-8")  # a user's file there
    assert main(["evaluate", "tiny", *base[1:]]) == 2
    assert "babelir did not write it" in one_error(capsys)
    assert run_file.read_text(encoding="utf-8") == "q-cat Q0 d-cat 1 1.0 mine\n"
