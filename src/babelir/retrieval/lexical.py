"""BM25 (bm25s) with language-aware tokenisation: Snowball stemmers where PyStemmer has one, CJK bigrams.

Tokenisation choices, and why:

* Words are maximal runs of letters, digits and combining marks. Python's ``\\w`` alone splits Hindi and
  Bengali words at every vowel sign (those are combining marks, not letters), so marks are added.
* Text is lower-cased (``casefold``) and NFKC-normalised so full-width and compatibility forms match.
* Chinese, Japanese and Korean runs become overlapping character bigrams (single characters stay as
  unigrams), as Lucene's CJKAnalyzer does: no word segmenter is installed, bigrams need none, and they
  are the standard lexical baseline for these languages. Korean is space-separated but agglutinative
  (particles attach to nouns), so bigrams also help it.
* A Snowball stemmer (PyStemmer) is applied where one exists for the language; none for zh, ja, ko, bn,
  sw, vi, uk, tl, whose words are left as they are. In a pooled multilingual corpus every document and
  query is tokenised with its own language's rules.
* No stop-word lists: BM25's IDF already discounts frequent words, and lists exist for few languages.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

# ISO 639-1 -> PyStemmer (Snowball) algorithm, for the languages that have one.
STEMMERS: dict[str, str] = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "el": "greek",
    "en": "english", "es": "spanish", "et": "estonian", "eu": "basque", "fa": "persian", "fi": "finnish",
    "fr": "french", "ga": "irish", "hi": "hindi", "hu": "hungarian", "hy": "armenian", "id": "indonesian",
    "it": "italian", "lt": "lithuanian", "ne": "nepali", "nl": "dutch", "no": "norwegian", "pl": "polish",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian", "sv": "swedish", "ta": "tamil",
    "tr": "turkish", "yi": "yiddish",
}  # fmt: skip
CJK_LANGUAGES = frozenset({"zh", "ja", "ko"})


@functools.lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Word and CJK-character patterns, built once from the Unicode database of this Python."""
    marks: list[tuple[int, int]] = []
    for cp in range(sys.maxunicode + 1):
        if unicodedata.category(chr(cp)).startswith("M"):
            if marks and marks[-1][1] == cp - 1:
                marks[-1] = (marks[-1][0], cp)
            else:
                marks.append((cp, cp))
    mark_class = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in marks
    )
    word = re.compile(rf"(?:[^\W_]|[{mark_class}])+")
    cjk = re.compile(
        "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
        "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002ffff]+"
    )
    return word, cjk


def _cjk_bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


@functools.lru_cache(maxsize=64)
def _stemmer(language: str):
    algorithm = STEMMERS.get(language.split("-")[0])
    if algorithm is None:
        return None
    import Stemmer

    return Stemmer.Stemmer(algorithm)


def has_stemmer(language: str) -> bool:
    return language.split("-")[0] in STEMMERS


def tokenize(text: str, language: str | None) -> list[str]:
    """Index terms of ``text`` under ``language``'s rules (``None``: no stemming, CJK still bigrammed)."""
    word, cjk = _patterns()
    text = unicodedata.normalize("NFKC", text).casefold()
    tokens: list[str] = []
    for token in word.findall(text):
        if cjk.search(token):
            # split mixed runs: CJK stretches become bigrams, anything else stays a word
            pos = 0
            for match in cjk.finditer(token):
                if match.start() > pos:
                    tokens.append(token[pos : match.start()])
                tokens.extend(_cjk_bigrams(match.group()))
                pos = match.end()
            if pos < len(token):
                tokens.append(token[pos:])
        else:
            tokens.append(token)
    stemmer = _stemmer(language) if language else None
    if stemmer is not None:
        tokens = stemmer.stemWords(tokens)
    return tokens


def tokenize_all(texts: Iterable[str], languages: Sequence[str | None] | str | None) -> list[list[str]]:
    """Tokenise many texts, each with its own language (or one language for all)."""
    texts = list(texts)
    if languages is None or isinstance(languages, str):
        return [tokenize(t, languages) for t in texts]
    return [tokenize(t, lang) for t, lang in zip(texts, languages, strict=True)]


class LexicalIndex:
    """A bm25s BM25 index (Lucene variant; k1=1.2, b=0.75 as in Anserini's BEIR baselines) over token
    lists from :func:`tokenize`, whose document numbers are the positions of the texts indexed.

    The one BM25 of babelir: ``babelir evaluate bm25`` builds one in memory per benchmark, ``babelir index
    --lexical`` saves one in the index folder (bm25s's own files: sparse matrix as ``.npy``, vocabulary and
    parameters as JSON, no pickle) and search memory-maps it.
    """

    def __init__(self, retriever: Any):
        self.retriever = retriever

    @classmethod
    def build(cls, corpus_tokens: list[list[str]], k1: float = 1.2, b: float = 0.75) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        retriever.index(corpus_tokens, show_progress=False)
        return cls(retriever)

    def save(self, folder: str | os.PathLike) -> None:
        self.retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: str | os.PathLike, mmap: bool = True) -> LexicalIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(folder), mmap=mmap, show_progress=False))

    @property
    def parameters(self) -> dict[str, Any]:
        return {"k1": float(self.retriever.k1), "b": float(self.retriever.b), "method": self.retriever.method}

    def __len__(self) -> int:
        return int(self.retriever.scores["num_docs"])

    def search(
        self, query_tokens: list[list[str]], depth: int, weight_mask: np.ndarray | None = None
    ) -> list[list[tuple[int, float]]]:
        """For each query, up to ``depth`` ``(document number, score)`` by score (ties: lower number
        first); documents with score 0 (no query term, or masked out) are not returned, as a Lucene search
        would not return them. ``weight_mask`` (one weight per document) scales scores, 0 removes."""
        out: list[list[tuple[int, float]]] = [[] for _ in query_tokens]
        depth = min(depth, len(self))
        # bm25s rejects terms missing from the index (they cannot score anyway); a query left with no
        # term matches nothing and is not sent at all (bm25s's own empty token lies outside its matrix)
        vocab = self.retriever.vocab_dict
        known = [[t for t in toks if t in vocab and t] for toks in query_tokens]
        rows = [i for i, toks in enumerate(known) if toks]
        if not rows or depth <= 0:
            return out
        docs, scores = self.retriever.retrieve([known[i] for i in rows], k=depth, show_progress=False, n_threads=1,
                                               weight_mask=weight_mask)
        for row, i in enumerate(rows):
            hits = [(int(docs[row, j]), float(scores[row, j])) for j in range(depth) if scores[row, j] > 0.0]
            out[i] = sorted(hits, key=lambda hit: (-hit[1], hit[0]))
        return out


def bm25_search(
    corpus_tokens: list[list[str]],
    query_tokens: list[list[str]],
    query_ids: Sequence[str],
    doc_ids: Sequence[str],
    k: int = 100,
    exclude: Mapping[str, set[str]] | None = None,
    k1: float = 1.2,
    b: float = 0.75,
) -> dict[str, dict[str, float]]:
    """Top ``k`` by BM25 (:class:`LexicalIndex`) as a run ``qid -> docid -> score``; ``exclude`` removes
    documents from a query's ranking before the cut."""
    exclude = exclude or {}
    run: dict[str, dict[str, float]] = {qid: {} for qid in query_ids}
    if not doc_ids:
        return run
    extra = max((len(v) for v in exclude.values()), default=0)
    found = LexicalIndex.build(corpus_tokens, k1, b).search(query_tokens, min(len(doc_ids), k + extra))
    for qid, hits in zip(query_ids, found, strict=True):
        banned = exclude.get(qid, ())
        kept = [(doc_ids[i], score) for i, score in hits if doc_ids[i] not in banned]
        run[qid] = dict(kept[:k])
    return run
