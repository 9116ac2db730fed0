"""Damaged index files, end to end through ``babelir.cli.main``: ``babelir search`` and ``babelir index``.

Each case copies a good index (or an interrupted build), truncates, empties or corrupts one file and runs
the real command. Files a search reads (manifest, faiss index, document store) must stop it with one
line naming the file, exit 2 and no run written; files only a build reads (shard embeddings, the build
plan) must be re-encoded (shards) or named (plan) by a rerun, and a failed ``--overwrite`` rebuild must
leave the previous index as it was.

"corrupt" for ``index.faiss`` and ``docs.sqlite`` alters their header: bytes flipped inside the vectors
or the document texts are not detectable by the cheap checks a load can afford (no whole-file checksum
is read at load; see :mod:`babelir.index.validate`). Shard files carry a checksum, so their middle is
corrupted.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from babelir.cli import main
from babelir.index import BuildInterrupted, Index, build_index
from babelir.index.ann import AnnSettings
from tests.faults.damage import DAMAGES, damage
from tests.faults.errors import one_error
from tests.index.helpers import documents, row_ids, write_corpus

SEARCHED = ("manifest.json", "index.faiss", "docs.sqlite")
HEADER_ONLY = {"index.faiss": (0, 4), "docs.sqlite": (0, 16)}  # (start, stop) of the bytes flipped


def _damage(path: Path, how: str) -> None:
    if how == "missing":
        path.unlink()
    elif how == "corrupt" and path.name in HEADER_ONLY:
        start, stop = HEADER_ONLY[path.name]
        data = path.read_bytes()
        path.write_bytes(data[:start] + bytes(b ^ 0xFF for b in data[start:stop]) + data[stop:])
    elif how == "no keys":
        manifest = json.loads(path.read_text(encoding="utf-8"))
        del manifest["counts"]
        path.write_text(json.dumps(manifest), encoding="utf-8")
    else:
        damage(path, how)


def _errors(capsys: pytest.CaptureFixture) -> list[str]:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return [line for line in err.splitlines() if line.startswith("babelir: error: ")]


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock"))


@pytest.fixture
def index_copy(tmp_path: Path, built_index: Path) -> Path:
    return Path(shutil.copytree(built_index, tmp_path / "idx"))


@pytest.mark.parametrize("name", SEARCHED)
@pytest.mark.parametrize("how", [*DAMAGES, "missing"])
def test_search_names_the_damaged_file(
    name: str, how: str, index_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    queries, run = tmp_path / "q.tsv", tmp_path / "run.trec"
    queries.write_text("q1\tviolin\n", encoding="utf-8")
    _damage(index_copy / name, how)
    code = main(["search", str(index_copy), "--queries", str(queries), "--output", str(run)])
    errors = _errors(capsys)
    assert code == 2 and len(errors) == 1, errors
    assert name in errors[0] and str(index_copy) in errors[0]
    if how != "missing" or name != "manifest.json":  # a missing manifest: not an index (yet)
        assert "rebuild with babelir index tiny" in errors[0] and "--overwrite" in errors[0]
    assert not run.exists() and _leftovers(tmp_path) == []


def test_a_manifest_without_its_keys_is_named(
    index_copy: Path, corpus_file: Path, capsys: pytest.CaptureFixture
) -> None:
    _damage(index_copy / "manifest.json", "no keys")
    assert main(["search", str(index_copy), "--queries", "q.tsv", "--output", "run.trec"]) == 2
    assert _errors(capsys) == [
        f"babelir: error: {index_copy / 'manifest.json'}: lacks 'counts.documents'; "
        f"rebuild with babelir index tiny {corpus_file} {index_copy} --overwrite"
    ]


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_shard_does_not_stop_search(how: str, index_copy: Path) -> None:
    _damage(index_copy / "shards" / "00001.npy", how)  # only builds read shards
    assert [h.id for h in Index.load(index_copy).search("violin", k=1)]


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The corpus and a build of it stopped after 2 of its 3 shards."""
    root = tmp_path_factory.mktemp("interrupted")
    corpus = write_corpus(root / "c.jsonl")
    with pytest.raises(BuildInterrupted):
        build_index("tiny", corpus, root / "idx", shard_size=10, stop_after_shards=2)
    return corpus, root / "idx"


def _resume_copy(interrupted: tuple[Path, Path], tmp_path: Path) -> tuple[list[str], Path]:
    corpus, out = interrupted[0], tmp_path / "idx"
    shutil.copytree(interrupted[1], out)
    return ["index", "tiny", str(corpus), str(out), "--shard-size", "10"], out


@pytest.mark.parametrize("how", [*DAMAGES, "missing"])
def test_resume_re_encodes_a_damaged_shard(
    how: str, interrupted: tuple[Path, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture,
) -> None:
    command, out = _resume_copy(interrupted, tmp_path)
    shard = out / "shards" / "00000.npy"
    _damage(shard, how)
    with caplog.at_level(logging.WARNING, logger="babelir.index.build"):
        assert main(command) == 0
    assert any(str(shard) in record.getMessage() for record in caplog.records)
    assert _errors(capsys) == []
    assert row_ids(Index.load(out)) == [d["_id"] for d in documents()]


@pytest.mark.parametrize("how", DAMAGES)
def test_resume_names_a_damaged_build_plan_and_overwrite_recovers(
    how: str, interrupted: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    command, out = _resume_copy(interrupted, tmp_path)
    plan = out / "shards" / "build.json"
    _damage(plan, how)
    assert main(command) == 2
    errors = _errors(capsys)
    assert len(errors) == 1 and errors[0].startswith(f"babelir: error: {plan}: damaged build plan")
    assert main([*command, "--overwrite"]) == 0
    assert len(Index.load(out)) == 25 and _leftovers(tmp_path) == []


@pytest.mark.parametrize("how", DAMAGES)
def test_resume_names_a_damaged_document_store(
    how: str, interrupted: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    command, out = _resume_copy(interrupted, tmp_path)
    _damage(out / "docs.sqlite", "corrupt" if how == "corrupt" else how)
    code = main(command)
    if how == "empty":  # an empty store is a new one: nothing is finished, everything is encoded again
        assert code == 0 and len(Index.load(out)) == 25
        return
    errors = _errors(capsys)
    assert code == 2 and len(errors) == 1 and str(out / "docs.sqlite") in errors[0], errors


@pytest.mark.parametrize("name", ["manifest.json", "index.faiss"])
def test_rerunning_the_build_repairs_a_damaged_complete_index(
    name: str, tmp_path: Path, corpus_file: Path, built_index: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = Path(shutil.copytree(built_index, tmp_path / "idx"))
    _damage(out / name, "truncate")
    with caplog.at_level(logging.WARNING, logger="babelir.index.build"):
        assert main(["index", "tiny", str(corpus_file), str(out), "--shard-size", "10"]) == 0
    assert any(name in record.getMessage() for record in caplog.records)
    assert row_ids(Index.load(out)) == row_ids(Index.load(built_index))


def test_a_failed_overwrite_leaves_the_previous_index_intact(
    tmp_path: Path, index_copy: Path, capsys: pytest.CaptureFixture
) -> None:
    before = {p.relative_to(index_copy): p.read_bytes() for p in index_copy.rglob("*") if p.is_file()}
    bad = write_corpus(tmp_path / "bad.jsonl", documents()[:3])
    with open(bad, "a", encoding="utf-8") as handle:
        handle.write('{"_id": "x", "text": \n')
    assert main(["index", "tiny", str(bad), str(index_copy), "--overwrite"]) == 2
    errors = _errors(capsys)
    assert len(errors) == 1 and f"{bad}:4" in errors[0]
    after = {p.relative_to(index_copy): p.read_bytes() for p in index_copy.rglob("*") if p.is_file()}
    assert after == before and _leftovers(tmp_path) == []


def test_too_many_ivf_lists_is_one_line_and_the_rerun_reuses_the_shards(tmp_path: Path, capsys) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl", [{"_id": f"d{i}", "text": f"document number {i}", "language": "en"}
                                                  for i in range(1200)])
    out = tmp_path / "idx"
    assert main(["index", "tiny", str(corpus), str(out), "--index-type", "ivfpq", "--nlist", "100"]) == 2
    line = one_error(capsys)
    assert "--nlist 100 is too many lists for 1,200 vectors" in line and "at most 30" in line
    messages: list[str] = []
    build_index("tiny", corpus, out, settings=AnnSettings(index_type="ivfpq", nlist=30), progress=messages.append)
    assert messages[0].startswith("resuming after 1 finished shards") and not any("encoded" in m for m in messages)
    assert Index.load(out).search("document number 7", k=1)[0].id.startswith("d")


def test_a_full_disk_while_faiss_writes_is_one_line_and_leaves_no_temporary_file(tmp_path: Path, monkeypatch) -> None:
    import errno

    import faiss

    from babelir.index import ann

    def full(index, name: str) -> None:
        Path(name).write_bytes(b"half")
        raise RuntimeError("Error in faiss::FileIOWriter: write error in x: 4 != 100 (No space left on device)")

    monkeypatch.setattr(faiss, "write_index", full)
    with pytest.raises(OSError) as err:
        ann.write_index(faiss.IndexFlatIP(4), tmp_path / "index.faiss")
    assert err.value.errno == errno.ENOSPC and err.value.filename == str(tmp_path / "index.faiss")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_while_sqlite_writes_is_not_called_damage(tmp_path: Path) -> None:
    import errno

    from babelir.index.corpus import Document
    from babelir.index.store import DocWriter

    writer = DocWriter(tmp_path / "docs.sqlite")
    writer.con.execute("PRAGMA max_page_count = 8")  # a disk that fills after a few pages
    docs = [Document(f"d{i}", "x" * 2000, "", "en", f"c.jsonl:{i + 1}") for i in range(50)]
    with pytest.raises(OSError) as err:
        writer.add_shard(0, 0, docs, "0" * 64)
    assert err.value.errno == errno.ENOSPC and "docs.sqlite" in err.value.filename
    assert writer.finished_shards() == []  # rolled back: nothing half-recorded
    writer.close()


@pytest.mark.parametrize(("flag", "value", "low"), [
    ("--hnsw-m", "0", 1), ("--hnsw-m", "-3", 1), ("--ef-search", "0", 1), ("--ef-construction", "0", 1),
    ("--nprobe", "0", 1), ("--nlist", "-1", 0), ("--pq-m", "-2", 0),
])  # fmt: skip
def test_ann_flags_below_their_minimum_are_one_line_before_anything_is_built(
    flag: str, value: str, low: int, corpus_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "idx"  # faiss aborted the process on --hnsw-m 0 and searched short at --ef-search 0
    assert main(["index", "tiny", str(corpus_file), str(out), "--index-type", "hnsw", flag, value]) == 2
    assert one_error(capsys).endswith(f": {flag} must be at least {low}, got {value}")
    assert not out.exists()
    with pytest.raises(ValueError, match=f"{flag[2:].replace('-', '_')} must be an integer of at least {low}"):
        AnnSettings(**{flag[2:].replace("-", "_"): int(value)})


def test_a_manifest_with_impossible_search_settings_is_named(
    index_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    manifest = json.loads((index_copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["index"]["ef_search"] = 0
    (index_copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    queries = tmp_path / "q.tsv"
    queries.write_text("q1\tviolin\n", encoding="utf-8")
    assert main(["search", str(index_copy), "--queries", str(queries), "--output", str(tmp_path / "run.trec")]) == 2
    line = one_error(capsys)
    assert line.startswith(f"babelir: error: {index_copy / 'manifest.json'}: index settings: ef_search must be")
    assert line.endswith("set a positive value there, or rebuild the index")
