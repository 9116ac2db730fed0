"""Names and model folders resolve to the right retriever, scored the way the model was trained."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from babelir.evaluation.retrieval.loading import load_retriever
from babelir.evaluation.retrieval.retrievers import BM25Retriever, DenseRetriever, LateInteractionRetriever


def test_names_resolve() -> None:
    assert isinstance(load_retriever("bm25"), BM25Retriever)
    assert isinstance(load_retriever("BM25"), BM25Retriever)


def test_scoring_follows_the_training_record(tiny_dir: Path, tmp_path: Path) -> None:
    import json

    assert isinstance(load_retriever(str(tiny_dir)), DenseRetriever)
    assert isinstance(load_retriever(str(tiny_dir), scoring="maxsim"), LateInteractionRetriever)
    late = Path(shutil.copytree(tiny_dir, tmp_path / "late"))
    (late / "babelir_training.json").write_text(json.dumps({"config": {"retriever": "late-interaction"}}))
    assert isinstance(load_retriever(str(late)), LateInteractionRetriever)
    assert isinstance(load_retriever(str(late), scoring="dense"), DenseRetriever)
    with pytest.raises(ValueError, match="scoring must be one of"):
        load_retriever(str(late), scoring="colbert")
    with pytest.raises(ValueError, match="no token vectors"):
        load_retriever("bm25", scoring="maxsim")
    (late / "babelir_training.json").write_text("{not json")
    with pytest.raises(ValueError, match="babelir_training.json"):
        load_retriever(str(late))


def test_late_interaction_evaluation_runs_end_to_end(beir_folder: Path, tiny_dir: Path) -> None:
    from babelir.evaluation.scoring.runner import evaluate

    results = evaluate(str(tiny_dir), [str(beir_folder)], scoring="maxsim", show_progress=False)
    result = next(iter(results.benchmarks.values()))
    assert 0.0 <= result.main_score <= 1.0
    assert result.timings["cached_texts"] == 0
    assert results.model["type"] == "late-interaction"
