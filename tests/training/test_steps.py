"""The texts of each training step: a pure function of the step, in the loss's column order (no model)."""

from __future__ import annotations

import dataclasses

from babelir.training.data import load_training_data
from babelir.training.steps import StepColumns, nonparallel_pool
from tests.training.test_trainer import small_config, write_data

PROMPTS = {"query": "q: ", "document": "d: ", "none": ""}


def test_columns_depend_only_on_the_step(tmp_path):
    config = small_config(write_data(tmp_path / "data"), num_negatives=0)
    data = load_training_data(config)
    one = StepColumns(config, data, PROMPTS, uses_parallel=True, uses_nonparallel=True)
    two = StepColumns(config, data, PROMPTS, uses_parallel=True, uses_nonparallel=True)
    assert [one(step) for step in (5, 0, 3)] == [two(step) for step in (5, 0, 3)]  # any order: resume
    columns = one(0)
    assert [len(col) for col in columns] == [8, 8, 8, 8, 8]  # queries, positives, sources, targets, sentences
    assert all(t.startswith("q: what is") for t in columns[0]) and all(t.startswith("d: A ") for t in columns[1])
    queries = {e.query: e.positive for e in data.retrieval}
    assert [queries[q.removeprefix("q: ")] for q in columns[0]] == [p.removeprefix("d: ") for p in columns[1]]
    assert one(0) != one(1)


def test_streams_the_loss_does_not_use_have_no_columns(tmp_path):
    config = small_config(write_data(tmp_path / "data"))
    data = load_training_data(config)
    columns = StepColumns(config, data, PROMPTS, uses_parallel=False, uses_nonparallel=False)
    assert set(columns.schedules) == {"retrieval"} and len(columns(0)) == 2


def test_rank_variant_draws_sentences_in_the_source_languages(tmp_path):
    config = small_config(write_data(tmp_path / "data"))
    data = load_training_data(config)
    assert {s.language for s in nonparallel_pool(config, data)} == {"de", "en"}
    rank = dataclasses.replace(config, language_variant="rank")
    assert {s.language for s in nonparallel_pool(rank, data)} == {"en"}  # the parallel pairs' source side
