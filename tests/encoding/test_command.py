"""``babelir encode``: every input format, both output formats, ids beside rows, errors naming FILE:LINE."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from babelir.cli import main
from babelir.encoding import encode, load_model
from babelir.encoding.command import read_texts

TEXTS = {"a": "The cat sleeps on the mat.", "b": "Le chat dort.", "c": "Кошка спит."}


@pytest.fixture(scope="module")
def tiny():
    return load_model("tiny")


def test_npy_rows_match_encode_and_ids_sit_beside_them(tmp_path: Path, tiny) -> None:
    texts = tmp_path / "texts.jsonl"
    texts.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in TEXTS.items()))
    out = tmp_path / "out" / "emb.npy"
    assert main(["encode", "tiny", str(texts), "--output", str(out), "--role", "query", "--batch-size", "2"]) == 0
    got = np.load(out)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, encode(tiny, list(TEXTS.values()), "query"), atol=1e-5)
    assert (tmp_path / "out" / "emb.ids.txt").read_text().splitlines() == list(TEXTS)


def test_parquet_has_id_and_embedding_columns(tmp_path: Path, tiny) -> None:
    texts = tmp_path / "texts.tsv"
    texts.write_text("".join(f"{i}\t{t}\n" for i, t in TEXTS.items()))
    out = tmp_path / "emb.parquet"
    assert main(["encode", "tiny", str(texts), "--output", str(out)]) == 0
    table = pq.read_table(out)
    assert table.column_names == ["id", "embedding"]
    assert table.column("id").to_pylist() == list(TEXTS)
    got = np.array(table.column("embedding").to_pylist(), dtype=np.float32)
    np.testing.assert_allclose(got, encode(tiny, list(TEXTS.values()), "document"), atol=1e-5)


def test_inputs_read_the_beir_way_and_by_line(tmp_path: Path) -> None:
    beir = tmp_path / "corpus.jsonl"
    beir.write_text('{"_id": 7, "title": "Cats", "text": "They sleep."}\n\n{"_id": "t", "title": "Only title", "text": ""}\n')
    assert read_texts(beir) == {"7": "Cats They sleep.", "t": "Only title"}
    plain = tmp_path / "lines.txt"
    plain.write_text("first text\nsecond text\n")
    assert read_texts(plain) == {"1": "first text", "2": "second text"}
    tsv = tmp_path / "texts.tsv"  # read as `babelir index` reads a corpus: header and blank lines skipped
    tsv.write_text("id\ttext\nq1\t first \n\nq2\tsecond\n")
    assert read_texts(tsv) == {"q1": "first", "q2": "second"}


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("bad.jsonl", '{"id": "a", "text": "fine"}\n{"id": "b"}\n', "bad.jsonl:2: missing field 'text'"),
        ("bad.jsonl", '{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', "bad.jsonl:2: duplicate id 'a'"),
        ("bad.jsonl", '{"id": "a\\nb", "text": "x"}\n', "bad.jsonl:1: id 'a\\nb' contains a line break"),
        ("bad.tsv", "a\tfine\nb only\n", "bad.tsv:2: expected id<TAB>text"),
        ("bad.txt", "one\n\nthree\n", "bad.txt:2: empty text"),
    ],
)
def test_bad_input_names_file_and_line(tmp_path: Path, capsys, name: str, content: str, problem: str) -> None:
    texts = tmp_path / name
    texts.write_text(content)
    out = tmp_path / "emb.npy"
    assert main(["encode", "tiny", str(texts), "--output", str(out)]) == 2
    assert problem in capsys.readouterr().err
    assert not out.exists()


def test_unknown_output_format_is_refused_before_encoding(tmp_path: Path, capsys) -> None:
    assert main(["encode", "tiny", str(tmp_path / "missing.txt"), "--output", str(tmp_path / "e.csv")]) == 2
    assert "--output must end in .npy or .parquet" in capsys.readouterr().err


def test_output_replaces_only_an_earlier_encode_result(tmp_path: Path, capsys) -> None:
    texts = tmp_path / "texts.tsv"
    texts.write_text("".join(f"{i}\t{t}\n" for i, t in TEXTS.items()))
    out = tmp_path / "emb.npy"
    assert main(["encode", "tiny", str(texts), "--output", str(out)]) == 0
    assert main(["encode", "tiny", str(texts), "--output", str(out), "--role", "query"]) == 0  # its own: replaced
    capsys.readouterr()
    mine = tmp_path / "mine.npy"  # a user's array (int64, no ids beside it) is not replaced
    np.save(mine, np.arange(6).reshape(2, 3))
    assert main(["encode", "tiny", str(texts), "--output", str(mine)]) == 2
    assert f"{mine}: exists and babelir did not write it" in capsys.readouterr().err
    assert np.load(mine).dtype == np.int64 and not (tmp_path / "mine.ids.txt").exists()
    notes = tmp_path / "notes.ids.txt"  # nor the ids file a .npy output would write beside it
    notes.write_text("my notes\n")
    assert main(["encode", "tiny", str(texts), "--output", str(tmp_path / "notes.npy")]) == 2
    assert f"{notes}: exists and babelir did not write it" in capsys.readouterr().err
    assert notes.read_text() == "my notes\n" and not (tmp_path / "notes.npy").exists()
    own_input = tmp_path / "lines.ids.txt"  # nor the texts file it reads
    own_input.write_text("first\nsecond\n")
    assert main(["encode", "tiny", str(own_input), "--output", str(tmp_path / "lines.npy")]) == 2
    assert "is the texts file this command reads" in capsys.readouterr().err
    assert own_input.read_text() == "first\nsecond\n"
    table = tmp_path / "table.parquet"  # a Parquet file of other columns
    pq.write_table(pa.table({"name": ["x"]}), table)
    assert main(["encode", "tiny", str(texts), "--output", str(table)]) == 2
    assert f"{table}: exists and babelir did not write it" in capsys.readouterr().err
    assert pq.read_schema(table).names == ["name"]
    np.savez(tmp_path / "packed.npz", a=np.zeros(2))  # a zip under a .npy name: one line, not a traceback
    (tmp_path / "packed.npz").rename(tmp_path / "packed.npy")
    assert main(["encode", "tiny", str(texts), "--output", str(tmp_path / "packed.npy")]) == 2
    assert "packed.npy: exists and babelir did not write it" in capsys.readouterr().err
    lookalike = tmp_path / "user.npy"  # a user's float32 matrix of encode's very layout: still theirs
    np.save(lookalike, np.ones((2, 3), dtype=np.float32))
    before = lookalike.read_bytes()
    assert main(["encode", "tiny", str(texts), "--output", str(lookalike)]) == 2
    assert f"{lookalike}: exists and babelir did not write it" in capsys.readouterr().err
    assert lookalike.read_bytes() == before
    np.save(out, np.ones((2, 3), dtype=np.float32))  # babelir's own output, changed by hand since: left alone
    assert main(["encode", "tiny", str(texts), "--output", str(out)]) == 2
    assert "or it was changed since" in capsys.readouterr().err


def test_a_run_stopped_between_its_two_files_or_an_empty_file_is_replaced(tmp_path: Path) -> None:
    texts = tmp_path / "texts.tsv"
    texts.write_text("".join(f"{i}\t{t}\n" for i, t in TEXTS.items()))
    out = tmp_path / "emb.npy"
    assert main(["encode", "tiny", str(texts), "--output", str(out)]) == 0
    (tmp_path / "emb.ids.txt").unlink()  # killed after the array, before its ids
    assert main(["encode", "tiny", str(texts), "--output", str(out)]) == 0
    assert (tmp_path / "emb.ids.txt").read_text().splitlines() == list(TEXTS)
    parquet = tmp_path / "emb.parquet"
    parquet.touch()  # nothing to lose
    assert main(["encode", "tiny", str(texts), "--output", str(parquet)]) == 0
    assert main(["encode", "tiny", str(texts), "--output", str(parquet)]) == 0  # its own: replaced
    assert pq.read_schema(parquet).names == ["id", "embedding"]
