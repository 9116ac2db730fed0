"""Lexical + dense in ``babelir evaluate``: ``--scoring hybrid:FUSION`` or ``--scoring DENSE+hybrid:FUSION``.

:class:`HybridRetriever` runs a dense retriever (``dense``, or any dense scoring before the ``+``, e.g.
``neutral+hybrid:convex@0.3`` fuses BM25 with the neutralized vectors an index with statistics searches)
and babelir's BM25 over the same benchmark, then fuses the two runs per query with
:func:`babelir.retrieval.fusion.fuse`, the function ``babelir search`` and ``babelir serve`` call, with
each query's and document's language from the benchmark. The fusion settings are part of the run's
description, so a result says which weight produced it.
"""

from __future__ import annotations

from typing import Any

from babelir.data.errors import DataError
from babelir.evaluation.retrieval.retrievers import BM25Retriever, Retriever
from babelir.retrieval.fusion import FusionSettings, fuse

PREFIX = "hybrid:"


def is_hybrid_scoring(scoring: str) -> bool:
    """``hybrid:FUSION`` or ``DENSE+hybrid:FUSION``."""
    return scoring.startswith(PREFIX) or f"+{PREFIX}" in scoring


def split_hybrid_scoring(scoring: str) -> tuple[str, FusionSettings]:
    """``(the dense part's scoring, the fusion settings)`` of a hybrid scoring (dense part ``dense`` when
    none is named)."""
    dense, _, fusion = scoring.rpartition(PREFIX)
    dense = dense.removesuffix("+") or "dense"
    try:
        return dense, FusionSettings.parse(fusion)
    except ValueError as err:
        raise DataError(None, None, f"--scoring {scoring}: {err}") from None


class HybridRetriever(Retriever):
    """A dense retriever's run and BM25's run of one benchmark, fused per query."""

    def __init__(self, dense: Retriever, settings: FusionSettings, lexical: Retriever | None = None):
        self.dense = dense
        self.lexical = lexical or BM25Retriever()
        self.settings = settings
        self.name = dense.name
        self.languages = dense.languages

    def search(self, bench, k: int, batch_size: int, show_progress: bool) -> tuple[dict, dict[str, Any]]:
        depth = max(k, self.settings.depth)
        dense_run, timings = self.dense.search(bench, depth, batch_size, show_progress)
        lexical_run, lexical_timings = self.lexical.search(bench, depth, batch_size, show_progress)
        run = {
            qid: dict(fuse(dense_run.get(qid, {}), lexical_run.get(qid, {}), self.settings, k,
                           bench.doc_language, bench.query_language(qid)))
            for qid in bench.queries
        }
        return run, {**timings, **{f"lexical_{key}": value for key, value in lexical_timings.items()}}

    def describe(self) -> dict[str, Any]:
        return {**self.dense.describe(), "fusion": self.settings.to_dict(), "lexical": self.lexical.describe()}
