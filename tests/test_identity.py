"""Model identity: one fingerprint rule, the training record, prompts and the retriever kind."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from babelir.identity import (
    TRAINING_RECORD,
    model_fingerprint,
    prompt_for,
    read_training_record,
    trained_retriever,
    write_training_record,
)


@pytest.fixture()
def model_copy(tmp_path: Path) -> Path:
    from babelir.backbones import resolve_backbone

    return Path(shutil.copytree(resolve_backbone("tiny"), tmp_path / "model"))


def test_fingerprint_follows_content_but_not_the_model_card(model_copy: Path, tmp_path: Path) -> None:
    base = model_fingerprint(model_copy)
    elsewhere = Path(shutil.copytree(model_copy, tmp_path / "elsewhere"))
    assert model_fingerprint(elsewhere) == base  # same content elsewhere: same fingerprint
    (model_copy / "README.md").write_text("a new model card")
    (model_copy / ".cache").mkdir()
    (model_copy / ".cache" / "lock").write_text("hidden files are not the model")
    assert model_fingerprint(model_copy) == base
    config = model_copy / "config_sentence_transformers.json"
    config.write_text(config.read_text().replace("query: ", "question: "))
    assert model_fingerprint(model_copy) != base


def test_fingerprint_needs_a_directory(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError, match="not a model directory"):
        model_fingerprint(tmp_path / "missing")


def test_training_record_round_trip_and_retriever_kind(tmp_path: Path) -> None:
    assert read_training_record(tmp_path) is None
    assert trained_retriever(tmp_path) == "dense"  # any model not trained by babelir
    record = {"config": {"retriever": "late-interaction"}, "seconds": 1.5}
    assert write_training_record(tmp_path, record) == tmp_path / TRAINING_RECORD
    assert read_training_record(tmp_path) == record
    assert json.loads((tmp_path / TRAINING_RECORD).read_text()) == record
    assert trained_retriever(tmp_path) == "late-interaction"
    write_training_record(tmp_path, {"config": {}})
    assert trained_retriever(tmp_path) == "dense"


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_unreadable_training_record_names_the_file(tmp_path: Path, content: str) -> None:
    (tmp_path / TRAINING_RECORD).write_text(content)
    with pytest.raises(ValueError, match=TRAINING_RECORD):
        trained_retriever(tmp_path)


def test_prompts_by_role() -> None:
    class Model:
        prompts = {"query": "query: ", "document": ""}

    assert prompt_for(Model(), "query") == "query: "
    assert prompt_for(Model(), "document") is None  # an empty prompt is no prompt
    assert prompt_for(object(), "query") is None
