"""Retrievers rank a benchmark's corpus for each query: dense (cosine over cached embeddings),
late interaction (MaxSim over token vectors) and BM25, behind one small ``Retriever`` interface."""

from __future__ import annotations

import importlib.metadata
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from babelir.evaluation.retrieval.embeddings import CacheStats, EmbeddingCache, encode_with_cache
from babelir.evaluation.retrieval.encoders import Encoder, SentenceTransformerEncoder
from babelir.evaluation.retrieval.search import exact_search
from babelir.identity import prompt_for


class Retriever(ABC):
    """Ranks a benchmark's corpus for each of its queries."""

    name: str
    languages: frozenset[str] | None = None

    @abstractmethod
    def search(self, bench, k: int, batch_size: int, show_progress: bool) -> tuple[dict, dict[str, Any]]:
        """``(run, timings)`` for a :class:`babelir.evaluation.benchmarks.Benchmark`."""

    @abstractmethod
    def describe(self) -> dict[str, Any]: ...

    def supports(self, language: str) -> bool:
        return self.languages is None or language.split("-")[0] in self.languages


class DenseRetriever(Retriever):
    """Encode (through the embedding cache) and search exactly by cosine similarity."""

    def __init__(self, encoder: Encoder, cache_root: str | os.PathLike | None = None, use_cache: bool = True):
        self.encoder = encoder
        self.name = encoder.name
        self.languages = encoder.languages
        self.cache_root = cache_root
        self.use_cache = use_cache
        self.stats = CacheStats()

    def embed(
        self,
        texts: Sequence[str],
        role: str,
        batch_size: int = 32,
        show_progress: bool = False,
        desc: str = "",
    ) -> tuple[np.ndarray, CacheStats]:
        """Cached embeddings of ``texts`` (the public entry point for bias reports and tools)."""
        from tqdm.auto import tqdm

        role_key = role if self.encoder.uses_roles else "any"
        cache = (
            EmbeddingCache(self.encoder.fingerprint(), role_key, self.cache_root) if self.use_cache else None
        )
        bar = None

        def on_missing(n: int) -> None:
            nonlocal bar
            if show_progress and n:
                bar = tqdm(total=n, desc=desc or f"encode {role}s", unit="text", leave=False)

        def progress(n: int) -> None:
            if bar is not None:
                bar.update(n)

        def encode_fn(chunk: list[str]) -> np.ndarray:
            return self.encoder.encode(chunk, role, batch_size, progress)

        try:
            emb, stats = encode_with_cache(list(texts), encode_fn, cache, on_missing)
        finally:
            if bar is not None:
                bar.close()
        self.stats.add(stats)
        return emb, stats

    def search(self, bench, k: int, batch_size: int, show_progress: bool) -> tuple[dict, dict[str, Any]]:
        qids = list(bench.queries)
        dids = list(bench.corpus)
        q_emb, q_stats = self.embed(
            [bench.queries[q] for q in qids], bench.meta.query_role, batch_size, show_progress,
            desc=f"{bench.name}: queries",
        )  # fmt: skip
        d_emb, d_stats = self.embed(
            [bench.corpus[d] for d in dids], bench.meta.document_role, batch_size, show_progress,
            desc=f"{bench.name}: documents",
        )  # fmt: skip
        start = time.perf_counter()
        q_emb, d_emb = self.adjust(bench, qids, dids, q_emb, d_emb, batch_size)
        run = self.rank(bench, qids, dids, q_emb, d_emb, k)
        return run, {
            "encode_s": round(q_stats.seconds + d_stats.seconds, 3),
            "search_s": round(time.perf_counter() - start, 3),
            "encoded_texts": q_stats.encoded + d_stats.encoded,
            "cached_texts": q_stats.cached + d_stats.cached,
        }

    def adjust(self, bench, qids: list[str], dids: list[str], q_emb: np.ndarray, d_emb: np.ndarray,
               batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """The vectors search compares (as encoded here; a subclass may correct them first)."""
        return q_emb, d_emb

    def rank(self, bench, qids: list[str], dids: list[str], q_emb: np.ndarray, d_emb: np.ndarray, k: int) -> dict:
        """The run from the vectors search compares (by cosine here; a subclass may score otherwise)."""
        return exact_search(q_emb, d_emb, qids, dids, k=k, exclude=bench.exclude)

    def describe(self) -> dict[str, Any]:
        return {"type": "dense", **self.encoder.describe()}


class LateInteractionRetriever(Retriever):
    """ColBERT-style MaxSim (:func:`babelir.losses.maxsim`) over a sentence-transformers model's token
    vectors, for models trained with ``retriever: late-interaction``.

    Exact: every query is scored against every document, documents in chunks so memory stays bounded.
    Token vectors are not cached on disk (tens of vectors per text); each evaluation encodes again.
    """

    def __init__(self, encoder: SentenceTransformerEncoder, doc_chunk: int = 256, query_chunk: int = 16):
        self.encoder = encoder
        self.name = encoder.name
        self.languages = encoder.languages
        self.doc_chunk, self.query_chunk = doc_chunk, query_chunk

    def encode_tokens(self, texts: list[str], role: str, batch_size: int, show_progress: bool, desc: str) -> list:
        """One ``(tokens, dim)`` float32 tensor per text (padding removed), with the role's prompt."""
        import torch
        from tqdm.auto import tqdm

        model = self.encoder.model
        out = []
        with torch.inference_mode():
            for start in tqdm(range(0, len(texts), batch_size), desc=desc, disable=not show_progress, leave=False):
                out += model.encode(
                    texts[start : start + batch_size], prompt=prompt_for(model, role), batch_size=batch_size,
                    output_value="token_embeddings", convert_to_numpy=False, show_progress_bar=False,
                )  # fmt: skip
        return [t.float().cpu() for t in out]

    def scores(self, queries: list, documents: list) -> np.ndarray:
        """MaxSim scores ``(len(queries), len(documents))`` from per-text token tensors."""
        import torch
        import torch.nn.functional as F
        from sentence_transformers.util import mean_maxsim
        from torch.nn.utils.rnn import pad_sequence

        def padded(tensors: list) -> tuple:
            mask = pad_sequence([torch.ones(len(t)) for t in tensors], batch_first=True)
            return pad_sequence(tensors, batch_first=True), mask

        out = np.zeros((len(queries), len(documents)), dtype=np.float32)
        with torch.inference_mode():
            for d0 in range(0, len(documents), self.doc_chunk):
                d_tok, d_mask = padded(documents[d0 : d0 + self.doc_chunk])
                for q0 in range(0, len(queries), self.query_chunk):
                    q_tok, q_mask = padded(queries[q0 : q0 + self.query_chunk])
                    # as babelir.losses.maxsim: sentence-transformers' MeanMaxSim over normalised token vectors
                    block = mean_maxsim(F.normalize(q_tok, dim=-1), F.normalize(d_tok, dim=-1), q_mask, d_mask)
                    block = block.numpy()
                    out[q0 : q0 + len(block), d0 : d0 + block.shape[1]] = block
        return out

    def search(self, bench, k: int, batch_size: int, show_progress: bool) -> tuple[dict, dict[str, Any]]:
        from babelir.evaluation.retrieval.search import rank_scores

        qids, dids = list(bench.queries), list(bench.corpus)
        start = time.perf_counter()
        q_tok = self.encode_tokens([bench.queries[q] for q in qids], bench.meta.query_role, batch_size,
                                   show_progress, f"{bench.name}: queries")
        d_tok = self.encode_tokens([bench.corpus[d] for d in dids], bench.meta.document_role, batch_size,
                                   show_progress, f"{bench.name}: documents")
        encoded = time.perf_counter()
        run = rank_scores(self.scores(q_tok, d_tok), qids, dids, k=k, exclude=bench.exclude)
        return run, {
            "encode_s": round(encoded - start, 3),
            "search_s": round(time.perf_counter() - encoded, 3),
            "encoded_texts": len(qids) + len(dids),
            "cached_texts": 0,
        }

    def describe(self) -> dict[str, Any]:
        return {"type": "late-interaction", "score": "maxsim (mean over query tokens)", **self.encoder.describe()}


class BM25Retriever(Retriever):
    """bm25s over :func:`babelir.retrieval.lexical.tokenize` (stemmer per language, CJK bigrams)."""

    def __init__(self, k1: float = 1.2, b: float = 0.75):
        self.name = "bm25"
        self.k1, self.b = k1, b

    def search(self, bench, k: int, batch_size: int, show_progress: bool) -> tuple[dict, dict[str, Any]]:
        from babelir.retrieval.lexical import bm25_search, tokenize_all

        start = time.perf_counter()
        qids = list(bench.queries)
        dids = list(bench.corpus)
        d_tok = tokenize_all([bench.corpus[d] for d in dids], [bench.doc_language(d) for d in dids])
        q_tok = tokenize_all([bench.queries[q] for q in qids], [bench.query_language(q) for q in qids])
        tok_s = time.perf_counter() - start
        run = bm25_search(d_tok, q_tok, qids, dids, k=k, exclude=bench.exclude, k1=self.k1, b=self.b)
        return run, {"tokenize_s": round(tok_s, 3), "search_s": round(time.perf_counter() - start - tok_s, 3)}

    def describe(self) -> dict[str, Any]:
        from babelir.retrieval.lexical import STEMMERS

        return {
            "type": "lexical",
            "name": self.name,
            "implementation": f"bm25s {importlib.metadata.version('bm25s')} (method=lucene)",
            "k1": self.k1,
            "b": self.b,
            "stemmer": f"PyStemmer {importlib.metadata.version('PyStemmer')} Snowball, languages: "
            + ", ".join(sorted(STEMMERS)),
            "cjk": "overlapping character bigrams (zh, ja, ko)",
        }
