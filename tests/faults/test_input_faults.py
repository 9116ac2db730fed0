"""Plain bad input that was exit 1 ("a bug in babelir") or exit 0, and the Python API's arguments.

Each case from issue "Lose nothing, part two": ``evaluate --benchmarks ''`` evaluated nothing and exited 0;
qrels naming documents missing from the corpus, or grading nothing above 0, reported capped or NaN scores
with exit 0; an empty queries file made an empty run; a hand-edited manifest count, ``--batch-size 0`` were
exit 1; an experiment's ``benchmarks:`` given as a string was split into characters. In Python,
``encode(model, "hello world")`` encoded each character, an unknown role was accepted, ``Index.search("")``
returned hits, a wrong vector width was a bare AssertionError and ``build_index(shard_size=0)`` blamed the
corpus. Now: exit 2 and one line on the command line, a ValueError/TypeError saying what to pass in Python.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from babelir.cli import main
from babelir.encoding import encode, load_model
from babelir.index import Index, build_index
from tests.faults.errors import one_error


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BABELIR_CACHE", str(tmp_path / "cache"))


def _beir(folder: Path, qrels: str) -> Path:
    (folder / "qrels").mkdir(parents=True)
    docs = {"d1": "the cat sleeps on the mat", "d2": "rain over the old town"}
    (folder / "corpus.jsonl").write_text("".join(json.dumps({"_id": d, "text": t}) + "\n" for d, t in docs.items()))
    (folder / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "where is the cat"}) + "\n")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + qrels)
    return folder


@pytest.mark.parametrize(
    ("qrels", "problem"),
    [
        ("q1\td1\t1\nq1\td9\t1\n", "1 judged documents are not in corpus.jsonl (first: 'd9'"),
        ("q1\td1\t0\nq1\td2\t0\n", "no relevant document in the test qrels"),
    ],
)
def test_qrels_that_cannot_be_scored_are_one_line(tmp_path: Path, capsys, qrels: str, problem: str) -> None:
    beir = _beir(tmp_path / "toy", qrels)
    assert main(["evaluate", "tiny", "--benchmarks", str(beir), "--no-progress"]) == 2
    line = one_error(capsys)
    assert str(beir / "qrels" / "test.tsv") in line and problem in line, line


def test_evaluate_with_no_benchmark_or_no_batch_is_bad_input(tmp_path: Path, capsys) -> None:
    assert main(["evaluate", "tiny", "--benchmarks", "", "--no-progress"]) == 2
    assert "no benchmark given" in one_error(capsys)
    beir = _beir(tmp_path / "toy", "q1\td1\t1\n")
    assert main(["evaluate", "tiny", "--benchmarks", str(beir), "--batch-size", "0", "--no-progress"]) == 2
    assert "batch size 0" in one_error(capsys)


def test_search_over_an_empty_queries_file_is_bad_input(tmp_path: Path, built_index: Path, capsys) -> None:
    queries = tmp_path / "q.tsv"
    queries.write_text("", encoding="utf-8")
    run = tmp_path / "run.trec"
    assert main(["search", str(built_index), "--queries", str(queries), "--output", str(run)]) == 2
    assert f"{queries}: holds no queries" in one_error(capsys)
    assert not run.exists()


@pytest.mark.parametrize("value", ['"ten"', "-3", "2.5"])
def test_a_hand_edited_manifest_count_names_the_manifest(tmp_path: Path, built_index: Path, capsys, value) -> None:
    index = shutil.copytree(built_index, tmp_path / "idx")
    manifest = index / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"documents": 25', f'"documents": {value}'))
    queries = tmp_path / "q.tsv"
    queries.write_text("q1\tviolin\n", encoding="utf-8")
    assert main(["search", str(index), "--queries", str(queries), "--output", str(tmp_path / "r.trec")]) == 2
    line = one_error(capsys)
    assert f"{manifest}: counts.documents is" in line and "babelir index" in line, line


def test_an_experiments_benchmarks_given_as_a_string_are_names_not_characters(tmp_path: Path) -> None:
    from babelir.experiments.spec import load_experiment

    path = tmp_path / "e.yaml"
    path.write_text("name: e\nevaluation:\n  benchmarks: bible-xref-en-dev, bible-xref-de-dev\n"
                    "conditions:\n  - {name: base, train: false}\n", encoding="utf-8")
    assert load_experiment(path).benchmarks == ["bible-xref-en-dev", "bible-xref-de-dev"]


def test_the_python_api_says_what_to_pass(tmp_path: Path, built_index: Path, corpus_file: Path) -> None:
    model = load_model("tiny")
    with pytest.raises(TypeError, match=r"texts must be a list of strings, not one str; pass \[text\]"):
        encode(model, "hello world")
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        encode(model, ["hello", 3])
    with pytest.raises(ValueError, match="role 'querry': pass 'query' or 'document'"):
        encode(model, ["hello"], role="querry")
    with pytest.raises(ValueError, match="batch_size 0"):
        encode(model, ["hello"], batch_size=0)
    index = Index.load(built_index)
    for blank in ("", "   ", ["violin", " "]):
        with pytest.raises(ValueError, match="is blank; pass text to search for"):
            index.search(blank)
    with pytest.raises(ValueError, match="k 0: pass an integer of at least 1"):
        index.search("violin", k=0)
    width = index.faiss.d
    with pytest.raises(ValueError, match=f"this index holds vectors of dimension {width}"):
        index.search_vectors(np.zeros((1, width + 1), dtype=np.float32))
    with pytest.raises(ValueError, match="shard_size 0: pass an integer of at least 1"):
        build_index("tiny", corpus_file, tmp_path / "idx", shard_size=0)
    assert not (tmp_path / "idx").exists()
