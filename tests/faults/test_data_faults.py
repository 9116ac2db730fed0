"""Damaged data files, end to end through ``babelir.cli.main``: ``babelir train`` and ``babelir encode``.

A data file the user names and that yields no rows is an error naming it (it used to train on the
embedded default data while the training record named the empty file); a line cut short or bytes
that are not text are named with their line. Every case: exit 2, one line, no traceback, and no run
folder or embeddings file written. The data are read before the model loads, so no case trains.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from babelir.cli import main
from tests.faults.damage import damage
from tests.faults.errors import one_error

RETRIEVAL = [{"query": f"question {i}", "positive": f"answer {i}"} for i in range(4)]
PARALLEL = "en\tde\n" + "".join(f"house {i}\tHaus {i}\n" for i in range(4))
NONPARALLEL = [{"text": f"Satz {i}", "language": "de"} for i in range(4)]


@pytest.fixture
def data(tmp_path: Path) -> dict[str, Path]:
    """One good file per stream."""
    files = {
        "retrieval": tmp_path / "retrieval.jsonl",
        "parallel": tmp_path / "parallel.tsv",
        "nonparallel": tmp_path / "nonparallel.jsonl",
    }
    files["retrieval"].write_text("".join(json.dumps(r) + "\n" for r in RETRIEVAL), encoding="utf-8")
    files["parallel"].write_text(PARALLEL, encoding="utf-8")
    files["nonparallel"].write_text("".join(json.dumps(r) + "\n" for r in NONPARALLEL), encoding="utf-8")
    return files


def _train(data: dict[str, Path], out: Path) -> int:
    argv = ["train", "--output", str(out), "--backbone", "tiny", "--steps", "1", "--batch-size", "2",
            "--aux-batch-size", "2"]
    for stream, path in data.items():
        argv += [f"--{stream}", str(path)]
    return main(argv)


@pytest.mark.parametrize("stream", ["retrieval", "parallel", "nonparallel"])
@pytest.mark.parametrize("how", ["empty", "blank", "header only"])
def test_a_named_file_without_rows_is_an_error_not_the_default_data(
    tmp_path: Path, capsys: pytest.CaptureFixture, data: dict[str, Path], stream: str, how: str
) -> None:
    if how == "header only" and stream != "parallel":
        pytest.skip("only TSV files have a header")
    path = data[stream]
    path.write_text({"empty": "", "blank": "\n\n", "header only": "en\tde\n"}[how], encoding="utf-8")
    assert _train(data, tmp_path / "run") == 2
    line = one_error(capsys)
    assert line.startswith(f"babelir: error: {path}")
    if not (how == "blank" and stream == "parallel"):  # there the reader already misses the header line
        assert line.startswith(f"babelir: error: {path}: no ") and "the file is empty" in line
        assert f"--{stream}" in line  # what to do: fill it, or leave the flag out for the embedded default
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("stream", ["retrieval", "parallel", "nonparallel"])
@pytest.mark.parametrize("how", ["truncate", "garbage"])
def test_a_cut_or_binary_data_file_is_named_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, data: dict[str, Path], stream: str, how: str
) -> None:
    path = data[stream]
    if how == "truncate":
        _cut_last_line(path)
    else:
        path.write_bytes(bytes(range(128, 256)) * 4)
    assert _train(data, tmp_path / "run") == 2
    line = one_error(capsys)
    assert line.startswith(f"babelir: error: {path}:"), line
    assert not (tmp_path / "run").exists()


def _cut_last_line(path: Path) -> None:
    """Cut the last line where a copy stopped short: inside the JSON object, before the TSV row's tab."""
    data = path.read_bytes().rstrip(b"\n")
    start = data.rfind(b"\n") + 1
    tab = data.find(b"\t", start)
    path.write_bytes(data[: tab if tab >= 0 else start + (len(data) - start) // 2])


def test_too_few_rows_for_one_batch_name_the_file_and_the_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture, data: dict[str, Path]
) -> None:
    argv = ["train", "--output", str(tmp_path / "run"), "--backbone", "tiny", "--batch-size", "8"]
    for stream, path in data.items():
        argv += [f"--{stream}", str(path)]
    assert main(argv) == 2
    assert one_error(capsys) == (
        f"babelir: error: {data['retrieval']}: 4 retrieval rows, fewer than one batch of 8; add data or lower "
        "--batch-size"
    )


def test_a_missing_data_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture, data: dict[str, Path]) -> None:
    data["retrieval"] = tmp_path / "nowhere.jsonl"
    assert _train(data, tmp_path / "run") == 2
    assert one_error(capsys).startswith(f"babelir: error: {tmp_path / 'nowhere.jsonl'}")


@pytest.mark.parametrize("how", ["empty", "truncate", "garbage"])
def test_encode_names_a_damaged_texts_file_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture, how: str
) -> None:
    texts, out = tmp_path / "texts.jsonl", tmp_path / "emb.npy"
    texts.write_text("".join(json.dumps({"id": str(i), "text": f"text {i}"}) + "\n" for i in range(5)))
    if how == "garbage":
        texts.write_bytes(bytes(range(128, 256)))
    else:
        damage(texts, how)
    assert main(["encode", "tiny", str(texts), "--output", str(out)]) == 2
    assert one_error(capsys).startswith(f"babelir: error: {texts}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["texts.jsonl"]  # no output, no temp file
