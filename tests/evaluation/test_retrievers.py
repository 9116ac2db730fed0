"""Retrievers: late interaction scores are MaxSim over the model's token vectors."""

from __future__ import annotations

import pytest

from babelir.evaluation.retrieval.retrievers import LateInteractionRetriever


def test_late_interaction_scores_are_maxsim_of_token_vectors(tiny_encoder) -> None:
    import torch

    from babelir.losses import maxsim

    retriever = LateInteractionRetriever(tiny_encoder, doc_chunk=2, query_chunk=1)  # chunk edges exercised
    queries = retriever.encode_tokens(["a cat", "heavy rain in town"], "query", 8, False, "")
    docs = retriever.encode_tokens(["the cat sleeps", "rain", "bread is baked every morning"], "document", 8, False, "")
    assert [len(t) for t in docs][1] < [len(t) for t in docs][2]  # padding removed per text
    got = retriever.scores(queries, docs)
    for i, q in enumerate(queries):
        for j, d in enumerate(docs):
            want = maxsim(q[None], torch.ones(1, len(q)), d[None], torch.ones(1, len(d)))
            assert got[i, j] == pytest.approx(float(want), abs=1e-5)
