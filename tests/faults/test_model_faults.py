"""Damaged model folders, end to end through ``babelir.cli.main``: ``encode``, ``evaluate`` and ``train``.

Each case copies the ``tiny`` backbone folder, damages one file (weights cut short, emptied or with a
broken header; ``config.json`` missing or cut short; ``modules.json`` cut short) or passes a folder that
is no model or a name that is no backbone, and runs the real command: one line naming the folder or the
damaged file and what to do, exit 2, no traceback, nothing written.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from babelir.cli import main
from tests.faults.damage import damage
from tests.faults.errors import one_error


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly built ``tiny`` folder (random weights, real tokenizer), copied by each case."""
    from babelir.backbones.tiny import build_tiny

    return build_tiny(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture
def texts(tmp_path: Path) -> Path:
    path = tmp_path / "texts.txt"
    path.write_text("the first text\nthe second text\n", encoding="utf-8")
    return path


def _flip_header(path: Path) -> None:
    """The first 8 bytes of a safetensors file are its header length: flipped, it claims a huge header."""
    data = path.read_bytes()
    path.write_bytes(bytes(b ^ 0xFF for b in data[:8]) + data[8:])


DAMAGES = {
    "weights cut short": ("model.safetensors", lambda p: damage(p, "truncate"), "damaged model weights"),
    "weights emptied": ("model.safetensors", lambda p: damage(p, "empty"), "damaged model weights"),
    "weights header": ("model.safetensors", _flip_header, "damaged model weights"),
    "config missing": ("config.json", Path.unlink, "missing, so the model cannot be loaded"),
    "config cut short": ("config.json", lambda p: damage(p, "truncate"), "damaged JSON file"),
    "modules cut short": ("modules.json", lambda p: damage(p, "truncate"), "damaged JSON file"),
}


@pytest.mark.parametrize("case", list(DAMAGES))
def test_encode_names_the_damaged_model_file(
    tmp_path: Path, capsys: pytest.CaptureFixture, tiny_model: Path, texts: Path, case: str
) -> None:
    name, hurt, problem = DAMAGES[case]
    model = Path(shutil.copytree(tiny_model, tmp_path / "model"))
    hurt(model / name)
    out = tmp_path / "emb.npy"
    assert main(["encode", str(model), str(texts), "--output", str(out)]) == 2
    line = one_error(capsys)
    assert line.startswith(f"babelir: error: {model / name}: {problem}"), line
    assert "copy the model folder again or retrain it" in line  # what to do
    assert not out.exists() and not any(p.name.startswith(".") for p in tmp_path.iterdir())


@pytest.mark.parametrize(
    ("model", "problem"),
    [
        ("no-such-backbone", "unknown backbone 'no-such-backbone'; known: me5-small"),
        ("./missing-folder", "no such directory, and not a known backbone name"),
        ("./not-a-model", "is not a model directory"),
        ("./texts.txt", "is a file, not a model directory"),
    ],
)
def test_a_name_or_folder_that_is_no_model_is_named_by_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture, texts: Path, monkeypatch: pytest.MonkeyPatch,
    model: str, problem: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "not-a-model").mkdir()
    (tmp_path / "not-a-model" / "notes.txt").write_text("my thesis", encoding="utf-8")
    retrieval = tmp_path / "r.jsonl"
    retrieval.write_text("".join(json.dumps({"query": f"q{i}", "positive": f"p{i}"}) + "\n" for i in range(2)))
    commands = [
        ["encode", model, str(texts), "--output", "emb.npy"],
        ["evaluate", model, "--benchmarks", "bible-xref-en", "--output", "res.json"],
        ["train", "--backbone", model, "--output", "run", "--retrieval", str(retrieval), "--batch-size", "2",
         "--parallel", _parallel(tmp_path), "--nonparallel", f"de:{texts}", "--aux-batch-size", "2"],
    ]
    for argv in commands:
        assert main(argv) == 2, argv
        line = one_error(capsys)
        assert line.startswith(f"babelir: error: {model}: ") and problem in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-model", "p.tsv", "r.jsonl", "texts.txt"]


def _parallel(folder: Path) -> str:
    (folder / "p.tsv").write_text("en\tde\nhouse\tHaus\ntree\tBaum\n", encoding="utf-8")
    return str(folder / "p.tsv")
