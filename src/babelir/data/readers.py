"""Streaming readers for the three training streams: English retrieval examples, parallel pairs, sentences.

Every reader is an iterator over one file (constant memory: millions of lines are fine); the path is
checked when the reader is created, every line when it is reached. Bad input stops with a DataError
``FILE:LINE: problem``: malformed JSON, a missing column or field, empty text, invalid UTF-8, an
unknown language code, aligned files of different lengths. Surrounding whitespace of every text is
removed. ``.gz`` files are read transparently. Unknown JSON fields and extra named TSV columns are ignored
(so files may carry ids or provenance, as babelir's default data does).

Formats
-------
Retrieval examples (``RetrievalExample(query, positive, negatives)``):

* JSONL: ``{"query": str, "positive": str, "negatives": [str, ...]}``; ``negatives`` is optional. The
  sentence-transformers/FlagEmbedding spelling ``{"query", "pos": [...], "neg": [...]}`` is accepted too:
  each element of ``pos`` becomes one example carrying all of ``neg``. ``pos``/``neg`` may be strings.
* TSV: ``query<TAB>positive[<TAB>negative ...]`` (MS MARCO triples style); a first line starting with
  ``query<TAB>positive`` (or ``pos``/``passage``) is a header and skipped.
* BEIR folder with ``qrels/<split>.tsv``: each judged pair with score >= ``min_score`` gives one example
  (query text -> ``title text`` of the document, joined by :func:`babelir.data.beir.join_title`).

Parallel pairs (``ParallelPair(source, target, source_lang, target_lang)``):

* TSV with a header naming columns: ``source<TAB>target[<TAB>source_lang<TAB>target_lang]`` in any order
  (``src``, ``tgt``, ``src_lang``, ``tgt_lang`` are accepted as aliases), other columns ignored. Language columns missing from the header come from the caller's
  ``source_lang``/``target_lang`` arguments; present columns give each row its own languages (mixed files).
* TSV whose header is two language codes, e.g. ``en<TAB>de``: column 1 is English, column 2 German.
* TSV without header: exactly two columns; the caller must give ``source_lang`` and ``target_lang``.
* Two aligned plain-text files, one sentence per line, languages from the caller; they must have the
  same number of lines (the error names both files and the line where the shorter one ends).

Non-parallel sentences (``Sentence(text, language)``):

* Plain text, one sentence per line, language from the caller.
* JSONL ``{"text": str, "language": str}``; ``language`` may be omitted when the caller gives a default.

Language codes are ISO 639-1 with optional subtags (:mod:`babelir.data.languages`), normalised.
Blank lines: skipped in JSONL (a convention of the format); an error in text and TSV files, where they
would be empty texts, unless ``skip_empty=True`` for plain-text files (common in scraped bitexts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any

from babelir.data import beir
from babelir.data._lines import PathLike, iter_json_objects, iter_lines, open_binary, require_str
from babelir.data.errors import DataError
from babelir.data.languages import normalize_language


@dataclass(frozen=True, slots=True)
class RetrievalExample:
    """An English training query with one relevant passage and optional hard negatives."""

    query: str
    positive: str
    negatives: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParallelPair:
    """A sentence and its translation; for the semantic loss ``source`` is usually English."""

    source: str
    target: str
    source_lang: str
    target_lang: str


@dataclass(frozen=True, slots=True)
class Sentence:
    """Plain text in a known language (non-parallel), for the language loss."""

    text: str
    language: str


# ----------------------------------------------------------------------------------------------- helpers


def _existing_file(path: PathLike) -> Path:
    """Fail at reader creation (not at the first ``next``) when the file is missing."""
    path = Path(path)
    open_binary(path).close()
    return path


def _format_of(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if last in (".tsv", ".tab"):
        return "tsv"
    if last in (".txt", ".text", ""):
        return "text"
    # Aligned-corpus files are often named by language (``corpus.de``): treat as plain text.
    if normalize_language(last.lstrip(".")) is not None:
        return "text"
    return "unknown"


def language_argument(code: str | None, what: str, path: PathLike | None = None) -> str | None:
    """Validate a caller-given language code (``None`` passes through)."""
    if code is None:
        return None
    normalized = normalize_language(code)
    if normalized is None:
        raise DataError(
            path, None, f"unknown language code {code!r} given as {what} (expected ISO 639-1, e.g. 'de')"
        )
    return normalized


def _language(path: PathLike, number: int, code: Any, what: str) -> str:
    normalized = normalize_language(code) if isinstance(code, str) else None
    if normalized is None:
        raise DataError(
            path, number, f"unknown language code {code!r} in {what} (expected ISO 639-1, e.g. 'de')"
        )
    return normalized


def _text(path: PathLike, number: int, value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise DataError(path, number, f"empty text in {what}")
    return value


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
        texts.append(_text(path, number, item, f"field {field!r}[{i}]"))
    return texts


# -------------------------------------------------------------------------------------------- retrieval


def read_retrieval_jsonl(
    path: PathLike, where: Callable[[dict[str, Any]], bool] | None = None
) -> Iterator[RetrievalExample]:
    """Retrieval examples from JSONL (``query``/``positive``/``negatives`` or ``query``/``pos``/``neg``);
    ``where(row)`` false skips a row before it is read (e.g. by a provenance field the reader ignores)."""
    return _retrieval_jsonl(_existing_file(path), where)


def _retrieval_jsonl(path: Path, where: Callable[[dict[str, Any]], bool] | None) -> Iterator[RetrievalExample]:
    for number, obj in iter_json_objects(path):
        if where is not None and not where(obj):
            continue
        query = _text(path, number, require_str(path, number, obj, "query"), "field 'query'")
        if "positive" in obj and "pos" in obj:
            raise DataError(path, number, "both 'positive' and 'pos' given; use one")
        if "positive" in obj:
            positives = [_text(path, number, require_str(path, number, obj, "positive"), "field 'positive'")]
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
    return _retrieval_tsv(_existing_file(path))


def _retrieval_tsv(path: Path) -> Iterator[RetrievalExample]:
    for number, line in iter_lines(path):
        fields = line.split("\t")
        is_header = len(fields) >= 2 and fields[0].strip().lower() == "query"
        if number == 1 and is_header and fields[1].strip().lower() in _RETRIEVAL_HEADERS:
            continue
        if len(fields) < 2:
            raise DataError(path, number, "missing column: expected query<TAB>positive[<TAB>negative...]")
        texts = [_text(path, number, field, f"column {i + 1}") for i, field in enumerate(fields)]
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
    kind = _format_of(path)
    if kind == "jsonl":
        return read_retrieval_jsonl(path)
    if kind == "tsv":
        return read_retrieval_tsv(path)
    if not path.exists():
        raise DataError(path, None, "no such file or folder")
    raise DataError(path, None, "cannot tell the format: expected a .jsonl or .tsv file or a BEIR folder")


# --------------------------------------------------------------------------------------------- parallel


_PARALLEL_COLUMNS = ("source", "target", "source_lang", "target_lang")
_PARALLEL_ALIASES = {"src": "source", "tgt": "target", "src_lang": "source_lang", "tgt_lang": "target_lang"}


def read_parallel_tsv(
    path: PathLike, source_lang: str | None = None, target_lang: str | None = None
) -> Iterator[ParallelPair]:
    """Parallel pairs from a TSV file (header rules in the module docstring)."""
    path = _existing_file(path)
    src = language_argument(source_lang, "source_lang", path)
    tgt = language_argument(target_lang, "target_lang", path)
    return _parallel_tsv(path, src, tgt)


def _parallel_tsv(path: Path, src: str | None, tgt: str | None) -> Iterator[ParallelPair]:
    lines = iter_lines(path)
    first = next(lines, None)
    if first is None:
        return
    number, line = first
    header = [_PARALLEL_ALIASES.get(field.strip(), field.strip()) for field in line.split("\t")]
    columns: dict[str, int] | None = None
    pending: tuple[int, str] | None = None
    if "source" in header and "target" in header:
        columns = {name: header.index(name) for name in _PARALLEL_COLUMNS if name in header}
    elif len(header) == 2 and all(normalize_language(code) for code in header) and not (src and tgt):
        codes = [normalize_language(code) for code in header]
        if (src and src != codes[0]) or (tgt and tgt != codes[1]):
            raise DataError(
                path, number, f"header languages {header} disagree with the given {src!r}, {tgt!r}"
            )
        src, tgt = codes
    elif src and tgt and [normalize_language(code) for code in header] == [src, tgt]:
        pass  # a language header that repeats the caller's languages
    else:
        pending = first  # no header: the first line is data
    if columns is not None:
        for name, given in (("source_lang", src), ("target_lang", tgt)):
            if name not in columns and given is None:
                raise DataError(path, number, f"header has no {name!r} column and no {name} was given")
    elif src is None or tgt is None:
        raise DataError(
            path,
            number,
            "no header naming the languages ('source<TAB>target<TAB>source_lang<TAB>target_lang' or "
            "e.g. 'en<TAB>de') and no source_lang/target_lang given",
        )

    def rows() -> Iterator[tuple[int, str]]:
        if pending is not None:
            yield pending
        yield from lines

    width = max(columns.values()) + 1 if columns is not None else 2
    for number, line in rows():
        fields = line.split("\t")
        if columns is None:
            if len(fields) != 2:
                raise DataError(
                    path, number, f"expected 2 tab-separated columns (source, target), got {len(fields)}"
                )
            assert src is not None and tgt is not None
            yield ParallelPair(
                _text(path, number, fields[0], "column 1 (source)"),
                _text(path, number, fields[1], "column 2 (target)"),
                src,
                tgt,
            )
            continue
        if len(fields) < width:
            missing = [name for name, i in columns.items() if i >= len(fields)]
            raise DataError(
                path,
                number,
                f"missing column {missing[0]!r} ({len(fields)} columns, header has {len(header)})",
            )
        row_src = (
            _language(path, number, fields[columns["source_lang"]].strip(), "column 'source_lang'")
            if "source_lang" in columns
            else src
        )
        row_tgt = (
            _language(path, number, fields[columns["target_lang"]].strip(), "column 'target_lang'")
            if "target_lang" in columns
            else tgt
        )
        assert row_src is not None and row_tgt is not None
        yield ParallelPair(
            _text(path, number, fields[columns["source"]], "column 'source'"),
            _text(path, number, fields[columns["target"]], "column 'target'"),
            row_src,
            row_tgt,
        )


def read_parallel_text(
    source_path: PathLike,
    target_path: PathLike,
    source_lang: str,
    target_lang: str,
    *,
    skip_empty: bool = False,
) -> Iterator[ParallelPair]:
    """Pairs from two aligned plain-text files, line ``i`` of one translating line ``i`` of the other.

    ``skip_empty`` drops pairs where either side is blank instead of stopping (scraped bitexts have them).
    """
    source_path, target_path = _existing_file(source_path), _existing_file(target_path)
    src = language_argument(source_lang, "source_lang", source_path)
    tgt = language_argument(target_lang, "target_lang", target_path)
    if src is None or tgt is None:
        raise DataError(source_path, None, "aligned text files need source_lang and target_lang")
    return _parallel_text(source_path, target_path, src, tgt, skip_empty)


def _parallel_text(
    source_path: Path, target_path: Path, src: str, tgt: str, skip_empty: bool
) -> Iterator[ParallelPair]:
    for left, right in zip_longest(iter_lines(source_path), iter_lines(target_path)):
        if left is None or right is None:
            longer, (number, _) = (target_path, right) if left is None else (source_path, left)
            shorter = source_path if left is None else target_path
            raise DataError(
                longer,
                number,
                f"aligned files differ in length: {shorter} ends after line {number - 1}, "
                f"{longer} goes on (line {number} has no counterpart)",
            )
        number = left[0]
        source, target = left[1].strip(), right[1].strip()
        if not source or not target:
            if skip_empty:
                continue
            raise DataError(source_path if not source else target_path, number, "empty text")
        yield ParallelPair(source, target, src, tgt)


def read_parallel(
    path: PathLike,
    target_path: PathLike | None = None,
    *,
    source_lang: str | None = None,
    target_lang: str | None = None,
    skip_empty: bool = False,
) -> Iterator[ParallelPair]:
    """Two paths: aligned text files. One path: a TSV file (any suffix but JSON, which is not a format here)."""
    if target_path is not None:
        if source_lang is None or target_lang is None:
            raise DataError(path, None, "aligned text files need source_lang and target_lang")
        return read_parallel_text(path, target_path, source_lang, target_lang, skip_empty=skip_empty)
    if _format_of(Path(path)) == "jsonl":
        raise DataError(path, None, "parallel pairs are read from TSV or two aligned text files, not JSONL")
    return read_parallel_tsv(path, source_lang, target_lang)


# -------------------------------------------------------------------------------------------- sentences


def read_sentences_text(path: PathLike, language: str, *, skip_empty: bool = False) -> Iterator[Sentence]:
    """One sentence per line, all in ``language``; blank lines are errors unless ``skip_empty``."""
    path = _existing_file(path)
    code = language_argument(language, "language", path)
    if code is None:
        raise DataError(path, None, "a plain-text sentence file needs its language")
    return _sentences_text(path, code, skip_empty)


def _sentences_text(path: Path, language: str, skip_empty: bool) -> Iterator[Sentence]:
    for number, line in iter_lines(path):
        text = line.strip()
        if not text:
            if skip_empty:
                continue
            raise DataError(path, number, "empty text")
        yield Sentence(text, language)


def read_sentences_jsonl(path: PathLike, language: str | None = None) -> Iterator[Sentence]:
    """``{"text", "language"}`` per line; ``language`` (the argument) is the default for lines without one."""
    path = _existing_file(path)
    return _sentences_jsonl(path, language_argument(language, "language", path))


def _sentences_jsonl(path: Path, default: str | None) -> Iterator[Sentence]:
    for number, obj in iter_json_objects(path):
        text = _text(path, number, require_str(path, number, obj, "text"), "field 'text'")
        if obj.get("language") is None:
            if default is None:
                raise DataError(path, number, "missing field 'language'")
            code = default
        else:
            code = _language(path, number, obj["language"], "field 'language'")
        yield Sentence(text, code)


def read_sentences(
    path: PathLike, language: str | None = None, *, skip_empty: bool = False
) -> Iterator[Sentence]:
    """Dispatch on the name: ``*.jsonl[.gz]`` is JSONL, anything else plain text (needs ``language``)."""
    if _format_of(Path(path)) == "jsonl":
        return read_sentences_jsonl(path, language)
    if language is None:
        raise DataError(
            path, None, "plain-text sentences need a language (or use JSONL with a 'language' field)"
        )
    return read_sentences_text(path, language, skip_empty=skip_empty)
