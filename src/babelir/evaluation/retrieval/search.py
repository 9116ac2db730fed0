"""Exact inner-product search over L2-normalised embeddings (cosine), in query chunks.

Benchmarks here have at most ~175k documents, so brute force in numpy is exact, fast enough on two
cores and free of index-building noise; approximate indexes belong to ``babelir.index``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def exact_search(
    query_emb: np.ndarray,
    doc_emb: np.ndarray,
    query_ids: Sequence[str],
    doc_ids: Sequence[str],
    k: int = 100,
    exclude: Mapping[str, set[str] | frozenset[str]] | None = None,
    chunk: int = 512,
) -> dict[str, dict[str, float]]:
    """Top ``k`` documents per query by dot product, as a run ``qid -> docid -> score``.

    ``exclude`` removes documents from a query's ranking before the cut (the query's own verse, or
    its translations in a pooled corpus), so every query still gets ``k`` results. Ties are broken by
    corpus position, so the result is deterministic.
    """
    if query_emb.shape[0] != len(query_ids) or doc_emb.shape[0] != len(doc_ids):
        raise ValueError("embedding rows and ids differ in number")
    run: dict[str, dict[str, float]] = {}
    doc_t = np.ascontiguousarray(doc_emb.T, dtype=np.float32)
    for start in range(0, len(query_ids), chunk):
        scores = np.asarray(query_emb[start : start + chunk], dtype=np.float32) @ doc_t
        run.update(rank_scores(scores, query_ids[start : start + chunk], doc_ids, k, exclude))
    return run


def rank_scores(
    scores: np.ndarray,
    query_ids: Sequence[str],
    doc_ids: Sequence[str],
    k: int = 100,
    exclude: Mapping[str, set[str] | frozenset[str]] | None = None,
) -> dict[str, dict[str, float]]:
    """The run for a ``(queries, documents)`` score matrix: top ``k`` per row, ``exclude`` applied first,
    ties broken by corpus position (any scorer, e.g. late interaction, ranks through here)."""
    exclude = exclude or {}
    n_docs = len(doc_ids)
    extra = max((len(v) for v in exclude.values()), default=0)
    depth = min(n_docs, k + extra)
    doc_pos = {d: i for i, d in enumerate(doc_ids)}
    run: dict[str, dict[str, float]] = {}
    for row, qid in enumerate(query_ids):
        s = scores[row]
        banned = [doc_pos[d] for d in exclude.get(qid, ()) if d in doc_pos]
        if banned:
            s = s.copy()
            s[banned] = -np.inf
        top = np.argpartition(-s, depth - 1)[:depth] if depth < n_docs else np.arange(n_docs)
        # stable sort on (-score) over positions in corpus order: deterministic tie-breaking
        top = np.sort(top)
        top = top[np.argsort(-s[top], kind="stable")]
        hits: dict[str, float] = {}
        for i in top:
            if len(hits) == k:
                break
            if np.isfinite(s[i]):
                hits[doc_ids[i]] = float(s[i])
        run[qid] = hits
    return run
