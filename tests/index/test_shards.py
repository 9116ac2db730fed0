"""Sharded encoding (every n-th document per shard), merging and sharded search equal one machine's index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from babelir.cli import main as cli
from babelir.data.errors import DataError
from babelir.index import build_index
from babelir.index.ann import AnnSettings
from babelir.index.merge import merge_shards
from babelir.index.search import Index
from babelir.index.shards import ShardedIndex, ShardSpec, shard_size_of
from babelir.utils.errors import IndexFileError

from .helpers import SENTENCES, row_ids

QUERIES = ["Where does the cat sleep?", "Fondovye rynki", "Die Brücke ist zu", "orchestre violon", "rain"]


@pytest.fixture(scope="module")
def two_shards(tmp_path_factory: pytest.TempPathFactory, corpus_file: Path) -> list[Path]:
    root = tmp_path_factory.mktemp("shards")
    # shard_size 4: each shard spans several .npy files, so merging crosses file boundaries
    folders = [root / f"s{i}" for i in range(2)]
    for i, folder in enumerate(folders):
        manifest = build_index("tiny", corpus_file, folder, shard_size=4, sharding=ShardSpec(i, 2))
        assert manifest["shard"] == {"id": i, "count": 2}
    return folders


def _all_embeddings(folder: Path) -> np.ndarray:
    return np.concatenate([np.load(p) for p in sorted((folder / "shards").glob("*.npy"))])


def test_shards_split_every_nth_document(two_shards, built_index):
    single = row_ids(Index.load(built_index))
    assert row_ids(Index.load(two_shards[0])) == single[0::2]
    assert row_ids(Index.load(two_shards[1])) == single[1::2]
    total = sum(len(v) for v in SENTENCES.values())
    assert [shard_size_of(total, ShardSpec(i, 3)) for i in range(3)] == [9, 8, 8]
    assert list(ShardSpec(1, 3).select(range(8))) == [1, 4, 7]
    with pytest.raises(ValueError, match="--shard-id"):
        ShardSpec(2, 2)


def test_merged_index_equals_single_machine_index(two_shards, built_index, tmp_path):
    merged = tmp_path / "merged"
    manifest = merge_shards(two_shards, merged, chunk_size=7)  # chunks that straddle shard rows unevenly
    single, combined = Index.load(built_index), Index.load(merged)
    assert row_ids(combined) == row_ids(single)  # same rows, same order
    assert manifest["corpus"]["sha256"] == single.manifest["corpus"]["sha256"]
    np.testing.assert_allclose(_all_embeddings(merged), _all_embeddings(built_index), atol=1e-5)
    for language in (None, "fr"):
        want = single.search(QUERIES, k=6, language=language)
        got = combined.search(QUERIES, k=6, language=language)
        assert [[h.id for h in hits] for hits in got] == [[h.id for h in hits] for hits in want]
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose([h.score for h in g], [h.score for h in w], atol=1e-5)


def test_merge_can_build_another_index_type(two_shards, tmp_path):
    manifest = merge_shards(two_shards, tmp_path / "hnsw", settings=AnnSettings(index_type="hnsw"))
    assert manifest["index"]["index_type"] == "hnsw"
    assert len(Index.load(tmp_path / "hnsw")) == sum(len(v) for v in SENTENCES.values())


def test_merge_builds_the_lexical_part_a_one_machine_build_builds(two_shards, corpus_file, tmp_path):
    merge_shards(two_shards, tmp_path / "merged", lexical=True)
    build_index("tiny", corpus_file, tmp_path / "one", shard_size=10, neutralization=False, lexical=True)
    merged, one = Index.load(tmp_path / "merged"), Index.load(tmp_path / "one")
    assert merged.manifest["lexical"]["documents"] == len(one)
    for fusion in ("convex@0.5", "rrf"):
        got, want = merged.search(QUERIES, k=8, fusion=fusion), one.search(QUERIES, k=8, fusion=fusion)
        assert [[h.id for h in hits] for hits in got] == [[h.id for h in hits] for hits in want]


def test_sharded_searcher_equals_single_machine_index(two_shards, built_index):
    single, sharded = Index.load(built_index), ShardedIndex.load(two_shards)
    assert len(sharded) == len(single)
    for language in (None, "de"):
        want = single.search(QUERIES, k=8, language=language)
        got = sharded.search(QUERIES, k=8, language=language)
        assert [[h.id for h in hits] for hits in got] == [[h.id for h in hits] for hits in want]
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose([h.score for h in g], [h.score for h in w], atol=1e-5)
            assert [h.rank for h in g] == list(range(1, len(g) + 1))


def test_merge_refuses_incomplete_or_mismatched_sets(two_shards, corpus_file, built_index, tmp_path):
    with pytest.raises(DataError, match=r"missing \[1\]"):
        merge_shards(two_shards[:1], tmp_path / "half")
    other = tmp_path / "of3"
    build_index("tiny", corpus_file, other, shard_size=4, sharding=ShardSpec(1, 3))
    with pytest.raises(DataError, match="shard of 3"):
        merge_shards([two_shards[0], other], tmp_path / "mixed")
    with pytest.raises(DataError, match="not a shard"):
        merge_shards([built_index], tmp_path / "x")
    with pytest.raises(IndexFileError, match="not a finished shard"):
        merge_shards([tmp_path / "missing"], tmp_path / "x")


def test_index_command_shards_and_merge(corpus_file, built_index, tmp_path, capsys):
    for i in range(2):
        shard = ["--shard-id", str(i), "--shard-count", "2", "--shard-size", "5"]
        assert cli(["index", "tiny", str(corpus_file), str(tmp_path / f"c{i}"), *shard]) == 0
    assert cli(["index", "merge", str(tmp_path / "c0"), str(tmp_path / "c1"), str(tmp_path / "out")]) == 0
    assert "25 documents" in capsys.readouterr().out
    assert row_ids(Index.load(tmp_path / "out")) == row_ids(Index.load(built_index))
    bad = ["index", "tiny", str(corpus_file), str(tmp_path / "bad"), "--shard-id", "2", "--shard-count", "2"]
    assert cli(bad) == 2
    assert cli(["index", "tiny", str(corpus_file), str(tmp_path / "bad"), "--shard-id", "0"]) == 2


def test_merge_fits_the_language_statistics_a_one_machine_build_fits(tmp_path):
    """A shard has no statistics of its own; the merge fits them over the merged rows, equal to one
    machine's, and says where the model to fit them is missing."""
    from babelir.encoding.neutral import NeutralSettings
    from babelir.index.layout import NEUTRAL_FILE
    from babelir.index.merge import MergeEncoding

    from .helpers import write_corpus

    corpus = write_corpus(tmp_path / "corpus.jsonl")
    settings = NeutralSettings(method="centered", query_sample=3, min_documents=2)
    single = build_index("tiny", corpus, tmp_path / "single", shard_size=4, neutralization=settings)
    assert single["neutralization"]["file"] == NEUTRAL_FILE
    shards = [tmp_path / f"s{i}" for i in range(2)]
    for i, folder in enumerate(shards):
        assert "neutralization" not in build_index("tiny", corpus, folder, shard_size=4, sharding=ShardSpec(i, 2))
    merged = merge_shards(shards, tmp_path / "merged", chunk_size=4, neutral=settings)
    assert merged["neutralization"]["languages"] == single["neutralization"]["languages"]
    a = np.load(tmp_path / "single" / NEUTRAL_FILE)
    b = np.load(tmp_path / "merged" / NEUTRAL_FILE)
    assert set(a.files) == set(b.files)
    for key in a.files:
        if a[key].dtype.kind == "f":
            np.testing.assert_allclose(a[key], b[key], atol=1e-5)
    want = Index.load(tmp_path / "single").search(QUERIES, k=6)
    got = Index.load(tmp_path / "merged").search(QUERIES, k=6)
    assert [[h.id for h in hits] for hits in got] == [[h.id for h in hits] for hits in want]
    said: list[str] = []
    without = merge_shards(shards, tmp_path / "elsewhere", chunk_size=4, neutral=settings, progress=said.append,
                           encoding=MergeEncoding(model=str(tmp_path / "no-such-model")))
    assert without["neutralization"]["file"] is None and "no-such-model" in without["neutralization"]["reason"]
    assert any("built without language neutralization" in line for line in said)
