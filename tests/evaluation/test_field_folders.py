"""The field's benchmarks as users bring them (docs/field-benchmarks.md): small folders of each layout,
evaluated end to end, with the sidecar's languages, split and main metric honoured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from babelir.data.errors import DataError
from babelir.evaluation.benchmarks import load_benchmark
from babelir.evaluation.scoring.runner import evaluate


def beir_folder(folder: Path, corpus: dict[str, str], queries: dict[str, str], qrels: dict[str, list[str]],
                split: str = "test", sidecar: dict | None = None) -> Path:
    (folder / "qrels").mkdir(parents=True)
    with open(folder / "corpus.jsonl", "w", encoding="utf-8") as f:
        for doc_id, text in corpus.items():
            f.write(json.dumps({"_id": doc_id, "title": "", "text": text}, ensure_ascii=False) + "\n")
    with open(folder / "queries.jsonl", "w", encoding="utf-8") as f:
        for qid, text in queries.items():
            f.write(json.dumps({"_id": qid, "text": text}, ensure_ascii=False) + "\n")
    lines = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t1" for q, docs in qrels.items() for d in docs]
    (folder / "qrels" / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if sidecar is not None:
        (folder / "babelir.json").write_text(json.dumps(sidecar), encoding="utf-8")
    return folder


SW_DOCS = {"d1": "Mto Nile ni mto mrefu zaidi barani Afrika.", "d2": "Mlima Kilimanjaro uko Tanzania.",
           "d3": "Simba ni mnyama wa porini.", "d4": "Chai hulimwa katika nyanda za juu."}
SW_QUERIES = {"q1": "Mto mrefu zaidi Afrika ni upi?", "q2": "Kilimanjaro iko wapi?"}


def test_a_miracl_style_folder_is_scored_on_its_dev_split_with_its_language(tmp_path: Path) -> None:
    folder = beir_folder(tmp_path / "miracl-sw", SW_DOCS, SW_QUERIES, {"q1": ["d1"], "q2": ["d2"]}, split="dev",
                         sidecar={"query_language": "sw", "doc_language": "sw"})
    bench = load_benchmark(f"{folder}#dev")
    assert bench.meta.languages == ["sw"] and bench.query_language("q1") == "sw" and bench.meta.split == "dev"
    for scoring in ("dense", "centered"):
        results = evaluate("tiny", f"{folder}#dev", scoring=scoring, show_progress=False, device="cpu")
        assert 0.0 <= results.benchmarks[f"{folder}#dev"].main_score <= 1.0


def test_an_xor_tydi_style_folder_crosses_languages_and_names_what_it_cannot_correct(tmp_path: Path) -> None:
    docs = {"e1": "The Nile is the longest river in Africa.", "e2": "Kilimanjaro is in Tanzania."}
    folder = beir_folder(tmp_path / "xor-te", docs, {"q1": "ఆఫ్రికాలో పొడవైన నది ఏది?"}, {"q1": ["e1"]},
                         sidecar={"query_language": "te", "doc_language": "en"})
    bench = load_benchmark(str(folder))
    assert bench.query_language("q1") == "te" and bench.doc_language("e1") == "en"
    assert evaluate("tiny", str(folder), show_progress=False, device="cpu").benchmarks[str(folder)].main_score >= 0
    with pytest.raises(DataError, match="no reference sentences for language 'te'"):
        evaluate("tiny", str(folder), scoring="centered", show_progress=False, device="cpu")


def test_a_lareqa_style_pool_uses_prefixed_languages_and_its_main_metric(tmp_path: Path) -> None:
    corpus = {"en:1": "The river is long.", "de:1": "Der Fluss ist lang.", "en:2": "The mountain is high.",
              "de:2": "Der Berg ist hoch."}
    queries = {"en:1": "Which river is long?", "de:2": "Welcher Berg ist hoch?"}
    qrels = {"en:1": ["en:1", "de:1"], "de:2": ["en:2", "de:2"]}
    folder = beir_folder(tmp_path / "xquad-r", corpus, queries, qrels,
                         sidecar={"query_language": "prefix", "doc_language": "prefix", "exclude": "none",
                                  "main_metric": "mAP@20"})
    bench = load_benchmark(str(folder))
    assert bench.meta.main_metric == "AP@20" and bench.doc_language("de:2") == "de"
    result = evaluate("tiny", str(folder), scoring="lir:1", show_progress=False, device="cpu").benchmarks[str(folder)]
    assert result.main_metric == "AP@20" and 0.0 <= result.main_score <= 1.0


def test_an_unknown_main_metric_is_one_line_naming_the_sidecar(tmp_path: Path) -> None:
    folder = beir_folder(tmp_path / "x", SW_DOCS, SW_QUERIES, {"q1": ["d1"]}, sidecar={"main_metric": "BLEU"})
    with pytest.raises(DataError, match=r"babelir\.json: main_metric 'BLEU' is not one babelir reports"):
        load_benchmark(str(folder))
