"""Language neutralization: remove what marks a text's language from its embedding, after encoding.

A multilingual encoder places each language's texts in a region of their own; in a mixed-language
collection that pulls a query's own language to the top. Removing those statistics, fitted once from the
collection itself, is training-free. Methods from the field:

* ``centered``: per-language mean centering (Libovický, Rosa and Fraser 2020, "On the Language
  Neutrality of Pre-trained Multilingual Representations", Findings of EMNLP): ``x - mu_lang``, then
  re-normalised.
* ``lir:R``: language information removal (Yang et al. 2021, EMNLP): project out the top ``R`` right
  singular vectors of the language's embedding matrix, then re-normalise.
* ``leace``: closed-form linear concept erasure (Belrose et al. 2023, "LEACE: Perfect linear concept
  erasure in closed form", NeurIPS), through EleutherAI's ``concept-erasure`` package: one affine map
  ``x - W^+ P W (x - mu)`` fitted on language-labelled vectors after which no linear classifier can
  tell the language better than chance. One map for every text: a query needs no language.

Statistics are per language *and role*: queries and documents carry different prompts (``query: ``
vs ``passage: ``) and lengths, so each side is corrected with statistics of its own kind. The document
side comes from the collection's own vectors (free: they are encoded anyway). The query side is the
question: ``query_statistics`` names the estimate (:data:`QUERY_STATISTICS`), chosen on pool dev
(``reports/neutralization.md``).

A language with fewer than ``min_documents`` documents gets no statistics: its texts are left as
they are, and :func:`fit_neutralizer` names it. :class:`LanguageNeutralizer` is what is stored (an
``.npz`` of plain arrays, no pickle) and applied by ``babelir index``, ``search``, ``serve``, ``encode``
and ``evaluate --scoring neutral``.
"""

from __future__ import annotations

import functools
import io
import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from babelir.data.errors import DataError
from babelir.utils.errors import check_count
from babelir.utils.seeding import derive_seed

METHOD_PATTERN = re.compile(r"centered|leace|lir:([1-9][0-9]?)")
# How the query side's statistics are estimated (the document side always uses the documents' vectors):
#   documents-as-queries: a sample of each language's documents encoded again in the query role;
#   documents: the documents' own statistics on both sides (costs nothing more);
#   short-documents-as-queries: the first SHORT_WORDS words of those sampled documents, in the query
#   role (queries are short; a short text sits where queries sit).
QUERY_STATISTICS = ("documents-as-queries", "documents", "short-documents-as-queries")
SHORT_WORDS = 12
MIN_DOCUMENTS = 20  # fewer documents than this in a language: no statistics for it (too noisy)
# per language at most; chosen on pool dev (reports/neutralization.md): 10 to 200 documents scored within
# 0.6 points of each other, and 50 keeps the extra encoding near 5% of a corpus of ~900 per language
QUERY_SAMPLE = 50
FORMAT = 1

Encode = Callable[[list[str], str], np.ndarray]  # (texts, role) -> L2-normalised rows


@dataclass(frozen=True)
class NeutralSettings:
    """How to neutralize: the method, the query side's estimate and the sample it is fitted on."""

    method: str = "centered"
    query_statistics: str = "documents-as-queries"
    query_sample: int = QUERY_SAMPLE
    min_documents: int = MIN_DOCUMENTS
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.method, str) or not METHOD_PATTERN.fullmatch(self.method):
            raise ValueError(f"neutralization method must be centered, lir:R (R in 1..99) or leace, got {self.method!r}")
        if self.query_statistics not in QUERY_STATISTICS:
            raise ValueError(f"query statistics must be one of {', '.join(QUERY_STATISTICS)}, got {self.query_statistics!r}")
        for name in ("query_sample", "min_documents"):
            check_count(name, getattr(self, name))

    @classmethod
    def parse(cls, spec: str) -> NeutralSettings:
        """``METHOD[@QUERY_STATISTICS]``, e.g. ``centered``, ``lir:2``, ``leace@documents``."""
        method, _, source = spec.partition("@")
        return cls(method=method or "centered", query_statistics=source or "documents-as-queries")

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "query_statistics": self.query_statistics,
                "query_sample": self.query_sample, "min_documents": self.min_documents, "seed": self.seed}


def _normalised(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _lir_basis(vectors: np.ndarray, rank: int) -> np.ndarray:
    """The top ``rank`` right singular vectors of a language's (uncentred) embedding matrix."""
    _, _, vt = np.linalg.svd(vectors.astype(np.float64), full_matrices=False)
    return vt[:rank].astype(np.float32)


@dataclass
class LanguageNeutralizer:
    """Fitted statistics and their removal. ``stats[(language, role)]`` is a mean ``(d,)`` for
    ``centered`` or a basis ``(R, d)`` for ``lir:R``; ``leace`` holds one map for every text."""

    settings: NeutralSettings
    dimension: int
    stats: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    leace: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # proj_left (d,k), proj_right (k,d), bias (d,)
    counts: dict[str, int] = field(default_factory=dict)  # documents per language the statistics came from
    skipped: dict[str, int] = field(default_factory=dict)  # languages with too few documents: left as they are

    @property
    def method(self) -> str:
        return self.settings.method

    @property
    def languages(self) -> frozenset[str]:
        """Languages whose texts are neutralized (every language, for ``leace``: it needs none)."""
        return frozenset(self.counts)

    @property
    def needs_language(self) -> bool:
        return self.method != "leace"

    @functools.cached_property
    def _identifier(self) -> Any:
        from babelir.data.langid import LanguageIdentifier

        return LanguageIdentifier(self.languages)

    def identify(self, texts: Sequence[str]) -> list[str | None]:
        """Each text's language among those with statistics (``None``: not identified), as an index's
        search identifies its queries (:mod:`babelir.data.langid`; the identifier is built once)."""
        return self._identifier.identify_many(texts)

    def covers(self, language: str | None) -> bool:
        """Whether a text of ``language`` (``None``: unknown) is neutralized."""
        return not self.needs_language or (language is not None and language in self.counts)

    def apply(self, vectors: np.ndarray, languages: Sequence[str | None], role: str) -> tuple[np.ndarray, np.ndarray]:
        """``(vectors with language statistics removed, L2-normalised; a boolean mask of the rows changed)``.

        Rows whose language is unknown or has no statistics are returned as they are (mask False).
        """
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(languages) != len(vectors):
            raise ValueError(f"{len(vectors)} vectors but {len(languages)} languages")
        if self.leace is not None:
            left, right, bias = self.leace
            out = vectors - ((vectors - bias) @ right.T) @ left.T
            return _normalised(out), np.ones(len(vectors), dtype=bool)
        out = vectors.copy()
        changed = np.zeros(len(vectors), dtype=bool)
        for language in {lang for lang in languages if lang is not None}:
            stat = self.stats.get((language, role))
            if stat is None:
                continue
            rows = np.fromiter((i for i, lang in enumerate(languages) if lang == language), dtype=np.int64)
            part = vectors[rows]
            part = part - stat if stat.ndim == 1 else part - (part @ stat.T) @ stat
            out[rows] = _normalised(part)
            changed[rows] = True
        return out, changed

    # --- storage: plain arrays in an .npz plus a JSON header (no pickle) ---------------------------------
    def save(self, path: str | Path, opener: Callable[[Path, str], Any] | None = None) -> None:
        """Write to ``path`` (``opener(path, "wb")`` e.g. an atomic open; plain ``open`` by default)."""
        header = {"format": FORMAT, "settings": self.settings.to_dict(), "dimension": self.dimension,
                  "counts": self.counts, "skipped": self.skipped,
                  "keys": [list(key) for key in sorted(self.stats)]}
        arrays = {f"stat_{i}": self.stats[tuple(key)] for i, key in enumerate(header["keys"])}
        if self.leace is not None:
            arrays.update(leace_left=self.leace[0], leace_right=self.leace[1], leace_bias=self.leace[2])
        buffer = io.BytesIO()
        np.savez(buffer, header=np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8), **arrays)
        path = Path(path)
        with (opener or open)(path, "wb") as handle:
            handle.write(buffer.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> LanguageNeutralizer:
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(bytes(data["header"]).decode("utf-8"))
                if header.get("format") != FORMAT:
                    raise ValueError(f"format {header.get('format')!r}, this babelir reads {FORMAT}")
                stats = {(key[0], key[1]): data[f"stat_{i}"] for i, key in enumerate(header["keys"])}
                leace = None
                if "leace_left" in data:
                    leace = (data["leace_left"], data["leace_right"], data["leace_bias"])
                return cls(NeutralSettings(**header["settings"]), int(header["dimension"]), stats, leace,
                           {k: int(v) for k, v in header["counts"].items()},
                           {k: int(v) for k, v in header.get("skipped", {}).items()})
        except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as err:
            raise DataError(path, None, f"damaged language statistics ({err}); rebuild the index, or search "
                            "without them (--no-neutralize)") from None


def query_sample(doc_ids: Sequence[str], languages: Sequence[str | None], settings: NeutralSettings,
                 covered: set[str]) -> dict[str, list[int]]:
    """Per covered language, the positions of the documents whose query-role vectors estimate the query
    side: a seeded sample of at most ``settings.query_sample``, drawn by id so it does not depend on order."""
    by_language: dict[str, list[int]] = {}
    for i, lang in enumerate(languages):
        if lang in covered:
            by_language.setdefault(lang, []).append(i)
    out = {}
    for lang, rows in sorted(by_language.items()):
        rows = sorted(rows, key=lambda r: doc_ids[r])
        rng = random.Random(derive_seed(settings.seed, f"neutral-query-sample-{lang}"))
        out[lang] = sorted(rng.sample(rows, min(settings.query_sample, len(rows))))
    return out


def query_texts(texts: Sequence[str], settings: NeutralSettings) -> list[str]:
    """The texts the query side is encoded from (shortened for ``short-documents-as-queries``)."""
    if settings.query_statistics == "short-documents-as-queries":
        return [" ".join(t.split()[:SHORT_WORDS]) for t in texts]
    return list(texts)


def fit_neutralizer(
    settings: NeutralSettings,
    doc_vectors: np.ndarray,
    doc_languages: Sequence[str | None],
    doc_texts: Callable[[list[int]], list[str]],
    doc_ids: Sequence[str],
    encode: Encode | None,
) -> LanguageNeutralizer:
    """Fit the statistics of a collection from its documents' vectors (document role).

    ``doc_texts(rows)`` gives the texts of some documents and ``encode(texts, role)`` encodes them:
    both are called only for the query side's sample (``documents-as-queries`` and its short form).
    """
    doc_vectors = np.asarray(doc_vectors, dtype=np.float32)
    counts: dict[str, int] = {}
    for lang in doc_languages:
        if lang is not None:
            counts[lang] = counts.get(lang, 0) + 1
    kept = {lang: n for lang, n in counts.items() if n >= settings.min_documents}
    skipped = {lang: n for lang, n in counts.items() if n < settings.min_documents}
    if not kept:
        raise DataError(None, None, f"no language has the {settings.min_documents} documents language statistics "
                        f"need (found: {', '.join(f'{k} {v}' for k, v in sorted(counts.items())) or 'no languages'})")
    neutralizer = LanguageNeutralizer(settings, int(doc_vectors.shape[1]), counts=dict(sorted(kept.items())),
                                      skipped=dict(sorted(skipped.items())))
    rows_of = {lang: np.array([i for i, lg in enumerate(doc_languages) if lg == lang]) for lang in kept}
    query_vectors: dict[str, np.ndarray] = {}
    if settings.query_statistics == "documents":
        query_vectors = {lang: doc_vectors[rows] for lang, rows in rows_of.items()}
    else:
        if encode is None:
            raise ValueError(f"query statistics {settings.query_statistics!r} need an encoder")
        sample = query_sample(doc_ids, doc_languages, settings, set(kept))
        flat = [r for lang in sorted(sample) for r in sample[lang]]
        encoded = encode(query_texts(doc_texts(flat), settings), "query")
        start = 0
        for lang in sorted(sample):
            query_vectors[lang] = encoded[start : start + len(sample[lang])]
            start += len(sample[lang])
    if settings.method == "leace":
        neutralizer.leace = _fit_leace(
            [doc_vectors[rows_of[lang]] for lang in sorted(kept)] + [query_vectors[lang] for lang in sorted(kept)],
            sorted(kept) * 2,
        )
        return neutralizer
    for lang, rows in rows_of.items():
        for role, vectors in (("document", doc_vectors[rows]), ("query", query_vectors[lang])):
            if settings.method == "centered":
                neutralizer.stats[(lang, role)] = vectors.mean(axis=0).astype(np.float32)
            else:
                neutralizer.stats[(lang, role)] = _lir_basis(vectors, int(settings.method.split(":")[1]))
    return neutralizer


def _fit_leace(groups: list[np.ndarray], labels: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LEACE's eraser over vectors labelled by language: each group is one language's vectors of one role
    (documents, and the query side's sample), so the map erases the language from both roles at once."""
    import warnings

    import torch

    with warnings.catch_warnings():  # concept-erasure 0.2.4 decorates with torch.jit.script (deprecated)
        warnings.simplefilter("ignore", DeprecationWarning)
        from concept_erasure import LeaceFitter

    languages = sorted(set(labels))
    if len(languages) < 2:
        raise DataError(None, None, "leace needs at least two languages with statistics")
    dim = groups[0].shape[1]
    fitter = LeaceFitter(dim, len(languages), dtype=torch.float64)
    for vectors, lang in zip(groups, labels, strict=True):
        z = torch.zeros(len(vectors), len(languages), dtype=torch.float64)
        z[:, languages.index(lang)] = 1.0
        fitter.update(torch.from_numpy(vectors.astype(np.float64)), z)
    eraser = fitter.eraser
    bias = eraser.bias if eraser.bias is not None else torch.zeros(dim, dtype=torch.float64)
    return (eraser.proj_left.numpy().astype(np.float32), eraser.proj_right.numpy().astype(np.float32),
            bias.numpy().astype(np.float32))
