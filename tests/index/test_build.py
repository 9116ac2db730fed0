"""``build_index``: layout, manifest, no pickle, and resume after an interruption equal to a clean build."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import faiss
import numpy as np
import pytest

from babelir.cli import main
from babelir.data.errors import DataError
from babelir.index import AnnSettings, BuildInterrupted, Index, build_index
from babelir.index import build as build_module
from babelir.utils.errors import IndexFileError

from .helpers import documents, row_ids, write_corpus


def _shards(out: Path) -> np.ndarray:
    return np.concatenate([np.load(p, allow_pickle=False) for p in sorted((out / "shards").glob("*.npy"))])


def test_layout_and_manifest(built_index: Path) -> None:
    manifest = json.loads((built_index / "manifest.json").read_text())
    assert manifest["counts"] == {"documents": 25, "shards": 3, "dimension": manifest["counts"]["dimension"]}
    assert manifest["index"]["index_type"] == "flat"  # small corpus: exact search
    assert manifest["model"]["name"] == "tiny" and len(manifest["model"]["sha256"]) == 64
    assert len(manifest["corpus"]["sha256"]) == 64
    assert manifest["encoding"]["shard_size"] == 10
    assert {"faiss-cpu", "torch", "numpy"} <= set(manifest["versions"])
    emb = _shards(built_index)  # allow_pickle=False: plain arrays only
    assert emb.shape == (25, manifest["counts"]["dimension"]) and emb.dtype == np.float32
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    with sqlite3.connect(built_index / "docs.sqlite") as con:
        rows = con.execute("SELECT row, id, language FROM docs ORDER BY row").fetchall()
    assert [(r[1], r[2]) for r in rows] == [(d["_id"], d["language"]) for d in documents()]
    assert faiss.read_index(str(built_index / "index.faiss")).ntotal == 25
    assert not list(built_index.rglob("*.pkl")) and not list(built_index.rglob("*.pickle"))


def test_resume_after_interruption_equals_uninterrupted(
    tmp_path: Path, corpus_file: Path, built_index: Path
) -> None:
    out = tmp_path / "idx"
    with pytest.raises(BuildInterrupted):
        build_index("tiny", corpus_file, out, shard_size=10, stop_after_shards=1)
    assert not (out / "manifest.json").exists()
    assert sorted(p.name for p in (out / "shards").glob("*.npy")) == ["00000.npy"]
    with pytest.raises(IndexFileError, match="resume"):
        Index.load(out)

    logs: list[str] = []
    manifest = build_index("tiny", corpus_file, out, shard_size=10, progress=logs.append)
    assert any("resuming after 1 finished shards (10 documents)" in line for line in logs)
    assert sum("documents encoded" in line for line in logs) == 2  # only shards 1 and 2 were encoded

    reference = json.loads((built_index / "manifest.json").read_text())
    assert manifest["corpus"]["sha256"] == reference["corpus"]["sha256"]
    assert manifest["counts"] == reference["counts"]
    np.testing.assert_allclose(_shards(out), _shards(built_index), atol=1e-6)
    a, b = Index.load(out), Index.load(built_index)
    assert row_ids(a) == row_ids(b)
    queries = ["cat on a mat", "Regen im Norden", "скрипка"]
    assert [[h.id for h in hits] for hits in a.search(queries, k=5)] == [
        [h.id for h in hits] for hits in b.search(queries, k=5)
    ]


def test_crash_while_writing_a_shard_is_redone(
    tmp_path: Path, corpus_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "idx"
    real_add = build_module.DocWriter.add_shard
    calls = {"n": 0}

    def flaky(self, *args):  # the .npy of shard 1 is on disk, its ledger entry is not
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_add(self, *args)

    monkeypatch.setattr(build_module.DocWriter, "add_shard", flaky)
    with pytest.raises(KeyboardInterrupt):
        build_index("tiny", corpus_file, out, shard_size=10)
    monkeypatch.setattr(build_module.DocWriter, "add_shard", real_add)
    logs: list[str] = []
    manifest = build_index("tiny", corpus_file, out, shard_size=10, progress=logs.append)
    assert any("resuming after 1 finished shards" in line for line in logs)
    assert manifest["counts"]["documents"] == 25
    assert row_ids(Index.load(out)) == [d["_id"] for d in documents()]


def test_complete_index_is_not_rebuilt_and_index_type_change_reuses_shards(
    tmp_path: Path, corpus_file: Path
) -> None:
    out = tmp_path / "idx"
    build_index("tiny", corpus_file, out, shard_size=10)
    logs: list[str] = []
    build_index("tiny", corpus_file, out, shard_size=10, progress=logs.append)
    assert any("already complete" in line for line in logs)
    logs.clear()
    manifest = build_index(
        "tiny", corpus_file, out, shard_size=10, settings=AnnSettings(index_type="hnsw"), progress=logs.append
    )
    assert manifest["index"]["index_type"] == "hnsw"
    assert not any("documents encoded" in line for line in logs)  # no re-encoding
    assert isinstance(Index.load(out).faiss, faiss.IndexHNSW)


def test_changed_corpus_keeps_only_the_shards_whose_documents_are_unchanged(tmp_path: Path) -> None:
    docs = documents()[:12]
    corpus = write_corpus(tmp_path / "c.jsonl", docs)
    out = tmp_path / "idx"
    with pytest.raises(BuildInterrupted):
        build_index("tiny", corpus, out, shard_size=5, stop_after_shards=2)
    write_corpus(corpus, documents()[:13])  # documents appended: both finished shards still hold
    logs: list[str] = []
    assert build_index("tiny", corpus, out, shard_size=5, progress=logs.append)["counts"]["documents"] == 13
    assert any("resuming after 2 finished shards" in line for line in logs)
    assert sum("documents encoded" in line for line in logs) == 1

    out2 = tmp_path / "idx2"
    with pytest.raises(BuildInterrupted):
        build_index("tiny", corpus, out2, shard_size=5, stop_after_shards=2)
    edited = documents()[:13]
    edited[7] = {**edited[7], "text": "an edited sentence"}  # in shard 1: shard 0 is kept, 1 and 2 redone
    write_corpus(corpus, edited)
    logs.clear()
    build_index("tiny", corpus, out2, shard_size=5, progress=logs.append)
    assert any("resuming after 1 finished shards (5 documents)" in line for line in logs)
    assert sum("documents encoded" in line for line in logs) == 2
    assert Index.load(out2).store.get([7])[7][2] == "an edited sentence"
    reference = build_index("tiny", corpus, tmp_path / "fresh", shard_size=5)
    np.testing.assert_allclose(_shards(out2), _shards(tmp_path / "fresh"), atol=1e-6)
    assert Index.load(out2).manifest["corpus"]["sha256"] == reference["corpus"]["sha256"]


def test_another_model_refuses_resume_unless_overwrite(tmp_path: Path) -> None:
    import shutil

    from babelir.backbones import resolve_backbone

    corpus = write_corpus(tmp_path / "c.jsonl", documents()[:8])
    out = tmp_path / "idx"
    with pytest.raises(BuildInterrupted):
        build_index("tiny", corpus, out, shard_size=5, stop_after_shards=1)
    other = Path(shutil.copytree(resolve_backbone("tiny"), tmp_path / "other"))
    config = other / "config_sentence_transformers.json"  # another prompt: another model fingerprint
    config.write_text(config.read_text(encoding="utf-8").replace("query: ", "question: "), encoding="utf-8")
    with pytest.raises(IndexFileError, match="another model; pass --overwrite"):
        build_index(str(other), corpus, out, shard_size=5)
    assert build_index(str(other), corpus, out, shard_size=5, overwrite=True)["counts"]["documents"] == 8


def test_duplicate_ids_name_the_line(tmp_path: Path) -> None:
    docs = documents()[:4] + [{"_id": "en-1", "text": "again", "language": "en"}]
    corpus = write_corpus(tmp_path / "dup.jsonl", docs)
    with pytest.raises(DataError, match=r"dup\.jsonl:5: duplicate document id 'en-1'"):
        build_index("tiny", corpus, tmp_path / "idx", shard_size=3)


def test_ivfpq_needs_enough_vectors(tmp_path: Path, corpus_file: Path) -> None:
    with pytest.raises(ValueError, match="IVF-PQ needs at least"):
        build_index("tiny", corpus_file, tmp_path / "idx", settings=AnnSettings(index_type="ivfpq"))


def test_cli_index_and_error_exit(tmp_path: Path, corpus_file: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["index", "tiny", str(corpus_file), str(tmp_path / "idx"), "--shard-size", "20"]) == 0
    assert "25 documents, flat index" in capsys.readouterr().out
    assert main(["index", "tiny", str(tmp_path / "nope.jsonl"), str(tmp_path / "idx2")]) == 2
    assert "no such corpus" in capsys.readouterr().err


def test_a_late_interaction_model_is_indexed_by_its_pooled_vector_with_a_note(tmp_path: Path) -> None:
    import shutil

    from babelir.backbones import resolve_backbone

    model = Path(shutil.copytree(resolve_backbone("tiny"), tmp_path / "late"))
    (model / "babelir_training.json").write_text(json.dumps({"config": {"retriever": "late-interaction"}}))
    logs: list[str] = []
    corpus = write_corpus(tmp_path / "c.jsonl", documents()[:6])
    build_index(str(model), corpus, tmp_path / "idx", shard_size=5, progress=logs.append)
    assert any("late interaction" in line and "pooled vector" in line for line in logs)
    assert Index.load(tmp_path / "idx").manifest["counts"]["documents"] == 6
