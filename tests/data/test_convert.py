"""babelir convert: a dataset ir_datasets reads (here registered from local files, as users register
theirs; the hub's own need downloads) becomes a BEIR folder that babelir evaluates, with its languages."""

from __future__ import annotations

import json

import pytest

from babelir.cli import main
from babelir.data.convert import convert, languages_of, split_of

DOCS = [("d1", "Mto unapita karibu na kinu cha zamani."), ("d2", "Paka analala juani."),
        ("d3", "Daraja limefungwa kwa ajili ya matengenezo.")]
QUERIES = [("q1", "Mto uko wapi?"), ("q2", "Paka analala wapi?")]
QRELS = [("q1", "d1", 1), ("q2", "d2", 1), ("q2", "d3", 0)]


@pytest.fixture(scope="module")
def local_dataset(tmp_path_factory: pytest.TempPathFactory) -> str:
    """``babelir-test/sw/dev``: three local files registered with ir_datasets' own formats."""
    ir_datasets = pytest.importorskip("ir_datasets")
    from ir_datasets.datasets.base import Dataset
    from ir_datasets.formats import TrecQrels, TsvDocs, TsvQueries
    from ir_datasets.util import LocalDownload

    root = tmp_path_factory.mktemp("ird")
    (root / "docs.tsv").write_text("".join(f"{i}\t{t}\n" for i, t in DOCS), encoding="utf-8")
    (root / "queries.tsv").write_text("".join(f"{i}\t{t}\n" for i, t in QUERIES), encoding="utf-8")
    (root / "qrels").write_text("".join(f"{q} 0 {d} {r}\n" for q, d, r in QRELS), encoding="utf-8")
    name = "babelir-test/sw/dev"
    if name not in ir_datasets.registry:
        ir_datasets.registry.register(name, Dataset(
            TsvDocs(LocalDownload(root / "docs.tsv")), TsvQueries(LocalDownload(root / "queries.tsv")),
            TrecQrels(LocalDownload(root / "qrels"), {0: "not relevant", 1: "relevant"})))
    return name


def test_a_local_ir_datasets_dataset_becomes_a_beir_folder_babelir_evaluates(local_dataset, tmp_path, capsys):
    out = tmp_path / "sw"
    assert main(["convert", local_dataset, str(out), "--query-language", "sw", "--doc-language", "sw"]) == 0
    printed = capsys.readouterr().out
    assert "3 documents, 2 queries, 3 judgements" in printed and f"{out}#dev" in printed
    sidecar = json.loads((out / "babelir.json").read_text(encoding="utf-8"))
    assert (sidecar["query_language"], sidecar["doc_language"]) == ("sw", "sw")
    assert (out / "qrels" / "dev.tsv").read_text().splitlines()[1] == "q1\td1\t1"
    assert json.loads((out / "corpus.jsonl").read_text().splitlines()[0]) == {"_id": "d1", "title": "", "text": DOCS[0][1]}
    from babelir.evaluation.benchmarks import load_benchmark

    bench = load_benchmark(f"{out}#dev")
    assert bench.meta.languages == ["sw"] and bench.query_language("q1") == "sw" and len(bench.qrels) == 2
    assert main(["evaluate", "tiny", "--benchmarks", f"{out}#dev", "--no-progress"]) == 0
    assert "nDCG@10" in capsys.readouterr().out
    assert convert(local_dataset, out)["counts"]["documents"] == 3  # its own folder: replaced
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("a user's file")
    assert main(["convert", local_dataset, str(mine)]) == 2  # never into a folder babelir did not write
    assert (mine / "notes.txt").read_text() == "a user's file"


def test_languages_and_splits_come_from_the_fields_ids():
    assert languages_of("miracl/sw/dev") == ("sw", "sw") and languages_of("mr-tydi/ko/test") == ("ko", "ko")
    assert languages_of("neuclir/1/fa/trec-2022") == ("en", "fa") and languages_of("hc4/ru/test") == ("en", "ru")
    assert languages_of("msmarco-passage/dev") == (None, None)
    assert split_of("miracl/sw/dev") == "dev" and split_of("neuclir/1/fa/trec-2022") == "test"


def test_an_unknown_id_is_one_line(tmp_path, capsys):
    pytest.importorskip("ir_datasets")
    assert main(["convert", "no-such/dataset", str(tmp_path / "x")]) == 2
    assert "ir_datasets knows no dataset 'no-such/dataset'" in capsys.readouterr().err
