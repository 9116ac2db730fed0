"""BEIR folders: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv``, read into plain dicts.

Layout (as published by BEIR, https://github.com/beir-cellar/beir)::

    folder/corpus.jsonl        {"_id": "d1", "title": "...", "text": "...", ...}   one document per line
    folder/queries.jsonl       {"_id": "q1", "text": "...", ...}                   one query per line
    folder/qrels/<split>.tsv   header "query-id<TAB>corpus-id<TAB>score", then one judgement per line

Rules (chosen to accept every published BEIR set while failing loudly on broken files):

* ``.jsonl.gz`` is accepted wherever ``.jsonl`` is (looked for when the plain file is missing).
* ``_id`` is required and may be a JSON number (it becomes a string); other fields are ignored.
* Documents: ``text`` is required but may be empty (a few published corpora have title-only or empty
  documents); ``title`` is optional (default ``""``). Queries: ``text`` must be non-empty.
* Duplicate ids are an error in the ``load_*`` functions (silently keeping one would change scores).
* qrels scores are integers (``1.0`` is accepted as 1); the header line is optional; ``min_score`` is the
  caller's business (graded sets use 0 for "judged non-relevant", which evaluation tools handle).

The corpus can be millions of lines: ``iter_corpus`` streams it in constant memory; ``load_corpus``
materialises it for evaluation sets that fit in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from babelir.data._lines import PathLike, iter_json_objects, iter_lines, require_str
from babelir.data.collect import collect_judgements, collect_unique
from babelir.data.errors import DataError
from babelir.utils.atomic import atomic_open

Corpus = dict[str, dict[str, str]]
Queries = dict[str, str]
Qrels = dict[str, dict[str, int]]

QRELS_HEADER = ("query-id", "corpus-id", "score")
# babelir's sidecar in a BEIR folder: what BEIR has no field for (languages, split, main metric)
SIDECAR = "babelir.json"


def join_title(title: str, text: str) -> str:
    """The passage text an encoder sees: ``title text`` (title omitted when empty).

    One function so that training (BEIR positives) and evaluation (corpus encoding) join identically.
    """
    title, text = title.strip(), text.strip()
    if title and text:
        return f"{title} {text}"
    return title or text


def _resolve(folder: PathLike, name: str) -> Path:
    """``folder/name`` or ``folder/name.gz``; a missing file names the path the user should create."""
    path = Path(folder) / name
    if path.is_file():
        return path
    gz = path.with_name(path.name + ".gz")
    if gz.is_file():
        return gz
    raise DataError(path, None, "no such file (expected in a BEIR folder)")


def _jsonl_path(path: PathLike, default_name: str) -> Path:
    """Accept either the folder or the JSONL file itself."""
    path = Path(path)
    return _resolve(path, default_name) if path.is_dir() else path


def _corpus_rows(path: Path) -> Iterator[tuple[int, str, dict[str, str]]]:
    for number, obj in iter_json_objects(path):
        doc_id = require_str(path, number, obj, "_id", is_id=True)
        text = require_str(path, number, obj, "text", allow_empty=True)
        title = obj.get("title")
        if title is None:
            title = ""
        elif not isinstance(title, str):
            raise DataError(path, number, f"field 'title' must be a string, got {type(title).__name__}")
        yield number, doc_id, {"title": title, "text": text}


def iter_corpus(path: PathLike) -> Iterator[tuple[str, dict[str, str]]]:
    """Stream ``(doc_id, {"title", "text"})`` from a BEIR folder or a ``corpus.jsonl[.gz]`` file.

    Constant memory and no duplicate check (that needs the set of ids), so it suits corpora of any size.
    """
    for _, doc_id, doc in _corpus_rows(_jsonl_path(path, "corpus.jsonl")):
        yield doc_id, doc


def load_corpus(path: PathLike) -> Corpus:
    """The whole corpus as ``{doc_id: {"title", "text"}}``; duplicate ids are an error."""
    resolved = _jsonl_path(path, "corpus.jsonl")
    return collect_unique(resolved, _corpus_rows(resolved), "document id")


def _query_rows(path: Path) -> Iterator[tuple[int, str, str]]:
    for number, obj in iter_json_objects(path):
        yield (
            number,
            require_str(path, number, obj, "_id", is_id=True),
            require_str(path, number, obj, "text"),
        )


def iter_queries(path: PathLike) -> Iterator[tuple[str, str]]:
    """Stream ``(query_id, text)`` from a BEIR folder or a ``queries.jsonl[.gz]`` file."""
    for _, qid, text in _query_rows(_jsonl_path(path, "queries.jsonl")):
        yield qid, text


def load_queries(path: PathLike) -> Queries:
    """All queries as ``{query_id: text}``; duplicate ids are an error."""
    resolved = _jsonl_path(path, "queries.jsonl")
    return collect_unique(resolved, _query_rows(resolved), "query id")


def _parse_score(path: Path, number: int, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        value = float(raw)
    except ValueError:
        raise DataError(path, number, f"relevance score {raw!r} is not a number") from None
    if not value.is_integer():
        raise DataError(path, number, f"relevance score {raw!r} is not an integer")
    return int(value)


def _qrels_rows(path: Path) -> Iterator[tuple[int, str, str, int]]:
    for number, text in iter_lines(path):
        if not text.strip():
            continue
        fields = [f.strip() for f in text.split("\t")]
        if number == 1 and tuple(fields[:3]) == QRELS_HEADER:
            continue
        if len(fields) != 3:
            raise DataError(
                path,
                number,
                f"expected 3 tab-separated columns (query-id, corpus-id, score), got {len(fields)}",
            )
        qid, doc_id, score = fields
        if not qid or not doc_id:
            raise DataError(path, number, "empty query-id or corpus-id")
        yield number, qid, doc_id, _parse_score(path, number, score)


def iter_qrels(path: PathLike) -> Iterator[tuple[str, str, int]]:
    """Stream ``(query_id, doc_id, score)`` from a BEIR qrels TSV (header optional, blank lines skipped)."""
    for _, qid, doc_id, score in _qrels_rows(Path(path)):
        yield qid, doc_id, score


def load_qrels(path: PathLike) -> Qrels:
    """``{query_id: {doc_id: score}}``; a pair judged twice with different scores is an error."""
    path = Path(path)
    return collect_judgements(path, _qrels_rows(path))


def corpus_path(folder: PathLike) -> Path:
    """``folder/corpus.jsonl`` (or ``.jsonl.gz``); DataError naming the expected file when missing."""
    return _resolve(folder, "corpus.jsonl")


def queries_path(folder: PathLike) -> Path:
    return _resolve(folder, "queries.jsonl")


def qrels_path(folder: PathLike, split: str = "test") -> Path:
    return _resolve(Path(folder) / "qrels", f"{split}.tsv")


def load_beir(
    folder: PathLike, split: str = "test", *, only_judged_queries: bool = True
) -> tuple[Corpus, Queries, Qrels]:
    """``(corpus, queries, qrels)`` of one split, like BEIR's ``GenericDataLoader``.

    With ``only_judged_queries`` (BEIR's behaviour) queries without qrels in this split are dropped, so
    that metrics average over the same queries as published numbers. qrels naming a query missing from
    ``queries.jsonl`` are an error, because such a query could never be scored.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(
            folder, None, "not a folder (expected a BEIR folder with corpus.jsonl, queries.jsonl, qrels/)"
        )
    qrels = load_qrels(qrels_path(folder, split))
    if not qrels:  # every score would be NaN: say so instead of reporting it
        raise DataError(qrels_path(folder, split), None, f"no judgements in the {split} qrels; add "
                        "'query-id<TAB>corpus-id<TAB>score' rows")
    queries = load_queries(folder)
    missing = [qid for qid in qrels if qid not in queries]
    if missing:
        raise DataError(
            qrels_path(folder, split),
            None,
            f"{len(missing)} judged queries are not in queries.jsonl (first: {missing[0]!r})",
        )
    if not any(grade > 0 for judged in qrels.values() for grade in judged.values()):
        raise DataError(qrels_path(folder, split), None, f"no relevant document in the {split} qrels (every score "
                        "is 0 or less, so every metric would be NaN); relevant documents need a score of 1 or more")
    if only_judged_queries:
        queries = {qid: text for qid, text in queries.items() if qid in qrels}
    corpus = load_corpus(folder)
    if not corpus:
        raise DataError(folder, None, "its corpus holds no documents; add one JSON object a line to corpus.jsonl")
    absent = [(qid, doc) for qid, judged in qrels.items() for doc in judged if doc not in corpus]
    if absent:  # such a document can never be retrieved: recall would be capped without a word
        raise DataError(qrels_path(folder, split), None, f"{len(absent)} judged documents are not in corpus.jsonl "
                        f"(first: {absent[0][1]!r}, judged for query {absent[0][0]!r}); add them to the corpus or "
                        "remove their judgements")
    return corpus, queries, qrels


# ---------------------------------------------------------------------------------------------- writers


def write_corpus(
    path: PathLike, corpus: Mapping[str, Mapping[str, str]] | Iterable[tuple[str, Mapping[str, str]]]
) -> None:
    """Write ``corpus.jsonl`` atomically, in the given order (streams are accepted: constant memory)."""
    items = corpus.items() if isinstance(corpus, Mapping) else corpus
    with atomic_open(path) as handle:
        for doc_id, doc in items:
            record = {
                "_id": str(doc_id),
                "title": doc.get("title", "") or "",
                "text": doc.get("text", "") or "",
            }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_queries(path: PathLike, queries: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
    """Write ``queries.jsonl`` atomically, in the given order."""
    items = queries.items() if isinstance(queries, Mapping) else queries
    with atomic_open(path) as handle:
        for qid, text in items:
            handle.write(json.dumps({"_id": str(qid), "text": text}, ensure_ascii=False) + "\n")


def write_qrels(path: PathLike, qrels: Mapping[str, Mapping[str, int]]) -> None:
    """Write a BEIR qrels TSV (with header) atomically, in the mapping's order."""
    with atomic_open(path) as handle:
        handle.write("\t".join(QRELS_HEADER) + "\n")
        for qid, judged in qrels.items():
            for doc_id, score in judged.items():
                handle.write(f"{qid}\t{doc_id}\t{int(score)}\n")


def write_beir(
    folder: PathLike,
    corpus: Mapping[str, Mapping[str, str]],
    queries: Mapping[str, str],
    qrels: Mapping[str, Mapping[str, int]],
    split: str = "test",
) -> Path:
    """Write a complete BEIR folder (each file atomic); returns the folder."""
    folder = Path(folder)
    write_corpus(folder / "corpus.jsonl", corpus)
    write_queries(folder / "queries.jsonl", queries)
    write_qrels(folder / "qrels" / f"{split}.tsv", qrels)
    return folder
