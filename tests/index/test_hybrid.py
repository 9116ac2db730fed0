"""Hybrid search over an index built with --lexical: the BM25 part, fusion in Index.search, and the claim
evaluate makes about it (--scoring hybrid:... ranks as babelir index --lexical + search do)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from babelir.index import Index, build_index
from babelir.index.layout import FUSION_FILE
from babelir.utils.errors import IndexFileError
from tests.index.helpers import SENTENCES, write_corpus


@pytest.fixture(scope="module")
def hybrid_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("hybrid")
    out = tmp / "idx"
    build_index("tiny", write_corpus(tmp / "corpus.jsonl"), out, neutralization=False, lexical=True)
    return out


def test_the_lexical_part_is_built_and_described(hybrid_index: Path) -> None:
    manifest = json.loads((hybrid_index / "manifest.json").read_text())
    entry = manifest["lexical"]
    assert entry["documents"] == sum(map(len, SENTENCES.values()))
    assert entry["k1"] == 1.2 and entry["b"] == 0.75 and entry["bytes"] > 0
    assert "lexical" in manifest["build_seconds"]
    index = Index.load(hybrid_index)
    from babelir.retrieval.fusion import SHIPPED_FUSION

    assert index.has_lexical and index.fusion == SHIPPED_FUSION  # no fusion.json: the shipped fusion
    assert index.query(["Geige"], k=2)[0].fusion == "convex@0.5:slots"
    assert index.query(["Geige"], k=2, fusion=None)[0].fusion == ""


def test_bm25_alone_finds_the_exact_words_and_the_language_filter_holds(hybrid_index: Path) -> None:
    index = Index.load(hybrid_index)
    [result] = index.query(["Geige Orchester"], k=3, fusion="convex@1")
    assert result.fusion == "convex@1"
    assert result.hits[0].id == "de-3"  # the random tiny model cannot, BM25 can
    # stemmed with the query's language: "Kinder lernen" matches "Kinder lernen Sprachen"
    assert index.search("Kinder lernen", k=1, fusion="convex@1", language="de")[0].id == "de-5"
    filtered = index.search("Geige Orchester", k=5, fusion="convex@0.5", language="fr")
    assert filtered and {hit.language for hit in filtered} == {"fr"}


def test_weight_zero_is_dense_alone(hybrid_index: Path) -> None:
    index = Index.load(hybrid_index)
    dense = index.search("Le pont est fermé", k=5, fusion=None)
    fused = index.search("Le pont est fermé", k=5, fusion="convex@0")
    assert [h.id for h in fused] == [h.id for h in dense]


def test_fusion_json_sets_the_default_and_a_damaged_one_is_named(hybrid_index: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "idx"
    shutil.copytree(hybrid_index, copy)
    (copy / FUSION_FILE).write_text(json.dumps({"spec": "convex@1"}), encoding="utf-8")
    index = Index.load(copy)
    assert index.fusion is not None and index.fusion.spec == "convex@1"
    assert index.query(["Geige Orchester"], k=1)[0].fusion == "convex@1"
    (copy / FUSION_FILE).write_text("{", encoding="utf-8")
    with pytest.raises(IndexFileError, match=FUSION_FILE):
        Index.load(copy)


def test_an_index_without_a_lexical_part_refuses_fusion_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "dense"
    build_index("tiny", write_corpus(tmp_path / "c.jsonl"), out, neutralization=False)
    index = Index.load(out)
    assert not index.has_lexical
    with pytest.raises(IndexFileError, match="--lexical"):
        index.search("x", fusion="rrf")
    # adding --lexical later reuses the shards: nothing is encoded again
    lines: list[str] = []
    build_index("tiny", tmp_path / "c.jsonl", out, neutralization=False, lexical=True, progress=lines.append)
    assert not any("encoded" in line for line in lines) and Index.load(out).has_lexical


@pytest.mark.parametrize("fusion", ["convex@0.4", "rrf@60", "convex@0.7:slots"])
def test_evaluate_hybrid_ranks_as_index_and_search_do(hybrid_index: Path, tmp_path: Path, fusion: str) -> None:
    from babelir.evaluation.benchmarks.base import Benchmark
    from babelir.evaluation.benchmarks.pool import pool_meta
    from babelir.evaluation.retrieval.loading import load_retriever

    corpus = {f"{lang}-{i}": text for lang, texts in SENTENCES.items() for i, text in enumerate(texts)}
    queries = {"de:q": "Die Katze schläft", "en:q": "markets fell on Monday", "fr:q": "le violon de l'orchestre"}
    qrels = {q: {f"{lang}-0": 1 for lang in SENTENCES} for q in queries}
    bench = Benchmark(pool_meta("toy-pool", list(SENTENCES), "toy"), queries, corpus, qrels,
                      query_lang="prefix", doc_lang=None, exclude_rule="none")
    bench.doc_language = lambda doc_id: doc_id.split("-")[0]  # type: ignore[method-assign]
    retriever = load_retriever("tiny", cache_root=tmp_path / "cache", scoring=f"hybrid:{fusion}")
    assert retriever.describe()["fusion"]["spec"] == fusion
    run, _ = retriever.search(bench, k=10, batch_size=8, show_progress=False)
    index = Index.load(hybrid_index)
    for qid, text in queries.items():
        [result] = index.query([text], k=10, query_language=qid.split(":")[0], fusion=fusion)
        expected = sorted(run[qid].items(), key=lambda t: -t[1])
        assert [h.id for h in result.hits] == [d for d, _ in expected]
        assert [h.score for h in result.hits] == pytest.approx([s for _, s in expected], abs=1e-4)


def test_the_server_fuses_when_asked_and_refuses_what_it_cannot(hybrid_index: Path, built_index: Path) -> None:
    from fastapi.testclient import TestClient

    from babelir.serve import create_app

    with TestClient(create_app(Index.load(hybrid_index))) as client:
        assert client.get("/health").json()["lexical"] is True
        body = client.post("/search", json={"query": "Geige Orchester", "k": 3, "fusion": "convex@1"}).json()
        [result] = body["results"]
        assert result["fusion"] == "convex@1" and result["hits"][0]["id"] == "de-3"
        expected = Index.load(hybrid_index).search("Geige Orchester", k=3, fusion="convex@1")
        assert [h["id"] for h in result["hits"]] == [h.id for h in expected]
        assert client.post("/search", json={"query": "x", "fusion": "none"}).json()["results"][0]["fusion"] == ""
        bad = client.post("/search", json={"query": "x", "fusion": "convex@7"})
        assert bad.status_code == 422 and "fusion" in bad.json()["detail"]
    with TestClient(create_app(Index.load(built_index))) as client:
        refused = client.post("/search", json={"query": "x", "fusion": "rrf"})
        assert refused.status_code == 422 and "--lexical" in refused.json()["detail"]


def test_search_command_fuses_and_says_so(hybrid_index: Path, tmp_path: Path, capsys) -> None:
    from babelir.cli import main

    queries = tmp_path / "q.tsv"
    queries.write_text("q1\tGeige Orchester\n", encoding="utf-8")
    assert main(["search", str(hybrid_index), "--queries", str(queries), "--output", str(tmp_path / "r.run"),
                 "--fusion", "convex@1", "--k", "3"]) == 0
    assert "fused with BM25 (convex@1)" in capsys.readouterr().err
    assert (tmp_path / "r.run").read_text().split("\n")[0].split()[2] == "de-3"
    assert main(["search", str(hybrid_index), "--queries", str(queries), "--output", str(tmp_path / "r.run"),
                 "--fusion", "sum@1"]) == 2
    assert "--fusion sum@1" in capsys.readouterr().err


@pytest.fixture(scope="module")
def neutral_hybrid_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from babelir.encoding.neutral import NeutralSettings

    tmp = tmp_path_factory.mktemp("neutral-hybrid")
    out = tmp / "idx"
    build_index("tiny", write_corpus(tmp / "corpus.jsonl"), out, lexical=True,
                neutralization=NeutralSettings(min_documents=5, query_sample=3))
    return out


@pytest.mark.parametrize(("which", "k", "query_language"), [
    ("plain", 5, None), ("plain", 10, None), ("neutral", 10, None), ("neutral", 10, "de"), ("neutral", 200, None),
])
def test_a_grid_of_fusions_ranks_as_searching_each_does(request: pytest.FixtureRequest, which: str, k: int,
                                                        query_language: str | None) -> None:
    """tune-fusion's shortcut (the candidates once, then each fusion) gives what search gives per fusion,
    with and without neutralization, a given query language, and k beyond the corpus."""
    import dataclasses

    from babelir.index.hybrid import search_each_fusion
    from babelir.retrieval.fusion import FusionSettings

    index = Index.load(request.getfixturevalue("hybrid_index" if which == "plain" else "neutral_hybrid_index"))
    assert (which == "neutral") == (index.neutralizer is not None)
    texts = ["Die Katze schläft", "markets fell on Monday", "le violon de l'orchestre"]
    vectors = index.encode_queries(texts, 8)
    shallow = dataclasses.replace(FusionSettings.parse("convex@0.3"), depth=7)  # a depth of its own
    fusions = [None, FusionSettings.parse("convex@0.5:slots"), FusionSettings.parse("rrf@60"), shallow]
    grid = list(search_each_fusion(index, texts, vectors, k, fusions, query_language=query_language))
    assert [spec for spec, _ in grid] == ["none", "convex@0.5:slots", "rrf@60", shallow.spec]
    for settings, (_, got) in zip(fusions, grid, strict=True):
        expected = index.search_encoded(texts, vectors, k, query_language=query_language, fusion=settings)
        assert [[(h.id, h.score) for h in r.hits] for r in got] == [[(h.id, h.score) for h in r.hits] for r in expected]
        assert [(r.fusion, r.language) for r in got] == [(r.fusion, r.language) for r in expected]


def test_a_grid_refuses_one_spec_at_two_depths_and_answers_no_queries(hybrid_index: Path) -> None:
    import dataclasses

    import numpy as np

    from babelir.index.hybrid import search_each_fusion
    from babelir.retrieval.fusion import FusionSettings

    index = Index.load(hybrid_index)
    convex = FusionSettings.parse("convex@0.3")
    with pytest.raises(ValueError, match="two depths"):
        list(search_each_fusion(index, ["x"], index.encode_queries(["x"], 8), 10,
                                [convex, dataclasses.replace(convex, depth=5)]))
    empty = np.zeros((0, 64), dtype=np.float32)  # never searched
    assert list(search_each_fusion(index, [], empty, 10, [None, convex])) == [("none", []), ("convex@0.3", [])]


def test_tune_fusion_chooses_on_some_queries_checks_on_others_and_writes_the_choice(hybrid_index: Path,
                                                                                   tmp_path: Path) -> None:
    import shutil

    from babelir.cli import main
    from babelir.experiments.tune_fusion import split_queries, tune

    copy = tmp_path / "idx"
    shutil.copytree(hybrid_index, copy)
    # each query repeats a document's words: BM25 finds them, the random tiny model does not
    queries = {f"q{lang}{i}": " ".join(text.split()[-2:]) for lang, texts in SENTENCES.items()
               for i, text in enumerate(texts)}
    qrels = {f"q{lang}{i}": {f"{lang}-{i}": 1} for lang, texts in SENTENCES.items() for i in range(len(texts))}
    choose, check = split_queries(list(queries), 0.5)
    assert choose and len(check) >= 10 and not set(choose) & set(check)
    tuning = tune(Index.load(copy), queries, qrels, "nDCG@10")
    assert tuning.best != "none" and tuning.means[tuning.best] > tuning.means["none"]
    assert tuning.difference is not None and tuning.difference[0] > 0 and tuning.chosen == tuning.best
    (tmp_path / "q.tsv").write_text("".join(f"{q}\t{t}\n" for q, t in queries.items()), encoding="utf-8")
    (tmp_path / "qrels.tsv").write_text("".join(f"{q}\t0\t{d}\t1\n" for q, r in qrels.items() for d in r),
                                        encoding="utf-8")
    assert main(["tune-fusion", str(copy), "--queries", str(tmp_path / "q.tsv"), "--qrels",
                 str(tmp_path / "qrels.tsv")]) == 0
    written = json.loads((copy / FUSION_FILE).read_text())
    assert written["spec"] == tuning.chosen and written["check"]["difference"][0] > 0
    assert Index.load(copy).fusion.spec == tuning.chosen
    # a fusion that measured worse than dense alone is never written as the default
    worse = dataclasses_replace(tuning, difference=(-0.1, -0.2, 0.0))
    assert worse.chosen == "none"
    assert main(["tune-fusion", str(copy), "--set", "none"]) == 0 and Index.load(copy).fusion is None


def dataclasses_replace(obj, **changes):
    import dataclasses

    return dataclasses.replace(obj, **changes)


def test_an_interrupted_lexical_build_resumes_from_its_shards(tmp_path: Path) -> None:
    from babelir.index.build import BuildInterrupted

    corpus = write_corpus(tmp_path / "c.jsonl")
    with pytest.raises(BuildInterrupted):
        build_index("tiny", corpus, tmp_path / "idx", shard_size=10, neutralization=False, lexical=True,
                    stop_after_shards=1)
    assert not (tmp_path / "idx" / "lexical").exists()  # built after the last shard
    lines: list[str] = []
    build_index("tiny", corpus, tmp_path / "idx", shard_size=10, neutralization=False, lexical=True,
                progress=lines.append)
    assert any("resuming after 1 finished shards" in line for line in lines)
    assert Index.load(tmp_path / "idx").manifest["lexical"]["documents"] == sum(map(len, SENTENCES.values()))
