"""End to end on the tiny backbone: identical numbers twice, cached embeddings, TREC runs, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from babelir.data.trec import read_run
from babelir.evaluation import evaluate
from babelir.evaluation.benchmarks import load_benchmark
from babelir.evaluation.retrieval.retrievers import DenseRetriever
from babelir.evaluation.scoring.metrics import aggregate, evaluate_run
from babelir.evaluation.scoring.tables import comparison_markdown


def test_second_evaluation_reuses_embeddings_and_gives_identical_numbers(
    beir_folder: Path, tiny_encoder, tmp_path: Path
) -> None:
    cache = tmp_path / "emb"
    first = evaluate(DenseRetriever(tiny_encoder, cache), [str(beir_folder)], show_progress=False)
    res1 = first.benchmarks[str(beir_folder)]
    assert res1.timings["encoded_texts"] == 4 + 6 and res1.timings["cached_texts"] == 0
    second = evaluate(DenseRetriever(tiny_encoder, cache), [str(beir_folder)], show_progress=False)
    res2 = second.benchmarks[str(beir_folder)]
    assert res2.timings["encoded_texts"] == 0 and res2.timings["cached_texts"] == 10  # nothing encoded
    assert res1.metrics == res2.metrics  # exactly equal, not approximately
    uncached = evaluate(
        DenseRetriever(tiny_encoder, use_cache=False), [str(beir_folder)], show_progress=False
    )
    assert uncached.benchmarks[str(beir_folder)].metrics == pytest.approx(res1.metrics)


def test_run_files_rescore_to_the_reported_numbers(beir_folder: Path, tiny_encoder, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    results = evaluate(
        DenseRetriever(tiny_encoder, tmp_path / "emb"), str(beir_folder), run_dir=runs, show_progress=False
    )
    res = results.benchmarks[str(beir_folder)]
    run = read_run(res.run_file)
    bench = load_benchmark(str(beir_folder))
    assert aggregate(evaluate_run(bench.qrels, run, bench.meta.measures)) == pytest.approx(
        res.metrics, abs=1e-12
    )
    first_line = Path(res.run_file).read_text().splitlines()[0].split()
    assert first_line[1] == "Q0" and first_line[3] == "1" and first_line[5] == "model"


def test_bm25_on_user_folder_and_json(beir_folder: Path, tmp_path: Path) -> None:
    results = evaluate("bm25", str(beir_folder), show_progress=False)
    res = results.benchmarks[str(beir_folder)]
    assert res.metrics["RR@10"] == 1.0
    assert res.main_score == pytest.approx(1.0)  # every query shares words with its own document only
    out = tmp_path / "r.json"
    results.save(out)
    data = json.loads(out.read_text())
    assert data["model"]["type"] == "lexical" and "ir-measures" in data["environment"]["versions"]
    assert data["benchmarks"][str(beir_folder)]["meta"]["family"] == "beir"
    assert "| benchmark | main |" in results.to_markdown()


def test_per_language_table_on_built_in_benchmarks(tmp_path: Path) -> None:
    results = evaluate(
        "bm25", "bible-xref-en,bible-xref-ko,bible-bitext-ko", show_progress=False, benchmark_root=tmp_path
    )
    table = results.to_markdown()
    assert "| language | xref nDCG@10 | bitext→en Acc@1 |" in table
    assert "| ko |" in table and "| en |" in table
    assert results.benchmarks["bible-xref-ko"].meta["languages"] == ["ko"]
    saved = json.loads(json.dumps(results.to_dict()))  # what --output writes
    compared = comparison_markdown([saved, saved], labels=["a", "b"])
    assert "#### xref nDCG@10 (x100)" in compared and "| language | a | b |" in compared
    ko = results.benchmarks["bible-xref-ko"].main_score
    assert f"| ko | {100 * ko:.1f} | {100 * ko:.1f} |" in compared
    from babelir.cli import main

    (tmp_path / "saved.json").write_text(json.dumps(saved))
    (tmp_path / "list.json").write_text("[]")  # valid JSON, not results: one line, not a traceback
    assert main(["evaluate", "--compare", str(tmp_path / "saved.json"), str(tmp_path / "list.json")]) == 2


def test_pool_extras_by_language_and_hub_share() -> None:
    from babelir.evaluation.benchmarks.base import Benchmark, BenchmarkMeta
    from babelir.evaluation.scoring.runner import _pool_extras

    meta = BenchmarkMeta(
        name="p", family="bible-xref-pool", description="", languages=["en", "de"],
        main_metric="nAP@20", measures=["nAP@20"],
    )  # fmt: skip
    both = {"en:2": 1, "de:2": 1}
    bench = Benchmark(
        meta=meta, queries={"en:1": "a", "de:1": "b"}, corpus={"en:2": "x", "de:2": "y"},
        qrels={"en:1": both, "de:1": both}, query_lang="prefix", doc_lang="prefix", exclude_rule="same-item",
    )  # fmt: skip
    run = {"en:1": {"en:2": 1.0, "de:2": 0.5}, "de:1": {"en:2": 1.0}}
    extras = _pool_extras(bench, run, evaluate_run(bench.qrels, run, meta.measures))
    assert extras["by_query_language"]["de"] == {
        "nAP@20": 0.5,
        "own_language_share@10": 0.0,
        "own_language_share@20": 0.0,
        "other_language_recall@100": 1.0,  # de:1 found en:2, its one relevant document in another language
        "relevance_share": 0.5,
    }
    assert extras["by_query_language"]["en"]["other_language_recall@100"] == 1.0
    assert extras["own_language_share@20"] == 0.25 and extras["relevance_share"] == 0.5
    assert extras["document_language_share@20"] == {"de": pytest.approx(1 / 3), "en": pytest.approx(2 / 3)}
