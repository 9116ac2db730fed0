"""Rows with line numbers -> dictionaries, refusing contradictions with the file and line that has them.

Shared by the BEIR and TREC readers: both stream ``(line number, key, ...)`` rows and differ only in
their syntax.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

from babelir.data.errors import DataError

V = TypeVar("V")


def collect_unique(path: Path | str, rows: Iterable[tuple[int, str, V]], what: str) -> dict[str, V]:
    """``{key: value}``; a key seen twice is an error (``what`` names it: "document id", "query id")."""
    collected: dict[str, V] = {}
    for number, key, value in rows:
        if key in collected:
            raise DataError(path, number, f"duplicate {what} {key!r}")
        collected[key] = value
    return collected


def collect_judgements(path: Path | str, rows: Iterable[tuple[int, str, str, int]]) -> dict[str, dict[str, int]]:
    """``{query_id: {doc_id: grade}}``; the same pair judged twice with different grades is an error."""
    qrels: dict[str, dict[str, int]] = {}
    for number, qid, doc_id, grade in rows:
        judged = qrels.setdefault(qid, {})
        if doc_id in judged and judged[doc_id] != grade:
            raise DataError(path, number, f"({qid}, {doc_id}) judged twice with different grades")
        judged[doc_id] = grade
    return qrels
