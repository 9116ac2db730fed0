"""Index folders are safe to write: --overwrite replaces only babelir's folders and only once the new one
is built, a failed first build leaves nothing that blocks the corrected rerun, one build per OUT at a
time, and damaged shards are encoded again rather than read."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from filelock import FileLock

from babelir.cli import main
from babelir.index import BuildInterrupted, Index, build_index
from babelir.index.folders import lock_path
from babelir.index.merge import merge_shards
from babelir.index.shards import ShardSpec
from babelir.utils.errors import IndexFileError, OutputError

from .helpers import documents, row_ids, write_corpus


def _leftovers(parent: Path) -> list[str]:
    """Temporary siblings (staging, trash, temp files) that a finished command must not leave."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock"))


def _bad_corpus(path: Path, bad_at: int) -> list[dict[str, str]]:
    docs = documents()
    write_corpus(path, docs)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[bad_at] = '{"_id": "broken", "text": '  # cut-off JSON line
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return docs


def test_overwrite_never_removes_a_folder_babelir_did_not_write(tmp_path: Path, corpus_file: Path) -> None:
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.tex").write_text("years of work", encoding="utf-8")
    for overwrite in (False, True):
        with pytest.raises(OutputError, match="holds files that babelir did not write") as err:
            build_index("tiny", corpus_file, thesis, overwrite=overwrite)
        assert err.value.path == str(thesis)
    with pytest.raises(OutputError, match="choose a new or empty OUT"):
        _merge_into(thesis)
    assert sorted(p.name for p in thesis.iterdir()) == ["chapter1.tex"]
    assert (thesis / "chapter1.tex").read_text(encoding="utf-8") == "years of work"
    empty = tmp_path / "empty"
    empty.mkdir()  # nothing to lose: an empty folder may be used
    assert build_index("tiny", corpus_file, empty, shard_size=20, overwrite=True)["counts"]["documents"] == 25


def _merge_into(out: Path) -> None:
    """A merge of two fresh shards into ``out`` with --overwrite (shards built beside ``out``)."""
    corpus = write_corpus(out.parent / "m.jsonl", documents()[:6])
    shards = [out.parent / f"m{i}" for i in range(2)]
    for i, folder in enumerate(shards):
        if not (folder / "manifest.json").exists():
            build_index("tiny", corpus, folder, shard_size=5, sharding=ShardSpec(i, 2))
    merge_shards(shards, out, overwrite=True)


def test_a_failed_overwrite_keeps_the_old_index_and_a_good_one_replaces_it(
    tmp_path: Path, corpus_file: Path, built_index: Path
) -> None:
    out = tmp_path / "idx"
    shutil.copytree(built_index, out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    bad = tmp_path / "bad.jsonl"
    _bad_corpus(bad, 3)
    with pytest.raises(Exception, match=r"bad\.jsonl:4"):
        build_index("tiny", bad, out, shard_size=10, overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert _leftovers(tmp_path) == []
    small = write_corpus(tmp_path / "small.jsonl", documents()[:7])
    assert build_index("tiny", small, out, shard_size=10, overwrite=True)["counts"]["documents"] == 7
    assert len(Index.load(out)) == 7 and _leftovers(tmp_path) == []


def test_merge_overwrite_builds_beside_and_keeps_the_old_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "merged"
    _merge_into(out)
    before = (out / "manifest.json").read_bytes()
    damaged = tmp_path / "m1" / "shards" / "00000.npy"
    damaged.write_bytes(damaged.read_bytes()[:-8])
    with pytest.raises(IndexFileError, match="00000.npy: truncated") as err:
        merge_shards([tmp_path / "m0", tmp_path / "m1"], out, overwrite=True)
    assert "re-run this shard's 'babelir index' command" in str(err.value)
    assert (out / "manifest.json").read_bytes() == before and len(Index.load(out)) == 6
    assert _leftovers(tmp_path) == []
    build_index("tiny", tmp_path / "m.jsonl", tmp_path / "m1", shard_size=5, sharding=ShardSpec(1, 2))  # repairs
    merge_shards([tmp_path / "m0", tmp_path / "m1"], out, overwrite=True)
    assert len(Index.load(out)) == 6


def test_failed_first_run_then_the_corrected_rerun_succeeds(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    corpus, out = tmp_path / "c.jsonl", tmp_path / "idx"
    docs = _bad_corpus(corpus, 4)
    command = ["index", "tiny", str(corpus), str(out), "--shard-size", "10"]
    assert main(command) == 2
    assert "c.jsonl:5" in capsys.readouterr().err
    assert not out.exists()  # nothing finished: nothing left behind
    write_corpus(corpus, docs)
    assert main(command) == 0
    assert row_ids(Index.load(out)) == [d["_id"] for d in docs]


def test_a_bad_line_after_finished_shards_resumes_once_fixed(tmp_path: Path) -> None:
    corpus, out = tmp_path / "c.jsonl", tmp_path / "idx"
    docs = _bad_corpus(corpus, 22)  # shards 0 and 1 (of 10) are finished when line 23 fails
    with pytest.raises(Exception, match=r"c\.jsonl:23"):
        build_index("tiny", corpus, out, shard_size=10)
    write_corpus(corpus, docs)
    logs: list[str] = []
    build_index("tiny", corpus, out, shard_size=10, progress=logs.append)
    assert any("resuming after 2 finished shards (20 documents)" in line for line in logs)
    assert row_ids(Index.load(out)) == [d["_id"] for d in docs]


def test_a_second_build_of_one_folder_stops_at_once(
    tmp_path: Path, corpus_file: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "idx"
    with FileLock(lock_path(out)):  # as a running build holds it (another process in real life)
        with pytest.raises(IndexFileError, match="another babelir index is building") as err:
            build_index("tiny", corpus_file, out)
        assert str(lock_path(out)) in str(err.value)
        assert main(["index", "tiny", str(corpus_file), str(out)]) == 2
        assert "wait for it or choose another OUT" in capsys.readouterr().err
    assert not out.exists()
    assert build_index("tiny", corpus_file, out, shard_size=20)["counts"]["documents"] == 25


def test_damaged_shards_are_encoded_again_not_read(
    tmp_path: Path, corpus_file: Path, built_index: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "idx"
    with pytest.raises(BuildInterrupted):
        build_index("tiny", corpus_file, out, shard_size=10, stop_after_shards=2)
    first = out / "shards" / "00001.npy"
    first.write_bytes(first.read_bytes()[:-100])  # cut short, as by a full disk
    logs: list[str] = []
    with caplog.at_level(logging.WARNING, logger="babelir.index.build"):
        build_index("tiny", corpus_file, out, shard_size=10, progress=logs.append)
    assert any("00001.npy: truncated" in r.getMessage() for r in caplog.records)
    assert any("resuming after 1 finished shards" in line for line in logs)
    reference = np.concatenate([np.load(p) for p in sorted((built_index / "shards").glob("*.npy"))])
    rebuilt = np.concatenate([np.load(p) for p in sorted((out / "shards").glob("*.npy"))])
    np.testing.assert_allclose(rebuilt, reference, atol=1e-6)

    caplog.clear()  # a complete index with a damaged shard: the same command repairs it
    (out / "shards" / "00002.npy").write_bytes(b"not numpy")
    with caplog.at_level(logging.WARNING, logger="babelir.index.build"):
        manifest = build_index("tiny", corpus_file, out, shard_size=10)
    assert any("00002.npy: not a readable .npy file" in r.getMessage() for r in caplog.records)
    assert manifest["counts"]["documents"] == 25 and len(Index.load(out)) == 25
    assert json.loads((out / "manifest.json").read_text())["counts"]["shards"] == 3


def test_the_staging_folder_of_a_relative_dot_out_sits_beside_it(tmp_path, monkeypatch) -> None:
    from babelir.index.folders import staging_path

    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path / "out")
    assert staging_path(Path(".")) == tmp_path / ".out.rebuild"
