"""Streaming readers for the three training streams: English retrieval examples, parallel pairs, sentences.

One module per stream, each documenting its formats: :mod:`~babelir.data.readers.retrieval`
(``RetrievalExample``: JSONL, TSV, BEIR folders), :mod:`~babelir.data.readers.parallel` (``ParallelPair``:
TSV with or without a header, two aligned text files) and :mod:`~babelir.data.readers.sentences`
(``Sentence``: plain text, JSONL). Every name stays importable from ``babelir.data.readers``.

The rules all of them share:

* Every reader is an iterator over one file (constant memory: millions of lines are fine); the path is
  checked when the reader is created, every line when it is reached.
* Bad input stops with a DataError ``FILE:LINE: problem``: malformed JSON, a missing column or field,
  empty text, invalid UTF-8, an unknown language code, aligned files of different lengths.
* Surrounding whitespace of every text is removed. ``.gz`` files are read transparently. Unknown JSON
  fields and extra named TSV columns are ignored (so files may carry ids or provenance, as babelir's
  default data does).
* Language codes are ISO 639-1 with optional subtags (:mod:`babelir.data.languages`), normalised.
* Blank lines: skipped in JSONL (a convention of the format); an error in text and TSV files, where they
  would be empty texts, unless ``skip_empty=True`` for plain-text files (common in scraped bitexts).
"""

from __future__ import annotations

from babelir.data.readers.common import language_argument
from babelir.data.readers.parallel import ParallelPair, read_parallel, read_parallel_text, read_parallel_tsv
from babelir.data.readers.retrieval import (
    RetrievalExample,
    read_retrieval,
    read_retrieval_beir,
    read_retrieval_jsonl,
    read_retrieval_tsv,
)
from babelir.data.readers.sentences import Sentence, read_sentences, read_sentences_jsonl, read_sentences_text

__all__ = [
    "ParallelPair",
    "RetrievalExample",
    "Sentence",
    "language_argument",
    "read_parallel",
    "read_parallel_text",
    "read_parallel_tsv",
    "read_retrieval",
    "read_retrieval_beir",
    "read_retrieval_jsonl",
    "read_retrieval_tsv",
    "read_sentences",
    "read_sentences_jsonl",
    "read_sentences_text",
]
