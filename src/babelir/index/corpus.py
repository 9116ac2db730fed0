"""Streaming corpus readers for ``babelir index``: JSONL, TSV, BEIR folders and the packaged sources.

Every reader yields :class:`Document` records one at a time (constant memory for corpora of millions of
lines) and names ``FILE:LINE`` in every error. Formats:

* JSONL (``{"_id" | "id", "text", "title"?, "language"?}``) and TSV (``id<TAB>text[<TAB>language]``),
  read by :mod:`babelir.data.texts` as ``babelir encode`` reads them (``.txt`` is TSV here); a language a
  document gives must be a known code, one it leaves out is ``""``.
* BEIR folder (``corpus.jsonl[.gz]`` inside): read by :func:`babelir.data.beir.iter_corpus`.
* Packaged text, so a new user can index something without any file of their own:
  ``bible:LANGS[:BOOKS]`` (e.g. ``bible:en,fr,ru:43`` = the Gospel of John in three languages; ids
  ``LANG:BOOK.CHAPTER.VERSE``; plain ``bible`` is :data:`DEFAULT_BIBLE`) and ``wiki:LANGS`` (Wikipedia
  vital-article lead paragraphs, en/es/fr).

The corpus identity recorded in a manifest is :attr:`CorpusReader.sha256`, a hash of the documents'
content as read (id, title, text, language), filled in as the stream is consumed: it is the same for
the same documents whatever the file's compression or formatting, and it costs no extra pass.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babelir.data.errors import DataError
from babelir.data.languages import language_code
from babelir.data.texts import (
    JSONL_SUFFIXES,
    TSV_SUFFIXES,
    TextLine,
    format_suffix,
    iter_jsonl_texts,
    iter_tsv_texts,
)

PACKAGED = ("bible", "wiki")
# ``bible`` alone: the Gospel of John (879 verses) in seven languages and five scripts, 6,153 documents;
# a multilingual collection a new user can index in minutes and query in any language.
DEFAULT_BIBLE = "bible:en,es,fr,de,ru,ar,zh:43"


@dataclass(frozen=True, slots=True)
class Document:
    """One corpus document; ``where`` (``FILE:LINE``) lets later errors, e.g. duplicate ids, point at it."""

    id: str
    text: str
    title: str = ""
    language: str = ""
    where: str = ""


def _language(path: Path, number: int, value: Any) -> str:
    """A document may leave its language out (``""``); one it gives must be a known code."""
    return "" if value is None or value == "" else language_code(value, path=path, line=number)


def _documents_of(path: Path, texts: Iterator[TextLine]) -> Iterator[Document]:
    for line in texts:
        language = _language(path, line.line, line.language)
        yield Document(line.id, line.text, line.title, language, f"{path}:{line.line}")


def _beir(folder: Path) -> Iterator[Document]:
    from babelir.data.beir import iter_corpus

    for doc_id, doc in iter_corpus(folder):
        yield Document(doc_id, doc.get("text", ""), doc.get("title", ""), "", f"{folder}")


def _parse_books(spec: str) -> range | None:
    if not spec:
        return None
    lo, _, hi = spec.partition("-")
    try:
        first, last = int(lo), int(hi or lo)
    except ValueError:
        raise DataError(None, None, f"bad Bible book range {spec!r} (e.g. 43 or 40-43)") from None
    if not 1 <= first <= last <= 66:
        raise DataError(None, None, f"Bible books {spec!r} outside 1-66")
    return range(first, last + 1)


def _bible(langs: list[str], books: range | None) -> Iterator[Document]:
    from babelir.data.sources import bible

    for lang in langs:
        try:
            translation = bible.resolve_translation(lang)
        except KeyError as err:
            raise DataError(None, None, str(err.args[0])) from None
        for vid, text in bible.load_verses(translation.code, books).items():
            yield Document(
                f"{translation.language}:{bible.verse_key(vid)}",
                text,
                "",
                translation.language,
                f"bible:{translation.code}",
            )


def _wiki(langs: list[str]) -> Iterator[Document]:
    from babelir.data.sources import wiki

    for lang in langs:
        try:
            articles = wiki.load_articles(lang)
        except KeyError as err:
            raise DataError(None, None, str(err.args[0])) from None
        for art in articles:
            yield Document(f"{lang}:{wiki.article_id(art.key)}", art.extract, art.title, lang, f"wiki:{lang}")


def _packaged_version(name: str) -> str:
    if name == "bible":
        from babelir.data.sources.bible import package_version
    else:
        from babelir.data.sources.wiki import package_version
    return package_version()


class CorpusReader:
    """A re-iterable corpus: each ``iter(reader)`` streams it from the start and recomputes ``sha256``.

    ``fingerprint`` is cheap (file sizes and modification times, or package versions) and is what a
    resumed build compares before trusting the shards already on disk.
    """

    def __init__(self, spec: str | os.PathLike):
        self.spec = str(spec)
        self.sha256: str | None = None
        self.count: int | None = None
        path = Path(self.spec)
        spec = DEFAULT_BIBLE if self.spec == "bible" and not path.exists() else self.spec
        name, _, rest = spec.partition(":")
        if name in PACKAGED and not path.exists():
            self.kind = name
            parts = rest.split(":") if rest else []
            self._langs = [x.strip() for x in (parts[0] if parts else "en").split(",") if x.strip()]
            self._books = _parse_books(parts[1]) if name == "bible" and len(parts) > 1 else None
            self.path: Path | None = None
            return
        if not path.exists():
            raise DataError(path, None, "no such corpus file or folder (or use bible:LANGS / wiki:LANGS)")
        self.path = path
        if path.is_dir():
            self.kind = "beir"
        else:
            suffix = format_suffix(path)
            if suffix in JSONL_SUFFIXES:
                self.kind = "jsonl"
            elif suffix in (*TSV_SUFFIXES, ".txt"):
                self.kind = "tsv"
            else:
                raise DataError(path, None, "unknown corpus format: name it .jsonl or .tsv (optionally .gz)")

    def fingerprint(self) -> dict[str, Any]:
        if self.path is None:
            return {"kind": self.kind, "spec": self.spec, "package": _packaged_version(self.kind)}
        files = sorted(p for p in self.path.rglob("*") if p.is_file()) if self.path.is_dir() else [self.path]
        stats = [[str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns] for f in files]
        return {"kind": self.kind, "spec": self.spec, "files": stats}

    def _documents(self) -> Iterator[Document]:
        if self.kind == "jsonl":
            return _documents_of(self.path, iter_jsonl_texts(self.path))  # type: ignore[arg-type]
        if self.kind == "tsv":
            return _documents_of(self.path, iter_tsv_texts(self.path, language_column=True))  # type: ignore[arg-type]
        if self.kind == "beir":
            return _beir(self.path)  # type: ignore[arg-type]
        if self.kind == "bible":
            return _bible(self._langs, self._books)
        return _wiki(self._langs)

    def __iter__(self) -> Iterator[Document]:
        digest = hashlib.sha256()
        count = 0
        for doc in self._documents():
            if not doc.id or any(ch.isspace() for ch in doc.id):  # found now, not after encoding everything
                raise DataError(doc.where or self.spec, None, f"document id {doc.id!r} is empty or contains "
                                "whitespace, which a TREC run (what search writes) cannot hold; change the id")
            digest.update(
                json.dumps([doc.id, doc.title, doc.text, doc.language], ensure_ascii=False).encode()
            )
            digest.update(b"\n")
            count += 1
            yield doc
        self.sha256, self.count = digest.hexdigest(), count


def passage(doc: Document) -> str:
    """What the encoder sees: ``title text``, joined exactly as training and evaluation join BEIR docs."""
    from babelir.data.beir import join_title

    return join_title(doc.title, doc.text)


def iter_query_file(path: str | os.PathLike) -> Iterator[tuple[str, str]]:
    """``(query_id, text)`` from a queries file: JSONL (``_id``/``id`` + ``text``), TSV (``qid<TAB>text``,
    read like a corpus file) or a BEIR folder (its ``queries.jsonl``). Empty query texts are an error
    naming the line; a title or language given with a query is not part of it."""
    path = Path(path)
    if path.is_dir():
        from babelir.data.beir import iter_queries

        yield from iter_queries(path)
        return
    if format_suffix(path) not in JSONL_SUFFIXES:
        yield from ((line.id, line.text) for line in iter_tsv_texts(path, language_column=True))
        return
    for line in iter_jsonl_texts(path):
        if not line.text.strip():
            raise DataError(path, line.line, "empty text in field 'text'")
        yield line.id, line.text
