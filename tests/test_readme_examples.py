"""The README's Python examples, run as written on the tiny backbone and tiny data.

Each block is taken from README.md by its section heading and executed with ``exec``; the only edits
are the substitutions listed beside each test (model size, step counts, small data), each of which must
match exactly once, so a README that changes those lines, or code that no longer runs, fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.evaluation.conftest import write_beir_by_hand
from tests.index.helpers import write_corpus
from tests.training.test_trainer import write_data

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_block(heading: str) -> str:
    """The first ```python block under the ``### heading`` section of the README."""
    text = README.read_text(encoding="utf-8")
    section = re.split(r"\n##+ ", text.split(f"\n### {heading}\n", 1)[1], maxsplit=1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, f"no python block under {heading!r}"
    return match.group(1)


def substituted(code: str, substitutions: dict[str, str]) -> str:
    for old, new in substitutions.items():
        assert code.count(old) == 1, f"README example no longer contains {old!r} exactly once"
        code = code.replace(old, new)
    return code


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """babelir's cache for these tests (the tiny backbone is built once for both)."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture()
def workdir(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder as the current directory, where the examples' relative paths land."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BABELIR_CACHE", str(cache))
    return tmp_path


def test_sentence_transformers_trainer_example(workdir: Path):
    write_data(workdir / "data")  # data/retrieval.jsonl, data/parallel.tsv, data/nonparallel.jsonl
    code = substituted(
        readme_block("The losses as an add-on to your own sentence-transformers training"),
        {'load_model("me5-small")': 'load_model("tiny")', "max_steps=300": "max_steps=3"},
    )
    namespace: dict = {}
    exec(compile(code, "README.md (sentence-transformers Trainer example)", "exec"), namespace)
    assert namespace["trainer"].state.global_step == 3
    assert len(namespace["lang_ds"]) == len(namespace["par_ds"]) == 40
    assert (workdir / "runs" / "st" / "model" / "config_sentence_transformers.json").is_file()


def test_python_api_example(workdir: Path, capsys: pytest.CaptureFixture[str]):
    data = write_data(workdir / "data")
    (workdir / "data" / "retrieval.jsonl").rename(workdir / "my-train.jsonl")
    write_corpus(workdir / "corpus.jsonl")
    write_beir_by_hand(workdir / "toy-benchmark")
    tiny_run = (
        f'steps=2, backbone="tiny", parallel={data["parallel"]!r}, nonparallel={data["nonparallel"]!r}, '
        "batch_size=4, aux_batch_size=4, warmup_steps=1, checkpoint_every=0, progress=False"
    )
    code = substituted(
        readme_block("Python API"), {"steps=100": tiny_run, '"bible-xref-*"': '"toy-benchmark"'}
    )
    namespace: dict = {}
    exec(compile(code, "README.md (Python API example)", "exec"), namespace)
    assert namespace["result"].model_path.resolve() == workdir / "runs" / "mine" / "model"
    saved = json.loads((workdir / "runs" / "mine" / "model" / "babelir_training.json").read_text())
    assert saved["config"]["semantic_weight"] == 0.5  # the keyword override reached the run
    assert namespace["vectors"].shape == (1, 64)
    # the shared corpus has too few documents per language for statistics: searched as it is, and said so
    assert namespace["language"].source == "none" and len(namespace["answer"].hits) == 3
    printed = capsys.readouterr().out
    assert "toy-benchmark" in printed and len(re.findall(r"^\d+ ", printed, re.MULTILINE)) == 3  # 3 hits
