"""``babelir index``, ``babelir index merge`` and ``babelir search`` as commands: parsing, help, errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from babelir.cli import build_parser, main
from babelir.index.search import Index

from .helpers import row_ids


def test_build_and_merge_each_have_their_own_parser_and_help(capsys: pytest.CaptureFixture) -> None:
    parser = build_parser()
    build = parser.parse_args(["index", "tiny", "corpus.jsonl", "out", "--shard-id", "0", "--shard-count", "2"])
    assert build.func.__name__ == "run_index" and (build.model, build.shard_count) == ("tiny", 2)
    merge = parser.parse_args(["index", "merge", "a", "b", "--output", "out", "--index-type", "hnsw"])
    assert merge.func.__name__ == "run_merge" and merge.shards == ["a", "b"] and merge.output == "out"
    assert merge.index_type == "hnsw" and merge.model is None and not hasattr(merge, "corpus")
    with pytest.raises(SystemExit):
        main(["index", "merge", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("usage: babelir index merge") and "--output OUT" in out and "--shard-id I" not in out
    with pytest.raises(SystemExit):
        main(["index", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("usage: babelir index") and "--shard-id" in out and "babelir index merge" in out
    with pytest.raises(SystemExit) as exit_info:  # build-only flags are errors in a merge, not ignored
        main(["index", "merge", "a", "b", "--shard-count", "2"])
    assert exit_info.value.code == 2


def test_merge_writes_to_output_and_needs_an_output(
    tmp_path: Path, corpus_file: Path, built_index: Path, capsys: pytest.CaptureFixture
) -> None:
    shards = [str(tmp_path / f"s{i}") for i in range(2)]
    for i, folder in enumerate(shards):
        assert main(["index", "tiny", str(corpus_file), folder, "--shard-id", str(i), "--shard-count", "2"]) == 0
    out = tmp_path / "merged"
    assert main(["index", "merge", *shards, "--output", str(out), "--shard-size", "7"]) == 0
    assert "25 documents from 2 shards" in capsys.readouterr().out
    assert row_ids(Index.load(out)) == row_ids(Index.load(built_index))
    assert main(["index", "merge", shards[0]]) == 2
    assert "--output" in capsys.readouterr().err
    assert main(["index", "merge", *shards, "--output", str(out)]) == 2  # exists: --overwrite replaces it
    assert "--overwrite" in capsys.readouterr().err


def test_search_language_is_checked_before_anything_is_written(
    tmp_path: Path, built_index: Path, capsys: pytest.CaptureFixture
) -> None:
    queries = tmp_path / "q.tsv"
    queries.write_text("q1\tviolin\n", encoding="utf-8")
    run = tmp_path / "run.trec"
    base = ["search", str(built_index), "--queries", str(queries), "--output", str(run)]
    with pytest.raises(SystemExit) as exit_info:
        main([*base, "--language", "klingon"])
    assert exit_info.value.code == 2 and "unknown language code 'klingon'" in capsys.readouterr().err
    assert main([*base, "--language", "ja"]) == 2  # well formed, but the index has no Japanese
    assert "no documents in 'ja' (languages: de, en, fr, ru)" in capsys.readouterr().err
    assert not run.exists()
    assert main([*base, "--language", "FR", "--k", "3"]) == 0
    assert all(line.split()[2].startswith("fr-") for line in run.read_text().splitlines())


def test_ids_and_flags_a_trec_run_cannot_hold_are_refused_before_any_encoding(
    tmp_path: Path, built_index: Path, capsys: pytest.CaptureFixture
) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"id": "d1", "text": "one"}\n{"id": "doc 2", "text": "two"}\n', encoding="utf-8")
    assert main(["index", "tiny", str(corpus), str(tmp_path / "idx")]) == 2
    assert "c.jsonl:2: document id 'doc 2' is empty or contains whitespace" in capsys.readouterr().err
    queries = tmp_path / "q.tsv"
    queries.write_text("q1\tviolin\n", encoding="utf-8")
    run = tmp_path / "run.trec"
    base = ["search", str(built_index), "--queries", str(queries), "--output", str(run)]
    for flags, problem in ((["--batch-size", "0"], "--batch-size must be at least 1"),
                           (["--tag", "my run"], "a TREC run tag is one word")):
        assert main([*base, *flags]) == 2 and problem in capsys.readouterr().err
    queries.write_text("q 1\tviolin\n", encoding="utf-8")
    assert main(base) == 2 and "query id 'q 1' is empty or contains whitespace" in capsys.readouterr().err
    assert not run.exists()


def test_a_model_folder_named_merge_builds_when_a_corpus_file_follows(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "merge").mkdir()
    (tmp_path / "merge" / "config.json").write_text("{}")
    (tmp_path / "shard-0").mkdir()
    parser = build_parser()
    build = parser.parse_args(["index", "merge", "c.jsonl", "out"])
    assert build.func.__name__ == "run_index" and (build.model, build.corpus) == ("merge", "c.jsonl")
    merge = parser.parse_args(["index", "merge", "shard-0", "--output", "out"])  # shard folders: still a merge
    assert merge.func.__name__ == "run_merge"


def test_search_output_replaces_only_an_earlier_run(tmp_path: Path, built_index: Path, capsys: pytest.CaptureFixture) -> None:
    queries = tmp_path / "q.tsv"
    queries.write_text("q1\tviolin\n", encoding="utf-8")
    run = tmp_path / "run.trec"
    base = ["search", str(built_index), "--queries", str(queries)]
    assert main([*base, "--output", str(run), "--k", "2"]) == 0
    assert main([*base, "--output", str(run), "--k", "3"]) == 0  # its own earlier run: replaced
    assert len(run.read_text().splitlines()) == 3
    capsys.readouterr()
    assert main([*base, "--output", str(queries)]) == 2  # the queries it reads
    assert "is the queries file this command reads" in capsys.readouterr().err
    assert queries.read_text(encoding="utf-8") == "q1\tviolin\n"
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n", encoding="utf-8")
    assert main([*base, "--output", str(notes)]) == 2
    assert f"{notes}: exists and babelir did not write it" in capsys.readouterr().err
    assert notes.read_text(encoding="utf-8") == "my notes\n"
    assert main([*base, "--output", str(tmp_path)]) == 2 and "is a folder" in capsys.readouterr().err
    lookalike = tmp_path / "sys.trec"  # another system's run, of the very layout babelir writes: not babelir's
    lookalike.write_text("q1 Q0 d1 1 9.5 babelir\n", encoding="utf-8")
    assert main([*base, "--output", str(lookalike)]) == 2
    assert f"{lookalike}: exists and babelir did not write it" in capsys.readouterr().err
    assert lookalike.read_text(encoding="utf-8") == "q1 Q0 d1 1 9.5 babelir\n"
    theirs = tmp_path / "bm25.trec"  # a run babelir wrote under another --tag
    assert main([*base, "--output", str(theirs), "--tag", "bm25", "--k", "1"]) == 0
    before = theirs.read_bytes()
    assert main([*base, "--output", str(theirs)]) == 2
    assert f"{theirs}: exists and holds bm25's TREC run output, not babelir's" in capsys.readouterr().err
    assert theirs.read_bytes() == before
    assert main([*base, "--output", str(theirs), "--tag", "bm25", "--k", "3"]) == 0  # named as its own: replaced
    assert theirs.read_text(encoding="utf-8").count(" bm25\n") == 3
    packed = tmp_path / "run.trec.gz"  # written compressed, so a rerun reads it back as its own
    assert main([*base, "--output", str(packed)]) == 0 and main([*base, "--output", str(packed), "--k", "2"]) == 0
    assert gzip.decompress(packed.read_bytes()).decode().count(" Q0 ") == 2
