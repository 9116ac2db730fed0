"""The lexical part of an index (``babelir index --lexical``): babelir's BM25 over the stored documents.

Each document is tokenised with its own language's rules (:func:`babelir.retrieval.lexical.tokenize`: a
Snowball stemmer where PyStemmer has one, CJK bigrams; the language field, or the one identified at
build), in the documents' row order, so a BM25 document number is the faiss row and the two parts of a
hybrid search name documents alike. It is written after the last shard, from the document store, into
``OUT/lexical/`` (bm25s's own files, written beside and swapped in whole); an interrupted build keeps
its finished shards and redoes only this step.
"""

from __future__ import annotations

import importlib.metadata
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from babelir.index.layout import DOCS_FILE, LEXICAL_DIR
from babelir.index.store import DocStore
from babelir.retrieval.lexical import STEMMERS, LexicalIndex, tokenize
from babelir.utils.atomic import atomic_directory

READ_ROWS = 10_000  # documents read from the store at a time


def _folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def build_lexical(folder: Path, rows: int, say: Callable[[str], None]) -> dict[str, Any]:
    """Tokenise the ``rows`` stored documents, index them with BM25 and save the index; returns the
    manifest's ``lexical`` entry."""
    from babelir.data.beir import join_title

    t0 = time.perf_counter()
    store = DocStore(folder / DOCS_FILE)
    tokens: list[list[str]] = []
    for start in range(0, rows, READ_ROWS):
        docs = store.get(range(start, min(start + READ_ROWS, rows)))
        for row in range(start, min(start + READ_ROWS, rows)):
            _, title, text, language = docs[row]
            tokens.append(tokenize(join_title(title, text), language or None))
    say(f"lexical: {rows} documents tokenised ({time.perf_counter() - t0:.1f} s); indexing with BM25")
    index = LexicalIndex.build(tokens)
    with atomic_directory(folder / LEXICAL_DIR) as staging:
        index.save(staging)
    seconds = round(time.perf_counter() - t0, 3)
    return {
        "dir": LEXICAL_DIR,
        "documents": rows,
        **index.parameters,
        "implementation": f"bm25s {importlib.metadata.version('bm25s')}",
        "tokenizer": "babelir.retrieval.lexical: per document language, Snowball stemmers for "
        + ", ".join(sorted(STEMMERS)) + "; CJK character bigrams",
        "seconds": seconds,
        "bytes": _folder_bytes(folder / LEXICAL_DIR),
    }
