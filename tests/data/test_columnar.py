"""Memory-mapped training columns: the same rows in the same order as the readers' lists (so the same
batches and exact resume), built once per file, errors still FILE:LINE; datasets folders read too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from babelir.data.columnar import Columns, Concatenated, build_columns, cached_columns
from babelir.data.errors import DataError
from babelir.data.readers import ParallelPair, RetrievalExample, read_retrieval
from babelir.training import data as training_data
from babelir.training.config import TrainConfig
from babelir.training.trainer import CoTrainer
from tests.training.test_trainer import small_config, write_data


def test_columns_give_back_every_field_in_order(tmp_path: Path) -> None:
    rows = [RetrievalExample("q1", "p1", ("n1", "n2")), RetrievalExample("q2 ü", "p2", ()),
            RetrievalExample("", "p3 日本", ("x",))]
    build_columns(tmp_path / "t", rows, RetrievalExample)
    table = Columns(tmp_path / "t", RetrievalExample)
    assert len(table) == 3 and list(table) == rows and table[-1] == rows[-1] and table[0:2] == rows[:2]
    with pytest.raises(IndexError):
        table[3]
    both = Concatenated([table, [RetrievalExample("q4", "p4")]])
    assert len(both) == 4 and both[3].query == "q4" and list(both)[:3] == rows


def test_a_big_file_trains_exactly_like_a_small_one(tmp_path: Path, monkeypatch) -> None:
    data = write_data(tmp_path / "data")
    small = CoTrainer(small_config(data, steps=4, checkpoint_every=0), tmp_path / "lists").train()
    monkeypatch.setattr(training_data, "COLUMNAR_BYTES", 1)  # every file counts as big
    loaded = training_data.load_training_data(small_config(data))
    assert isinstance(loaded.retrieval, Columns) and isinstance(loaded.parallel, Columns)
    assert list(loaded.retrieval) == list(read_retrieval(data["retrieval"][0]))
    big = CoTrainer(small_config(data, steps=4, checkpoint_every=0), tmp_path / "columns").train()
    logs = [[json.loads(x) for x in (tmp_path / n / "train_log.jsonl").read_text().splitlines()] for n in ("lists", "columns")]
    assert [r["loss"] for r in logs[0]] == [r["loss"] for r in logs[1]]
    assert small.last == big.last


def test_a_bad_line_in_a_big_file_is_still_file_and_line(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text('{"query": "a", "positive": "b"}\n{"query": "c"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"train\.jsonl:2"):
        cached_columns(path, "retrieval", lambda: read_retrieval(path), RetrievalExample)


def test_a_datasets_folder_trains(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    folder = tmp_path / "hf-pairs"
    datasets.Dataset.from_dict({
        "source": [f"the river {i}" for i in range(16)], "target": [f"der Fluss {i}" for i in range(16)],
        "source_lang": ["en"] * 16, "target_lang": ["de"] * 16,
    }).save_to_disk(str(folder))
    loaded = training_data.load_training_data(TrainConfig(backbone="tiny", parallel=[str(folder)],
                                                          batch_size=8, aux_batch_size=8).validate())
    assert len(loaded.parallel) == 16 and loaded.parallel[3] == ParallelPair("the river 3", "der Fluss 3", "en", "de")
    broken = tmp_path / "hf-broken"
    datasets.Dataset.from_dict({"text": ["x"]}).save_to_disk(str(broken))
    with pytest.raises(DataError, match="needs source, target"):
        training_data.load_training_data(TrainConfig(backbone="tiny", parallel=[str(broken)]).validate())
    empty = tmp_path / "hf-empty-row"
    datasets.Dataset.from_dict({"query": ["a", None], "positive": ["b", "c"]}).save_to_disk(str(empty))
    rows = training_data.load_training_data(TrainConfig(backbone="tiny", retrieval=[str(empty)], batch_size=2,
                                                                aux_batch_size=2).validate()).retrieval
    with pytest.raises(DataError, match=r"hf-empty-row: row 1: 'query' must be non-empty text, got None"):
        list(rows)


def test_a_negative_holding_the_list_separator_names_the_file_and_row(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text('{"query": "a", "positive": "b"}\n{"query": "c", "positive": "d", "negatives": ["x\\u001ey"]}\n',
                    encoding="utf-8")
    with pytest.raises(DataError, match=r"train\.jsonl: row 2: a negatives text holds the control character"):
        cached_columns(path, "retrieval", lambda: read_retrieval(path), RetrievalExample)
