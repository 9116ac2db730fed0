"""Retrieval examples (``RetrievalExample(query, positive, negatives)``), the English retrieval stream.

Formats:

* JSONL: ``{"query": str, "positive": str, "negatives": [str, ...]}``; ``negatives`` is optional. The
  sentence-transformers/FlagEmbedding spelling ``{"query", "pos": [...], "neg": [...]}`` is accepted too:
  each element of ``pos`` becomes one example carrying all of ``neg``. ``pos``/``neg`` may be strings.
* TSV: ``query<TAB>positive[<TAB>negative ...]`` (MS MARCO triples style); a first line starting with
  ``query<TAB>positive`` (or ``pos``/``passage``) is a header and skipped.
* BEIR folder with ``qrels/<split>.tsv``: each judged pair with score >= ``min_score`` gives one example
  (query text -> ``title text`` of the document, joined by :func:`babelir.data.beir.join_title`).

The rules every reader follows are in :mod:`babelir.data.readers`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babelir.data import beir
from babelir.data._lines import PathLike, iter_json_objects, iter_lines, require_str
from babelir.data.errors import DataError
from babelir.data.readers.common import clean_text, existing_file, format_of


@dataclass(frozen=True, slots=True)
class RetrievalExample:
    """An English training query with one relevant passage and optional hard negatives."""

    query: str
    positive: str
    negatives: tuple[str, ...] = ()


def _text_list(path: PathLike, number: int, obj: dict[str, Any], field: str) -> list[str]:
    value = obj[field]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise DataError(path, number, f"field {field!r} must be a string or a list of strings")
    texts = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise DataError(path, number, f"field {field!r}[{i}] must be a string, got {type(item).__name__}")
        texts.append(clean_text(path, number, item, f"field {field!r}[{i}]"))
    return texts


def read_retrieval_jsonl(
    path: PathLike, where: Callable[[dict[str, Any]], bool] | None = None
) -> Iterator[RetrievalExample]:
    """Retrieval examples from JSONL (``query``/``positive``/``negatives`` or ``query``/``pos``/``neg``);
    ``where(row)`` false skips a row before it is read (e.g. by a provenance field the reader ignores)."""
    return _retrieval_jsonl(existing_file(path), where)


def _retrieval_jsonl(path: Path, where: Callable[[dict[str, Any]], bool] | None) -> Iterator[RetrievalExample]:
    for number, obj in iter_json_objects(path):
        if where is not None and not where(obj):
            continue
        query = clean_text(path, number, require_str(path, number, obj, "query"), "field 'query'")
        if "positive" in obj and "pos" in obj:
            raise DataError(path, number, "both 'positive' and 'pos' given; use one")
        if "positive" in obj:
            positives = [clean_text(path, number, require_str(path, number, obj, "positive"), "field 'positive'")]
        elif "pos" in obj:
            positives = _text_list(path, number, obj, "pos")
            if not positives:
                raise DataError(path, number, "field 'pos' is an empty list")
        else:
            raise DataError(path, number, "missing field 'positive' (or 'pos')")
        if "negatives" in obj and "neg" in obj:
            raise DataError(path, number, "both 'negatives' and 'neg' given; use one")
        neg_field = "negatives" if "negatives" in obj else "neg" if "neg" in obj else None
        negatives = (
            tuple(_text_list(path, number, obj, neg_field))
            if neg_field and obj[neg_field] is not None
            else ()
        )
        for positive in positives:
            yield RetrievalExample(query, positive, negatives)


_RETRIEVAL_HEADERS = {"positive", "pos", "passage", "positive_passage"}


def read_retrieval_tsv(path: PathLike) -> Iterator[RetrievalExample]:
    """Retrieval examples from ``query<TAB>positive[<TAB>negative...]`` lines (optional header)."""
    return _retrieval_tsv(existing_file(path))


def _retrieval_tsv(path: Path) -> Iterator[RetrievalExample]:
    for number, line in iter_lines(path):
        fields = line.split("\t")
        is_header = len(fields) >= 2 and fields[0].strip().lower() == "query"
        if number == 1 and is_header and fields[1].strip().lower() in _RETRIEVAL_HEADERS:
            continue
        if len(fields) < 2:
            raise DataError(path, number, "missing column: expected query<TAB>positive[<TAB>negative...]")
        texts = [clean_text(path, number, field, f"column {i + 1}") for i, field in enumerate(fields)]
        yield RetrievalExample(texts[0], texts[1], tuple(texts[2:]))


def read_retrieval_beir(
    folder: PathLike, split: str = "train", min_score: int = 1
) -> Iterator[RetrievalExample]:
    """One example per judged (query, document) with ``score >= min_score``, in qrels order.

    Memory grows with the qrels and the judged documents only: the corpus is streamed once and only
    documents named in the qrels are kept, so multi-million-document corpora are fine.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(
            folder, None, "not a folder (expected a BEIR folder with corpus.jsonl, queries.jsonl, qrels/)"
        )
    qrels_file = beir.qrels_path(folder, split)
    beir.corpus_path(folder), beir.queries_path(folder)  # fail now, not at the first next()
    return _retrieval_beir(folder, qrels_file, min_score)


def _retrieval_beir(folder: Path, qrels_file: Path, min_score: int) -> Iterator[RetrievalExample]:
    judged: list[tuple[int, str, str]] = [
        (number, qid, doc_id)
        for number, qid, doc_id, score in beir._qrels_rows(qrels_file)
        if score >= min_score
    ]
    wanted_queries = {qid for _, qid, _ in judged}
    wanted_docs = {doc_id for _, _, doc_id in judged}
    queries = {qid: text for qid, text in beir.iter_queries(folder) if qid in wanted_queries}
    docs: dict[str, str] = {}
    corpus_file = beir.corpus_path(folder)
    for doc_id, doc in beir.iter_corpus(corpus_file):
        if doc_id in wanted_docs:
            docs[doc_id] = beir.join_title(doc["title"], doc["text"])
    for number, qid, doc_id in judged:
        if qid not in queries:
            raise DataError(qrels_file, number, f"query {qid!r} is not in queries.jsonl")
        if doc_id not in docs:
            raise DataError(qrels_file, number, f"document {doc_id!r} is not in {corpus_file.name}")
        if not docs[doc_id]:
            raise DataError(qrels_file, number, f"document {doc_id!r} has empty title and text")
        yield RetrievalExample(queries[qid], docs[doc_id])


def read_retrieval(path: PathLike, *, split: str = "train", min_score: int = 1) -> Iterator[RetrievalExample]:
    """Dispatch on the path: a folder is BEIR, ``*.jsonl[.gz]`` JSONL, ``*.tsv[.gz]`` TSV."""
    path = Path(path)
    if path.is_dir():
        return read_retrieval_beir(path, split, min_score)
    kind = format_of(path)
    if kind == "jsonl":
        return read_retrieval_jsonl(path)
    if kind == "tsv":
        return read_retrieval_tsv(path)
    if not path.exists():
        raise DataError(path, None, "no such file or folder")
    raise DataError(path, None, "cannot tell the format: expected a .jsonl or .tsv file or a BEIR folder")
