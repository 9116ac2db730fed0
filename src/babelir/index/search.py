"""Searching a built index: :class:`Index` (``Index.load(path)``, ``Index.search(texts, k)``).

Queries are encoded with the model named in the manifest (``query`` role, so e5's ``query: `` prompt),
searched in faiss with the efSearch / nprobe the index was built with, and the hits are completed from
the SQLite document store. A language filter restricts the search inside faiss (an id bitmap), so a
filtered search still returns ``k`` hits when the language has that many documents.

Language neutralization (:mod:`babelir.index.neutral`): when the index has statistics, each query's
language is taken as given (``query_language``) or identified among the index's languages, the query's
statistics are removed and the neutral index is searched. A query whose language is unknown or has no
statistics is searched as it is in the raw index; :meth:`Index.query` says which happened
(:class:`QueryLanguage`). ``Index.load(..., neutralize=False)`` searches raw, as before.

Hybrid search (an index built with ``--lexical``): the dense top ``depth`` and BM25's top ``depth``
(the query tokenised with its language: given, else identified among the index's languages) are fused by
:func:`babelir.retrieval.fusion.fuse`, the function ``babelir evaluate --scoring hybrid:...`` measures.
The fusion is the one asked for, else the index's ``fusion.json`` (``babelir tune-fusion``), else the
shipped one (:data:`babelir.retrieval.fusion.SHIPPED_FUSION`) for an index with a lexical part.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Any, overload

import faiss
import numpy as np

from babelir.data.errors import DataError
from babelir.data.languages import language_code
from babelir.encoding.protocol import ModelEncoder
from babelir.identity import check_texts
from babelir.index.ann import AnnSettings, RowFilter, search_params
from babelir.index.fusion import read_fusion
from babelir.index.hits import Hit, QueryLanguage, QueryResult
from babelir.index.layout import MANIFEST, NEUTRAL_INDEX_FILE, rebuild_hint
from babelir.index.store import DocStore
from babelir.index.validate import checked_manifest, read_faiss, validate_index
from babelir.retrieval.fusion import FusionSettings
from babelir.utils.errors import IndexFileError, check_count

log = logging.getLogger(__name__)

__all__ = ["Hit", "Index", "QueryLanguage", "QueryResult", "shared_encoder", "validate_index"]  # validate_index: for the server's checks


@functools.lru_cache(maxsize=2)
def shared_encoder(name_or_path: str, backend: str = "torch", device: str | None = None) -> ModelEncoder:
    """One loaded encoder (:class:`~babelir.encoding.ModelEncoder`, the protocol evaluation uses too) per
    (model, backend, device) and process: inference never mutates it, and loading me5-small costs seconds
    and ~0.5 GB, so building, searching and serving in one process share it."""
    return ModelEncoder.load(name_or_path, device=device, backend=backend)


def manifest_settings(path: Path, manifest: dict[str, Any]) -> AnnSettings:
    """The search settings an index was built with, checked (a hand-edited 0 would abort faiss or cut hits)."""
    stored = dict(manifest["index"])
    try:
        return AnnSettings(**{k: v for k, v in stored.items() if k in AnnSettings.__dataclass_fields__})
    except ValueError as err:
        raise DataError(path / MANIFEST, None, f"index settings: {err}; set a positive value there, or rebuild "
                        "the index") from None


class Index:
    """A loaded index: faiss vectors + document store + the query encoder (loaded on first search)."""

    def __init__(self, path: Path, manifest: dict[str, Any], faiss_index: faiss.Index, store: DocStore,
                 neutralizer: Any = None, neutral_faiss: faiss.Index | None = None):
        self.path = path
        self.neutralizer = neutralizer  # a babelir.encoding.neutral.LanguageNeutralizer, or None: raw search
        self.neutral_faiss = neutral_faiss
        self.manifest = manifest
        self.faiss = faiss_index
        self.store = store
        self.settings = manifest_settings(path, manifest)
        self._encoder: ModelEncoder | None = None
        self._model_name: str = manifest["model"]["name"]
        self._model_path: str = manifest["model"].get("path", "")
        self._backend: str = "torch"
        self._device: str | None = None
        self._lock = threading.Lock()
        self._filters: dict[str, RowFilter] = {}
        self._lexical: Any = None  # babelir.retrieval.lexical.LexicalIndex, loaded on the first hybrid search
        self.identifier: Any = None  # babelir.data.langid.LanguageIdentifier over its languages (hybrid search)
        self.fusion: FusionSettings | None = read_fusion(path) if self.has_lexical else None

    @classmethod
    def load(
        cls, path: str | os.PathLike, model: str | None = None, backend: str = "torch", model_obj: Any = None,
        device: str | None = None, neutralize: bool = True,
    ) -> Index:
        """Open an index folder written by ``babelir index``.

        ``model`` overrides the query encoder named in the manifest (e.g. a moved model directory);
        ``backend`` picks ``torch``, ``onnx`` or ``onnx-int8`` for queries; ``model_obj`` injects an
        already loaded encoder (tests, or a server sharing one model between indexes); ``device`` is where
        the query encoder runs (``auto``, ``cpu``, ``cuda``, ``cuda:N``; the torch backend only);
        ``neutralize`` uses the index's language statistics when it has them (an index built without
        them, or before babelir had them, searches raw either way).
        """
        path = Path(path)
        manifest = checked_manifest(path)  # validate_index: each damaged file named, before faiss reads it
        manifest_settings(path, manifest)  # before the vectors and the store are opened
        index = read_faiss(path, manifest)
        store = DocStore(path / manifest["docs"], rebuild_hint(path, manifest))
        neutralizer, neutral_faiss = None, None
        entry = manifest.get("neutralization") if isinstance(manifest.get("neutralization"), dict) else {}
        if neutralize and entry.get("file"):
            from babelir.encoding.neutral import LanguageNeutralizer

            hint = f"{rebuild_hint(path, manifest)}, or search without language statistics (--no-neutralize)"
            if not (path / entry["file"]).is_file():
                raise IndexFileError(path / entry["file"], None, f"missing; {hint}")
            neutralizer = LanguageNeutralizer.load(path / entry["file"])
            neutral_faiss = read_faiss(path, manifest, entry.get("index_file", NEUTRAL_INDEX_FILE), hint)
        out = cls(path, manifest, index, store, neutralizer, neutral_faiss)
        if model:
            out._model_name, out._model_path = model, ""
        out._backend = backend
        out._device = device
        if model_obj is not None:  # a loaded model behind the one protocol, as shared_encoder gives it
            out._encoder = model_obj if isinstance(model_obj, ModelEncoder) else ModelEncoder(model_obj, backend=backend)
        return out

    def __len__(self) -> int:
        return int(self.faiss.ntotal)

    @property
    def has_lexical(self) -> bool:
        """Whether the index was built with ``--lexical`` (a BM25 part for hybrid search)."""
        entry = self.manifest.get("lexical")
        return isinstance(entry, dict) and bool(entry.get("dir"))

    @property
    def lexical(self) -> Any:
        """The BM25 part (:class:`babelir.retrieval.lexical.LexicalIndex`, memory-mapped), loaded once."""
        if self._lexical is None:
            from babelir.index.hybrid import load_lexical

            with self._lock:
                self._lexical = self._lexical or load_lexical(self)
        return self._lexical

    def fusion_for(self, fusion: FusionSettings | str | None = "default") -> FusionSettings | None:
        """The fusion a search uses: ``"default"`` is the index's own (:attr:`fusion`: its ``fusion.json``,
        else the shipped fusion when it has a lexical part), ``None`` or ``"none"`` is dense alone, else a
        spec or settings."""
        if fusion == "default":
            return self.fusion
        if fusion is None or fusion == "none":
            return None
        settings = fusion if isinstance(fusion, FusionSettings) else FusionSettings.parse(fusion)
        self.lexical  # noqa: B018 -- refused here, in one line, when the index has no lexical part
        return settings

    @property
    def model(self) -> Any:
        """The loaded model under :attr:`encoder` (a ``SentenceTransformer`` or an ONNX encoder)."""
        return self.encoder.model

    @property
    def encoder(self) -> ModelEncoder:
        """The query encoder, loaded once (thread-safe), with a warning if its files changed since indexing."""
        if self._encoder is None:
            with self._lock:
                if self._encoder is None:
                    name = self._model_name
                    if self._model_path and Path(self._model_path).is_dir():
                        name = self._model_path  # the exact directory the documents were encoded with
                    self._check_model(name)
                    self._encoder = shared_encoder(name, self._backend, self._device)
        return self._encoder

    def _check_model(self, name: str) -> None:
        """Warn when the query encoder's files differ from those the documents were encoded with:
        queries and documents from different models live in different spaces and rankings are noise."""
        from babelir.backbones import resolve_backbone
        from babelir.identity import model_fingerprint

        expected = self.manifest["model"].get("sha256")
        if expected and model_fingerprint(resolve_backbone(name)) != expected:
            warnings.warn(
                f"query model {name!r} differs from the model that encoded {self.path} "
                f"({self.manifest['model']['name']}); scores will be meaningless unless it is compatible",
                stacklevel=3,
            )

    def languages(self) -> dict[str, int]:
        return self.store.languages()

    def language_filter(self, language: str) -> RowFilter:
        """The rows of one language as a cached bitmap: faiss's id filter, and hybrid search's test of a
        candidate's language."""
        if language not in self._filters:
            self._filters[language] = RowFilter(self.store.rows_for_language(language), len(self))
        return self._filters[language]

    def encode_queries(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self.encoder.encode(texts, "query", batch_size)

    def search_vectors(
        self, vectors: np.ndarray, k: int = 10, language: str | None = None, neutral: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Faiss search: ``(scores, rows)``, rows ``-1`` where fewer than ``k`` documents qualify; ``neutral``
        searches the documents' neutralized vectors (the vectors given must be neutralized too)."""
        index = self.neutral_faiss if neutral and self.neutral_faiss is not None else self.faiss
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != index.d:
            raise ValueError(f"vectors of shape {vectors.shape}: this index holds vectors of dimension {index.d}; "
                             f"pass an (n, {index.d}) array from its model")
        check_count("k", k)
        selector = None
        if language is not None:
            filt = self.language_filter(language_code(language, "given as the language filter"))
            if filt.count == 0:
                n = len(vectors)
                return np.full((n, k), -np.inf, dtype=np.float32), np.full((n, k), -1, dtype=np.int64)
            selector = filt.selector
        k_eff = min(k, len(self))
        scores, rows = index.search(vectors, k_eff, params=search_params(index, self.settings, selector))
        return scores, rows

    def hits(self, scores: np.ndarray, rows: np.ndarray) -> list[list[Hit]]:
        """Turn faiss output into :class:`Hit` lists, fetching all needed documents in one query."""
        docs = self.store.get(int(r) for r in rows.ravel() if r >= 0)
        out: list[list[Hit]] = []
        for srow, rrow in zip(scores, rows, strict=True):
            hits = []
            for score, row in zip(srow, rrow, strict=True):
                if row < 0:
                    continue
                doc_id, title, text, lang = docs[int(row)]
                hits.append(Hit(doc_id, float(score), len(hits) + 1, text, title, lang))
            out.append(hits)
        return out

    def query_languages(self, texts: list[str], given: str | None = None) -> list[QueryLanguage]:
        """How each query would be neutralized: its language given or identified, and whether the index
        has statistics for it."""
        n = self.neutralizer
        if n is None:
            return [QueryLanguage(None, "none", False, "this index has no language statistics")] * len(texts)
        if not n.needs_language:
            return [QueryLanguage(given, "given" if given else "none", True)] * len(texts)
        if given is not None:
            lang = language_code(given, "given as the query language")
            if n.covers(lang):
                return [QueryLanguage(lang, "given", True)] * len(texts)
            return [QueryLanguage(lang, "given", False, f"no language statistics for {lang!r} in this index: "
                                  "searched as it is")] * len(texts)
        out = []
        for lang in n.identify(texts):
            if lang is None:
                out.append(QueryLanguage(None, "unknown", False, "language not identified: searched as it is"))
            else:
                out.append(QueryLanguage(lang, "identified", True))
        return out

    def query(
        self, texts: list[str], k: int = 10, language: str | None = None, query_language: str | None = None,
        fusion: FusionSettings | str | None = "default",
    ) -> list[QueryResult]:
        """Top ``k`` documents for each query and what neutralization did to it (:class:`QueryResult`).

        ``language`` filters the documents; ``query_language`` says the queries' language instead of
        identifying it (neutralization, and the stemmer of a hybrid search); ``fusion``: see
        :meth:`fusion_for`.
        """
        texts = check_texts(texts, "queries")
        check_count("k", k)
        blank = next((i for i, text in enumerate(texts) if not text.strip()), None)
        if blank is not None:  # as the command line and the server: a blank query has no answer
            raise ValueError(f"queries[{blank}] is blank; pass text to search for")
        if not texts:
            return []
        settings = self.fusion_for(fusion)  # refused before the queries are encoded
        return self.search_encoded(texts, self.encode_queries(texts), k, language, query_language, settings)

    def search_encoded(
        self, texts: list[str], vectors: np.ndarray, k: int = 10, language: str | None = None,
        query_language: str | None = None, fusion: FusionSettings | str | None = "default",
    ) -> list[QueryResult]:
        """:meth:`query` for queries already encoded (``vectors``, raw): the server encodes the queries of
        several requests in one forward pass, then searches each request here."""
        from babelir.index.hybrid import search_each_fusion  # one ranking path for search and tune-fusion

        [(_, results)] = search_each_fusion(self, texts, vectors, k, [self.fusion_for(fusion)], query_language,
                                            language)
        return results

    def dense_candidates(self, vectors: np.ndarray, langs: list[QueryLanguage], k: int,
                         language: str | None) -> tuple[np.ndarray, np.ndarray]:
        """Faiss search of each query, neutralized or as it is (as ``langs`` says): ``(scores, rows)``."""
        neutral = np.array([q.neutralized for q in langs], dtype=bool)
        parts = []  # (which queries, scores, rows): searched neutralized, and searched as they are
        if neutral.any():
            assert self.neutralizer is not None
            changed, _ = self.neutralizer.apply(
                vectors[neutral], [q.language for q, on in zip(langs, neutral, strict=True) if on], "query"
            )
            parts.append((neutral, *self.search_vectors(changed, k, language, neutral=True)))
        if (~neutral).any():
            parts.append((~neutral, *self.search_vectors(vectors[~neutral], k, language)))
        width = max(part[1].shape[1] for part in parts)  # an empty language filter answers k columns of -1
        scores = np.full((len(vectors), width), -np.inf, dtype=np.float32)
        rows = np.full((len(vectors), width), -1, dtype=np.int64)
        for which, part_scores, part_rows in parts:
            scores[which, : part_scores.shape[1]], rows[which, : part_rows.shape[1]] = part_scores, part_rows
        return scores, rows

    @overload
    def search(self, texts: str, k: int = 10, language: str | None = None,
               fusion: FusionSettings | str | None = "default") -> list[Hit]: ...

    @overload
    def search(self, texts: list[str], k: int = 10, language: str | None = None,
               fusion: FusionSettings | str | None = "default") -> list[list[Hit]]: ...

    def search(self, texts: str | list[str], k: int = 10, language: str | None = None,
               fusion: FusionSettings | str | None = "default"):
        """Top ``k`` documents for each query text (a single string gives a single list of hits);
        :meth:`query` also says what language neutralization did to each query. ``fusion``: a spec such
        as ``convex@0.3`` for a hybrid search, ``None`` for dense alone (default: the index's own)."""
        single = isinstance(texts, str)
        results = [r.hits for r in self.query([texts] if single else texts, k, language, fusion=fusion)]
        return results[0] if single else results
