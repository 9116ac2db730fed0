"""TREC qrels (``qid 0 docid rel``) and run files (``qid Q0 docid rank score tag``).

Both are whitespace-separated (tabs or spaces, as trec_eval reads them); blank lines are skipped. Read
results are plain dicts in the shapes ``ir_measures``/``pytrec_eval`` take directly:
qrels ``{qid: {docid: int}}`` and runs ``{qid: {docid: float}}``.

Writers are atomic (temporary file + rename, via ``babelir.utils.atomic``) and deterministic: queries in
natural order of their ids (``q2`` before ``q10``), then documents by rank, i.e. by descending score with
ties broken by document id (natural order), so that the same scores always give byte-identical files
and the written ranks agree with the scores (trec_eval re-sorts by score, ignoring the rank column).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from babelir.data._lines import PathLike, iter_lines
from babelir.data.collect import collect_judgements
from babelir.data.errors import DataError
from babelir.utils.atomic import atomic_open_text

Qrels = dict[str, dict[str, int]]
Run = dict[str, dict[str, float]]

_NATURAL = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple:
    """Sort key that orders embedded numbers numerically (``q2`` < ``q10``), deterministic for any id."""
    return tuple(
        (0, int(part), part) if part.isdigit() else (1, 0, part) for part in _NATURAL.split(text) if part
    )


@dataclass(frozen=True)
class RunRow:
    """One line of a run file."""

    qid: str
    docid: str
    rank: int
    score: float
    tag: str


def _fields(path: PathLike) -> Iterator[tuple[int, list[str]]]:
    for number, text in iter_lines(path):
        fields = text.split()
        if fields:
            yield number, fields


# -------------------------------------------------------------------------------------------------- qrels


def iter_qrels(path: PathLike) -> Iterator[tuple[str, str, int]]:
    """Stream ``(qid, docid, rel)``; the second column (iteration, usually ``0``) is ignored."""
    for _, qid, docid, rel in _qrels_rows(path):
        yield qid, docid, rel


def _qrels_rows(path: PathLike) -> Iterator[tuple[int, str, str, int]]:
    for number, fields in _fields(path):
        if len(fields) != 4:
            raise DataError(path, number, f"expected 4 columns 'qid iter docid rel', got {len(fields)}")
        qid, _, docid, rel = fields
        try:
            value = int(rel)
        except ValueError:
            raise DataError(path, number, f"relevance {rel!r} is not an integer") from None
        yield number, qid, docid, value


def read_qrels(path: PathLike) -> Qrels:
    """``{qid: {docid: rel}}``; a pair judged twice with different grades is an error."""
    return collect_judgements(path, _qrels_rows(path))


def write_qrels(path: PathLike, qrels: Mapping[str, Mapping[str, int]]) -> None:
    """Write TREC qrels atomically: queries and documents in natural id order."""
    with atomic_open_text(path) as handle:  # .gz: compressed, as the readers expect
        for qid in sorted(qrels, key=natural_key):
            check_run_id(qid, "query id", path)
            for docid in sorted(qrels[qid], key=natural_key):
                check_run_id(docid, "document id", path)
                handle.write(f"{qid} 0 {docid} {int(qrels[qid][docid])}\n")


# --------------------------------------------------------------------------------------------------- runs


def iter_run(path: PathLike) -> Iterator[RunRow]:
    """Stream the rows of a run file as :class:`RunRow` (constant memory; no duplicate check)."""
    for _, row in _run_rows(path):
        yield row


def _run_rows(path: PathLike) -> Iterator[tuple[int, RunRow]]:
    for number, fields in _fields(path):
        if len(fields) != 6:
            raise DataError(
                path, number, f"expected 6 columns 'qid Q0 docid rank score tag', got {len(fields)}"
            )
        qid, _, docid, rank, score, tag = fields
        try:
            rank_value = int(rank)
        except ValueError:
            raise DataError(path, number, f"rank {rank!r} is not an integer") from None
        try:
            score_value = float(score)
        except ValueError:
            raise DataError(path, number, f"score {score!r} is not a number") from None
        if math.isnan(score_value):
            raise DataError(path, number, "score is NaN")
        yield number, RunRow(qid, docid, rank_value, score_value, tag)


def run_file_tags(path: PathLike, rows: int = 100) -> set[str] | None:
    """The run tags of ``path``'s first ``rows`` rows, or None when it does not read as a TREC run (an empty
    file: no tags, nothing to lose): how a command that writes runs tells its own earlier output (its tag)
    from a user's file, a run from another system included."""
    tags: set[str] = set()
    try:
        for number, row in _run_rows(path):
            if number > rows:
                break
            tags.add(row.tag)
    except DataError:
        return None
    return tags


def read_run(path: PathLike) -> Run:
    """``{qid: {docid: score}}``; a document listed twice for one query is an error (trec_eval rejects it)."""
    run: Run = {}
    for number, row in _run_rows(path):
        scores = run.setdefault(row.qid, {})
        if row.docid in scores:
            raise DataError(path, number, f"document {row.docid!r} listed twice for query {row.qid!r}")
        scores[row.docid] = row.score
    return run


def ranked(scores: Mapping[str, float], depth: int | None = None) -> list[tuple[str, float]]:
    """Documents by descending score, ties by natural document-id order; the first ``depth`` only."""
    order = sorted(scores.items(), key=lambda item: (-float(item[1]), natural_key(item[0])))
    return order if depth is None else order[:depth]


RUN_FILE_KIND = "TREC run"  # babelir.utils.ownership's kind of the run files evaluate and search write


def write_run(
    path: PathLike, run: Mapping[str, Mapping[str, float]], tag: str = "babelir", depth: int | None = None
) -> None:
    """Write a TREC run atomically: queries in natural id order, then by rank (1 = highest score).

    ``depth`` keeps the top documents per query (e.g. 1000, the usual TREC depth). Scores are written
    with ``repr`` precision so that reading the file back gives the same floats.
    """
    check_run_id(tag, "run tag", path)
    with atomic_open_text(path) as handle:  # .gz: compressed, as the readers expect
        for qid in sorted(run, key=natural_key):
            check_run_id(qid, "query id", path)
            for rank, (docid, score) in enumerate(ranked(run[qid], depth), start=1):
                check_run_id(docid, "document id", path)
                score = float(score)
                if math.isnan(score):
                    raise ValueError(f"NaN score for query {qid!r}, document {docid!r}")
                handle.write(f"{qid} Q0 {docid} {rank} {score!r} {tag}\n")


def check_run_id(value: str, what: str, path: PathLike | None = None) -> None:
    """Whitespace inside an id would shift every column after it; refuse to write such a file (a
    :class:`DataError` naming the run file, written nowhere: the write is atomic)."""
    if not value or any(ch.isspace() for ch in str(value)):
        raise DataError(path, None, f"{what} {value!r} is empty or contains whitespace: not representable in "
                        "a TREC file; change it")


def read_qrels_any(path: PathLike) -> Qrels:
    """Qrels in either format: BEIR TSV (3 tab-separated columns, optional header) or TREC (4 columns).

    Evaluation can then accept whatever qrels file a user has without a format flag.
    """
    path = Path(path)
    for _, text in iter_lines(path):
        if not text.strip():
            continue
        if len(text.split("\t")) == 3 or text.split()[:3] == ["query-id", "corpus-id", "score"]:
            from babelir.data.beir import load_qrels

            return load_qrels(path)
        break
    return read_qrels(path)
