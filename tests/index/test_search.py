"""``Index.search`` and ``babelir search``: faiss results equal exact search; filters; TREC output."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from babelir.cli import main
from babelir.data.trec import read_run
from babelir.index import AnnSettings, Hit, Index, build_index

from .helpers import row_ids


def _exact(index: Index, queries: list[str], k: int, language: str | None = None) -> list[list[str]]:
    emb = np.concatenate([np.load(p) for p in sorted((index.path / "shards").glob("*.npy"))])
    ids = row_ids(index)
    langs = [index.store.get([i])[i][3] for i in range(len(ids))]
    scores = index.encode_queries(queries) @ emb.T
    out = []
    for row in scores:
        order = [i for i in np.argsort(-row, kind="stable") if language is None or langs[i] == language]
        out.append([ids[i] for i in order[:k]])
    return out


def test_search_returns_hits_equal_to_exact_search(built_index: Path) -> None:
    index = Index.load(built_index)
    queries = ["a cat on a mat", "Die Aktienmärkte", "дождь завтра"]
    results = index.search(queries, k=5)
    assert [[h.id for h in hits] for hits in results] == _exact(index, queries, 5)
    hit = results[0][0]
    assert isinstance(hit, Hit) and hit.rank == 1 and hit.text and hit.language in {"en", "fr", "de", "ru"}
    assert all(a.score >= b.score for hits in results for a, b in zip(hits, hits[1:], strict=False))


def test_single_string_gives_one_list_and_k_is_capped(built_index: Path) -> None:
    index = Index.load(built_index)
    hits = index.search("violin", k=100)
    assert len(hits) == 25 and [h.rank for h in hits] == list(range(1, 26))
    assert index.search([], k=3) == []
    with pytest.raises(ValueError):
        index.search("x", k=0)


def test_language_filter(built_index: Path) -> None:
    index = Index.load(built_index)
    hits = index.search("violin", k=10, language="ru")
    assert len(hits) == 5 and {h.language for h in hits} == {"ru"}
    assert [h.id for h in hits] == _exact(index, ["violin"], 10, "ru")[0]
    assert index.search("violin", k=3, language="ja") == []  # a known code the index lacks: no hits
    assert index.search("violin", k=3, language="RU")[0].language == "ru"  # the one check normalises
    from babelir.data.errors import DataError

    with pytest.raises(DataError, match="unknown language code 'russian'"):
        index.search("violin", k=3, language="russian")
    assert index.languages() == {"de": 6, "en": 7, "fr": 7, "ru": 5}


def test_hnsw_equals_exact_on_small_corpus(tmp_path: Path, corpus_file: Path) -> None:
    out = tmp_path / "hnsw"
    build_index(
        "tiny", corpus_file, out, shard_size=10, settings=AnnSettings(index_type="hnsw", ef_search=64)
    )
    index = Index.load(out)
    queries = ["cat", "bridge closed", "Kinder"]
    assert [[h.id for h in hits] for hits in index.search(queries, k=5)] == _exact(index, queries, 5)
    assert {h.language for h in index.search("cat", k=10, language="fr")} == {"fr"}


def test_cli_search_writes_trec_run(tmp_path: Path, built_index: Path) -> None:
    queries = tmp_path / "queries.tsv"
    queries.write_text("q1\tthe cat sleeps\nq2\tLe pont est fermé\n", encoding="utf-8")
    run_file = tmp_path / "run.trec"
    assert (
        main(["search", str(built_index), "--queries", str(queries), "--k", "4", "--output", str(run_file)])
        == 0
    )
    run = read_run(run_file)
    assert set(run) == {"q1", "q2"} and all(len(docs) == 4 for docs in run.values())
    line = run_file.read_text().splitlines()[0].split()
    assert line[1] == "Q0" and line[3] == "1" and line[5] == "babelir"
    index = Index.load(built_index)
    assert sorted(run["q1"], key=lambda d: -run["q1"][d]) == [
        h.id for h in index.search("the cat sleeps", k=4)
    ]


def test_load_errors(tmp_path: Path) -> None:
    from babelir.utils.errors import IndexFileError

    with pytest.raises(IndexFileError, match="not a complete babelir index"):
        Index.load(tmp_path)
    assert main(["search", str(tmp_path), "--queries", "x.tsv", "--output", str(tmp_path / "r")]) == 2


def test_other_query_model_warns(tmp_path: Path, built_index: Path) -> None:
    from babelir.backbones import resolve_backbone

    other = tmp_path / "model"
    shutil.copytree(resolve_backbone("tiny"), other)
    config = other / "config_sentence_transformers.json"  # another query prompt: another model
    config.write_text(config.read_text(encoding="utf-8").replace("query: ", "question: "), encoding="utf-8")
    index = Index.load(built_index, model=str(other))
    with pytest.warns(UserWarning, match="differs from the model"):
        index.search("cat", k=1)


def test_an_injected_model_object_searches_like_the_indexs_own_encoder(built_index: Path) -> None:
    """``Index.load(model_obj=...)`` takes a loaded ``SentenceTransformer`` and puts it behind the one Encoder
    protocol, so its queries are encoded with the model's prompts like the index's own encoder's."""
    from babelir.encoding import ModelEncoder, load_model

    injected = Index.load(built_index, model_obj=load_model("tiny"))
    assert isinstance(injected.encoder, ModelEncoder)
    own = Index.load(built_index)
    queries = ["violin", "river bank"]
    assert np.allclose(injected.encode_queries(queries), own.encode_queries(queries), atol=1e-5)
    assert [h.id for h in injected.search("violin", k=5)] == [h.id for h in own.search("violin", k=5)]
