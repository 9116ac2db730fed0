"""``--device``: one spelling rule, CUDA asked for where torch sees none is one line, and training and
evaluation run where they are told (on this CPU-only machine: the CPU; the GPU path is exercised by
``benchmarks/gpu_check.py`` where a GPU exists)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from babelir.cli import main
from babelir.utils.devices import is_device_spelling, resolve_device
from babelir.utils.errors import BabelirError
from tests.faults.errors import one_error

NO_CUDA = not torch.cuda.is_available()


def test_auto_is_the_cpu_without_a_gpu() -> None:
    assert resolve_device("auto") == resolve_device(None) == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device(" CPU ") == "cpu"


@pytest.mark.parametrize("spec", ["auto", "cpu", "cuda", "cuda:0", "CUDA:3"])
def test_known_spellings(spec: str) -> None:
    assert is_device_spelling(spec)


@pytest.mark.parametrize("spec", ["gpu", "cuda:", "cuda:x", "mps", ""])
def test_unknown_spellings_are_refused_with_the_choices(spec: str) -> None:
    assert not is_device_spelling(spec)
    with pytest.raises(BabelirError, match="choose auto, cpu, cuda or cuda:N"):
        resolve_device(spec or "tpu")


@pytest.mark.skipif(not NO_CUDA, reason="this machine has a GPU")
def test_cuda_without_a_gpu_says_what_to_do() -> None:
    with pytest.raises(BabelirError, match="torch sees no CUDA GPU here.*use --device cpu"):
        resolve_device("cuda:1")


@pytest.mark.skipif(not NO_CUDA, reason="this machine has a GPU")
def test_train_asking_for_cuda_is_one_line_and_writes_nothing(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code = main(["train", "--backbone", "tiny", "--steps", "1", "--device", "cuda", "--output", str(out)])
    assert code == 2
    assert "--device cuda: torch sees no CUDA GPU" in one_error(capsys)
    assert not out.exists()


def test_a_misspelt_device_in_a_config_names_its_line(tmp_path: Path, capsys) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("backbone: tiny\nsteps: 1\ndevice: gpu\n", encoding="utf-8")
    code = main(["train", "--config", str(config), "--output", str(tmp_path / "run")])
    assert code == 2
    assert f"{config}:3: device: must be auto, cpu, cuda or cuda:N, got 'gpu'" in one_error(capsys)


def test_the_device_is_not_part_of_a_run_identity() -> None:
    from babelir.training.config import TrainConfig

    assert TrainConfig(device="cpu").identity() == TrainConfig(device="cuda:1").identity()
    assert "device" not in TrainConfig().identity()


@pytest.mark.skipif(not NO_CUDA, reason="this machine has a GPU")
def test_evaluate_asking_for_cuda_is_one_line(capsys) -> None:
    code = main(["evaluate", "tiny", "--benchmarks", "bible-xref-de-dev", "--device", "cuda"])
    assert code == 2
    assert "--device cuda" in one_error(capsys)


@pytest.mark.skipif(not NO_CUDA, reason="this machine has a GPU")
@pytest.mark.parametrize("command", ["index", "search", "serve", "encode"])
def test_every_encoding_command_refuses_cuda_without_a_gpu(tmp_path: Path, capsys, command: str) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"id": "d1", "text": "a verse"}\n', encoding="utf-8")
    queries = tmp_path / "queries.tsv"
    queries.write_text("q1\ta question\n", encoding="utf-8")
    index = tmp_path / "index"
    argv = {
        "index": ["index", "tiny", str(corpus), str(index)],
        "search": ["search", str(index), "--queries", str(queries), "--output", str(tmp_path / "run.trec")],
        "serve": ["serve", str(index)],
        "encode": ["encode", "tiny", str(corpus), "--output", str(tmp_path / "v.npy")],
    }[command]
    assert main([*argv, "--device", "cuda"]) == 2
    assert "--device cuda: torch sees no CUDA GPU" in one_error(capsys)
    assert not index.exists() and not (tmp_path / "v.npy").exists()
