"""Streaming corpus readers for ``babelir index``: JSONL, TSV, BEIR folders and the packaged sources.

Every reader yields :class:`Document` records one at a time (constant memory for corpora of millions of
lines) and names ``FILE:LINE`` in every error. Formats:

* JSONL: ``{"_id" | "id": str|int, "text": str, "title"?: str, "language"?: str}`` one object per line;
  other fields are ignored, blank lines skipped.
* TSV: ``id<TAB>text[<TAB>language]``, no header (a first line ``id<TAB>text...`` is taken as a header).
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

from babelir.data._lines import iter_json_objects, iter_lines, require_str
from babelir.data.errors import DataError
from babelir.data.languages import normalize_language

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
    if value is None or value == "":
        return ""
    normalized = normalize_language(value) if isinstance(value, str) else None
    if normalized is None:
        raise DataError(path, number, f"unknown language code {value!r} (expected ISO 639-1, e.g. 'de')")
    return normalized


def _jsonl(path: Path) -> Iterator[Document]:
    for number, obj in iter_json_objects(path):
        field = "_id" if "_id" in obj else "id"
        doc_id = require_str(path, number, obj, field, is_id=True).strip()
        text = require_str(path, number, obj, "text", allow_empty=True)
        title = obj.get("title") or ""
        if not isinstance(title, str):
            raise DataError(path, number, f"field 'title' must be a string, got {type(title).__name__}")
        if not text.strip() and not title.strip():
            raise DataError(path, number, f"document {doc_id!r} has neither text nor title")
        yield Document(doc_id, text, title, _language(path, number, obj.get("language")), f"{path}:{number}")


def _tsv(path: Path) -> Iterator[Document]:
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        fields = line.split("\t")
        if number == 1 and [f.strip().lower() for f in fields[:2]] in (["id", "text"], ["_id", "text"]):
            continue
        if len(fields) not in (2, 3):
            raise DataError(path, number, f"expected id<TAB>text[<TAB>language], got {len(fields)} columns")
        doc_id, text = fields[0].strip(), fields[1].strip()
        if not doc_id:
            raise DataError(path, number, "empty document id")
        if not text:
            raise DataError(path, number, f"empty text for document {doc_id!r}")
        lang = _language(path, number, fields[2].strip()) if len(fields) == 3 else ""
        yield Document(doc_id, text, "", lang, f"{path}:{number}")


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
            yield Document(f"{lang}:{art.key}", art.extract, art.title, lang, f"wiki:{lang}")


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
            suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
            last = suffixes[-1] if suffixes else ""
            if last in (".jsonl", ".json", ".ndjson"):
                self.kind = "jsonl"
            elif last in (".tsv", ".tab", ".txt"):
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
            return _jsonl(self.path)  # type: ignore[arg-type]
        if self.kind == "tsv":
            return _tsv(self.path)  # type: ignore[arg-type]
        if self.kind == "beir":
            return _beir(self.path)  # type: ignore[arg-type]
        if self.kind == "bible":
            return _bible(self._langs, self._books)
        return _wiki(self._langs)

    def __iter__(self) -> Iterator[Document]:
        digest = hashlib.sha256()
        count = 0
        for doc in self._documents():
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
    """``(query_id, text)`` from a queries file: JSONL (``_id``/``id`` + ``text``), TSV (``qid<TAB>text``)
    or a BEIR folder (its ``queries.jsonl``). Empty query texts are an error naming the line."""
    path = Path(path)
    if path.is_dir():
        from babelir.data.beir import iter_queries

        yield from iter_queries(path)
        return
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if suffixes and suffixes[-1] in (".jsonl", ".json", ".ndjson"):
        for number, obj in iter_json_objects(path):
            field = "_id" if "_id" in obj else "id"
            yield (
                require_str(path, number, obj, field, is_id=True).strip(),
                require_str(path, number, obj, "text"),
            )
        return
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2 or not fields[0].strip() or not fields[1].strip():
            raise DataError(path, number, "expected query-id<TAB>text with both non-empty")
        yield fields[0].strip(), fields[1].strip()
