"""Hybrid search over an index with a lexical part: BM25's candidates fused with the dense ones.

:func:`search_each_fusion` is what :meth:`babelir.index.Index.search_encoded` runs, for one fusion (or
none: dense alone), and ``babelir tune-fusion`` runs for a grid of them, so both rank the same way. For
a fusion (asked for, or set in the index's ``fusion.json``) each query is tokenised with its language
(given, else the one language neutralization identified, else identified here among the index's
languages; unknown: no stemmer), BM25 searches the lexical part (the language filter as a weight mask, as
faiss's id bitmap filters the dense part), and :func:`babelir.retrieval.fusion.fuse` ranks the two
candidate lists, the same function ``babelir evaluate --scoring hybrid:...`` measures.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import numpy as np

from babelir.data.languages import language_code
from babelir.index.hits import QueryLanguage, QueryResult
from babelir.index.layout import rebuild_hint
from babelir.retrieval.fusion import FusionSettings, fuse
from babelir.utils.errors import IndexFileError

# ``index`` below is a babelir.index.Index; typed Any because search.py imports this module (no cycle)
Index = Any


def load_lexical(index: Index) -> Any:
    """The lexical part of ``index`` (:class:`babelir.retrieval.lexical.LexicalIndex`, memory-mapped)."""
    from babelir.retrieval.lexical import LexicalIndex

    if not index.has_lexical:
        raise IndexFileError(index.path, None, "has no lexical part; rebuild it with babelir index ... --lexical "
                             "(the shards are reused) to search it with fusion")
    folder = index.path / index.manifest["lexical"]["dir"]
    try:
        return LexicalIndex.load(folder)
    except (OSError, ValueError, KeyError) as err:
        raise IndexFileError(folder, None, f"unreadable lexical part ({err}); "
                             f"{rebuild_hint(index.path, index.manifest)}") from None


def lexical_languages(index: Index, texts: list[str], langs: list[QueryLanguage], given: str | None) -> list[str | None]:
    """Each query's language for BM25's stemmer and fusion's slots: given, else the one neutralization
    identified, else identified here among the index's languages (``None``: unknown)."""
    if given is not None:
        return [language_code(given, "given as the query language")] * len(texts)
    out = [lang.language for lang in langs]
    missing = [i for i, lang in enumerate(out) if lang is None]
    if missing:
        if index.identifier is None:
            from babelir.data.langid import LanguageIdentifier, supported_languages

            known = [lang for lang in index.languages() if lang and lang.split("-")[0] in supported_languages()]
            index.identifier = LanguageIdentifier(known) if known else False
        if index.identifier:
            for i, lang in zip(missing, index.identifier.identify_many([texts[i] for i in missing]), strict=True):
                out[i] = lang
    return out


def lexical_candidates(
    index: Index, texts: list[str], langs: list[QueryLanguage], depth: int, language: str | None, given: str | None,
) -> tuple[list[str | None], list[list[tuple[int, float]]]]:
    """Each query's language (:func:`lexical_languages`) and BM25's top ``depth`` ``(row, score)`` pairs,
    under the language filter when one is given."""
    from babelir.retrieval.lexical import tokenize

    query_langs = lexical_languages(index, texts, langs, given)
    mask = None
    if language is not None:  # the language filter, the same bitmap faiss filters the dense part with
        mask = index.language_filter(language_code(language, "given as the language filter")).weights()
    found = index.lexical.search([tokenize(t, lang) for t, lang in zip(texts, query_langs, strict=True)],
                                 depth, weight_mask=mask)
    return query_langs, found


def rank_fused(
    index: Index, scores: np.ndarray, rows: np.ndarray, query_langs: list[str | None],
    found: list[list[tuple[int, float]]], k: int, settings: FusionSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """Both candidate lists of each query fused by ``settings`` and cut to ``k``: ``(scores, rows)``."""
    out_scores = np.full((len(query_langs), k), -np.inf, dtype=np.float32)
    out_rows = np.full((len(query_langs), k), -1, dtype=np.int64)
    for i, (lexical, query_lang) in enumerate(zip(found, query_langs, strict=True)):
        dense = {int(r): float(s) for s, r in zip(scores[i], rows[i], strict=True) if r >= 0}
        language_of = None
        if settings.mode == "slots" and query_lang is not None:  # whether a row is in the query's language
            own = index.language_filter(query_lang)
            language_of = functools.partial(_language_of, own, query_lang)
        for j, (row, score) in enumerate(fuse(dense, dict(lexical), settings, k, language_of, query_lang)):
            out_scores[i, j], out_rows[i, j] = score, row
    return out_scores, out_rows


def search_each_fusion(
    index: Index, texts: list[str], vectors: np.ndarray, k: int, fusions: list[FusionSettings | None],
    query_language: str | None = None, language: str | None = None,
) -> Iterator[tuple[str, list[QueryResult]]]:
    """``(spec, results)`` for each fusion of ``fusions`` in order (``None``: dense alone, spec ``"none"``):
    each query's top ``k`` (the language filter ``language`` on both parts when given), as
    :class:`QueryResult`. The faiss and BM25 candidates are computed once per candidate depth
    (``max(k, depth)``) instead of once per fusion, so a grid of fusions costs about one hybrid search;
    the hits of one fusion at a time are built, so memory stays that of one search. Two fusions with the
    same spec and different depths are refused (their results would share a key)."""
    plan = [(settings, *((settings.spec, max(k, settings.depth)) if settings else ("none", k)))
            for settings in fusions]
    depths: dict[str, int] = {}
    for _, spec, depth in plan:
        if depths.setdefault(spec, depth) != depth:
            raise ValueError(f"fusion {spec} is asked for at two depths ({depths[spec]} and {depth})")
    if not texts:
        for spec in depths:
            yield spec, []
        return
    langs = index.query_languages(texts, query_language)
    dense: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # depth -> faiss candidates (small arrays)
    lexical: dict[int, tuple[list[str | None], list[list[tuple[int, float]]]]] = {}  # depth -> BM25's
    for settings, spec, depth in plan:
        if depth not in dense:
            dense[depth] = index.dense_candidates(vectors, langs, depth, language)
        ranked = dense[depth]
        if settings is not None:
            if depth not in lexical:
                lexical[depth] = lexical_candidates(index, texts, langs, depth, language, query_language)
            ranked = rank_fused(index, *ranked, *lexical[depth], k, settings)
        label = settings.spec if settings else ""
        yield spec, [QueryResult(hits, lang, label) for hits, lang in zip(index.hits(*ranked), langs, strict=True)]


def _language_of(own: Any, language: str, row: int) -> str | None:
    """``language`` for a row of its filter ``own`` (a RowFilter), else None: all that slots compare."""
    return language if own.contains(row) else None
