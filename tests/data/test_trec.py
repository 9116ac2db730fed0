"""TREC qrels/run readers and writers: deterministic, atomic, round-trip exact, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from babelir.data import trec
from babelir.data.errors import DataError


def test_run_round_trip_and_order(tmp_path: Path) -> None:
    run = {"q10": {"d2": 0.5, "d1": 0.5, "d3": 1 / 3}, "q2": {"x": -1.0}}
    path = tmp_path / "run.trec"
    trec.write_run(path, run, tag="me5")
    lines = path.read_text().splitlines()
    assert lines == [
        "q2 Q0 x 1 -1.0 me5",
        "q10 Q0 d1 1 0.5 me5",  # tie broken by document id
        "q10 Q0 d2 2 0.5 me5",
        f"q10 Q0 d3 3 {1 / 3!r} me5",
    ]
    assert trec.read_run(path) == run  # exact floats
    assert [row.rank for row in trec.iter_run(path)] == [1, 1, 2, 3]
    trec.write_run(tmp_path / "again", dict(reversed(run.items())), tag="me5")
    assert (tmp_path / "again").read_bytes() == path.read_bytes()
    trec.write_run(path, run, depth=1)
    assert len(path.read_text().splitlines()) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_qrels_round_trip(tmp_path: Path) -> None:
    qrels = {"2": {"b": 1, "a": 0}, "1": {"c": 2}}
    path = tmp_path / "qrels.txt"
    trec.write_qrels(path, qrels)
    assert path.read_text() == "1 0 c 2\n2 0 a 0\n2 0 b 1\n"
    assert trec.read_qrels(path) == qrels
    assert trec.read_qrels_any(path) == qrels


def test_tab_separated_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "run"
    path.write_text("q1\tQ0\td1\t1\t2.0\tt\n\nq1 Q0 d2 2 1.0 t\n")
    assert trec.read_run(path) == {"q1": {"d1": 2.0, "d2": 1.0}}


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        ("q1 Q0 d1 1 1.0 t\nq1 Q0 d2 2 1.0\n", 2, "expected 6 columns"),
        ("q1 Q0 d1 first 1.0 t\n", 1, "rank 'first' is not an integer"),
        ("q1 Q0 d1 1 high t\n", 1, "score 'high' is not a number"),
        ("q1 Q0 d1 1 1 t\nq1 Q0 d1 2 0 t\n", 2, "listed twice"),
    ],
)
def test_run_errors(tmp_path: Path, content: str, line: int, problem: str) -> None:
    path = tmp_path / "run"
    path.write_text(content)
    with pytest.raises(DataError) as err:
        trec.read_run(path)
    assert str(err.value).startswith(f"{path}:{line}: ") and problem in str(err.value)


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        ("q1 0 d1\n", 1, "expected 4 columns"),
        ("q1 0 d1 1\nq1 0 d2 yes\n", 2, "not an integer"),
        ("q1 0 d1 1\nq2 0 d1 0\nq1 0 d1 2\n", 3, "judged twice"),
    ],
)
def test_qrels_errors(tmp_path: Path, content: str, line: int, problem: str) -> None:
    path = tmp_path / "qrels"
    path.write_text(content)
    with pytest.raises(DataError, match=rf"^{path}:{line}: .*{problem}"):
        trec.read_qrels(path)


def test_writer_refuses_ids_with_whitespace(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="whitespace"):
        trec.write_run(tmp_path / "run", {"q 1": {"d": 1.0}})
    assert not (tmp_path / "run").exists()


def test_ir_measures_reads_our_files(tmp_path: Path) -> None:
    ir_measures = pytest.importorskip("ir_measures")
    trec.write_qrels(tmp_path / "qrels", {"q1": {"d1": 1}})
    trec.write_run(tmp_path / "run", {"q1": {"d1": 0.9, "d2": 0.1}})
    qrels = ir_measures.read_trec_qrels(str(tmp_path / "qrels"))
    run = ir_measures.read_trec_run(str(tmp_path / "run"))
    assert ir_measures.calc_aggregate([ir_measures.nDCG @ 10], qrels, run)[ir_measures.nDCG @ 10] == 1.0
