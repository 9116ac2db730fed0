"""Language neutralization in an index folder: fitted by babelir index, used by search, off on request,
and absent from indexes built before it (tiny backbone, the shared four-language corpus)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from babelir.cli import main
from babelir.encoding.neutral import NeutralSettings
from babelir.index import Index, build_index
from tests.index.helpers import documents, write_corpus

SMALL = NeutralSettings(min_documents=5, query_sample=3)  # the corpus has 5 to 7 documents per language


@pytest.fixture(scope="module")
def neutral_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    corpus = write_corpus(tmp_path_factory.mktemp("corpus") / "c.jsonl")
    out = tmp_path_factory.mktemp("neutral") / "idx"
    build_index("tiny", corpus, out, shard_size=10, neutralization=SMALL)
    return out


def test_the_build_stores_statistics_and_a_neutral_index_beside_the_raw_one(neutral_index: Path) -> None:
    manifest = json.loads((neutral_index / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["neutralization"]
    assert entry["languages"] == {"de": 6, "en": 7, "fr": 7, "ru": 5} and entry["skipped"] == {}
    assert entry["settings"] == SMALL.to_dict()
    assert (neutral_index / "neutral.npz").is_file() and (neutral_index / "index.neutral.faiss").is_file()
    assert manifest["build_seconds"]["neutralization"] >= 0


def test_a_search_neutralizes_the_identified_query_and_searches_the_neutral_vectors(neutral_index: Path) -> None:
    index = Index.load(neutral_index)
    [result] = index.query(["Die Katze schläft auf der Matte"], k=25)
    assert result.language.language == "de" and result.language.source == "identified"
    assert result.language.neutralized
    # the same ranking by hand: neutralized query against every neutralized document
    query = index.encode_queries(["Die Katze schläft auf der Matte"])
    query, _ = index.neutralizer.apply(query, ["de"], "query")
    docs = index.neutral_faiss.reconstruct_n(0, len(index))
    expected = np.argsort(-(docs @ query[0]), kind="stable")
    assert [h.score for h in result.hits] == pytest.approx(sorted((docs @ query[0]).tolist(), reverse=True), abs=1e-5)
    ids = index.store.get(range(len(index)))
    assert {h.id for h in result.hits[:3]} == {ids[int(r)][0] for r in expected[:3]}


def test_a_given_query_language_wins_and_one_without_statistics_is_searched_as_it_is(neutral_index: Path) -> None:
    index, raw = Index.load(neutral_index), Index.load(neutral_index, neutralize=False)
    given = index.query(["Die Katze"], k=5, query_language="fr")[0]
    assert given.language.source == "given" and given.language.language == "fr" and given.language.neutralized
    unknown = index.query(["12345 67"], k=5)[0]
    assert not unknown.language.neutralized and "not identified" in unknown.language.note
    assert [h.id for h in unknown.hits] == [h.id for h in raw.search("12345 67", k=5)]
    no_stats = index.query(["Die Katze"], k=5, query_language="ko")[0]
    assert not no_stats.language.neutralized and "no language statistics for 'ko'" in no_stats.language.note
    assert [h.id for h in no_stats.hits] == [h.id for h in raw.search("Die Katze", k=5)]


def test_turned_off_the_index_searches_as_one_built_without_statistics(neutral_index: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    build_index("tiny", write_corpus(tmp_path / "c.jsonl"), plain, shard_size=10, neutralization=False)
    assert "neutral.npz" not in {p.name for p in plain.iterdir()}
    off, without = Index.load(neutral_index, neutralize=False), Index.load(plain)
    assert off.neutralizer is None and without.neutralizer is None
    queries = ["the cat sleeps", "Фондовые рынки"]
    assert [[(h.id, h.score) for h in hits] for hits in off.search(queries, k=8)] == [
        [(h.id, h.score) for h in hits] for hits in without.search(queries, k=8)
    ]
    assert without.query(queries, k=1)[0].language.source == "none"


def test_an_index_built_before_neutralization_still_loads_and_searches(neutral_index: Path, tmp_path: Path) -> None:
    import shutil

    old = tmp_path / "old"
    shutil.copytree(neutral_index, old)
    manifest = json.loads((old / "manifest.json").read_text(encoding="utf-8"))
    for key in ("neutralization", "languages"):  # what a manifest written before this change lacks
        manifest.pop(key)
    manifest["build_seconds"].pop("neutralization")
    (old / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (old / "neutral.npz").unlink()
    (old / "index.neutral.faiss").unlink()
    index = Index.load(old)
    assert index.neutralizer is None
    assert len(index.search("the cat", k=3)) == 3


def test_missing_statistics_are_one_line_that_offers_the_way_around(neutral_index: Path, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture) -> None:
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(neutral_index, broken)
    (broken / "neutral.npz").unlink()
    queries = tmp_path / "q.tsv"
    queries.write_text("q1\tthe cat\n", encoding="utf-8")
    command = ["search", str(broken), "--queries", str(queries), "--output", str(tmp_path / "run.trec")]
    assert main(command) != 0
    err = capsys.readouterr().err
    assert "neutral.npz" in err and "--no-neutralize" in err and "Traceback" not in err
    assert main([*command, "--no-neutralize"]) == 0


def test_changing_only_the_neutralization_rebuilds_from_the_shards(neutral_index: Path, tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl")
    out = tmp_path / "idx"
    build_index("tiny", corpus, out, shard_size=10, neutralization=SMALL)
    logs: list[str] = []
    build_index("tiny", corpus, out, shard_size=10, progress=logs.append,
                neutralization=NeutralSettings(method="lir:1", min_documents=5, query_sample=3))
    assert not any("documents encoded" in line for line in logs)  # no shard encoded again
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["neutralization"]["settings"]["method"] == "lir:1"
    logs.clear()
    build_index("tiny", corpus, out, shard_size=10, progress=logs.append, neutralization=False)
    assert "neutralization" not in json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert not (out / "neutral.npz").exists() and not (out / "index.neutral.faiss").exists()


def test_documents_without_a_language_are_identified_and_a_small_language_is_named(tmp_path: Path) -> None:
    docs = [{"_id": d["_id"], "text": d["text"]} for d in documents()]  # no language field at all
    corpus = write_corpus(tmp_path / "c.jsonl", docs)
    logs: list[str] = []
    build_index("tiny", corpus, tmp_path / "idx", shard_size=10, progress=logs.append,
                neutralization=NeutralSettings(min_documents=6, query_sample=3))
    index = Index.load(tmp_path / "idx")
    found = index.languages()
    # most sentences are identified (a few short ones fall below the confidence and stay unknown: "")
    assert found.get("en", 0) >= 6 and found.get("fr", 0) >= 6 and 4 <= found.get("ru", 0) <= 5
    assert sum(found.values()) == 25
    assert any("too few documents for language statistics" in line and f"ru ({found['ru']})" in line for line in logs)
    assert "ru" not in index.neutralizer.languages
    assert index.query(["Кошка спит"], k=3)[0].language.neutralized is False


def test_search_command_says_how_many_queries_were_neutralized(neutral_index: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture) -> None:
    queries = tmp_path / "q.tsv"
    queries.write_text("q1\tThe cat sleeps on the mat\nq2\t12345\n", encoding="utf-8")
    assert main(["search", str(neutral_index), "--queries", str(queries), "--output", str(tmp_path / "r.trec")]) == 0
    err = capsys.readouterr().err
    assert "language neutralization (centered): 1 of 2 queries; 1: language not identified" in err


def test_encode_removes_an_indexs_statistics_as_its_search_does(neutral_index: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture) -> None:
    texts = ["Die Katze schläft auf der Matte", "Le pont a été fermé", "12345"]
    (tmp_path / "t.tsv").write_text("".join(f"q{i}\t{t}\n" for i, t in enumerate(texts)), encoding="utf-8")
    command = ["encode", "tiny", str(tmp_path / "t.tsv"), "--output", str(tmp_path / "v.npy"), "--role", "query",
               "--neutral-statistics", str(neutral_index / "neutral.npz")]
    assert main(command) == 0
    assert "language statistics removed from 2 of 3" in capsys.readouterr().out
    index = Index.load(neutral_index)
    expected, _ = index.neutralizer.apply(index.encode_queries(texts), ["de", "fr", None], "query")
    assert np.allclose(np.load(tmp_path / "v.npy"), expected, atol=1e-5)


def test_a_language_filter_with_no_documents_and_a_large_k_gives_no_hits(neutral_index: Path) -> None:
    index = Index.load(neutral_index)
    results = index.query(["Die Katze", "12345"], k=500, language="ko")  # one neutralized, one not
    assert [r.hits for r in results] == [[], []]
    assert len(index.query(["Die Katze", "12345"], k=500)[0].hits) == len(index)


def test_an_index_built_before_identification_is_rebuilt_from_its_shards_not_refused(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl")
    out = tmp_path / "idx"
    build_index("tiny", corpus, out, shard_size=10, neutralization=False, identify_languages=False)
    logs: list[str] = []
    build_index("tiny", corpus, out, shard_size=10, neutralization=SMALL, progress=logs.append)
    assert any("built without language identification" in line for line in logs)
    assert not any("documents encoded" in line for line in logs)  # its shards were kept
    assert Index.load(out).neutralizer is not None


def test_neutralization_wraps_any_encoder_of_the_protocol(neutral_index: Path) -> None:
    from babelir.encoding import ModelEncoder
    from babelir.encoding.neutralized import NeutralizedEncoder

    index = Index.load(neutral_index)
    texts = ["Die Katze schläft auf der Matte", "Le pont a été fermé"]
    wrapped = NeutralizedEncoder(ModelEncoder.load("tiny"), index.neutralizer)
    vectors, changed = wrapped.encode_with_mask(texts, "query")
    expected, _ = index.neutralizer.apply(index.encode_queries(texts), ["de", "fr"], "query")
    assert changed.tolist() == [True, True] and np.allclose(vectors, expected, atol=1e-5)
    german = NeutralizedEncoder(ModelEncoder.load("tiny"), index.neutralizer, language="de")
    assert german.languages_of(texts) == ["de", "de"]
    assert german.fingerprint() != wrapped.fingerprint() != ModelEncoder.load("tiny").fingerprint()
