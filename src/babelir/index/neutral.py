"""Language neutralization inside an index folder: fitted once at ``babelir index``, applied at search.

What is stored (names in :mod:`babelir.index.layout`): the fitted statistics
(:class:`babelir.encoding.neutral.LanguageNeutralizer`, ``neutral.npz``) and a second faiss index over
the documents' neutralized vectors (``index.neutral.faiss``); ``index.faiss`` keeps the raw vectors, so
a search with neutralization off (``--no-neutralize``), or of a query whose language is unknown or has
no statistics, is exactly the search of an index built without it. The shards keep the raw vectors too.

Fitting reads the documents' own vectors from the shards (a seeded sample of at most
:data:`FIT_DOCUMENTS` per language: means and subspaces of more rows do not move) and encodes a small
sample of them again in the query role (:mod:`babelir.encoding.neutral`), so it costs a fraction of
the encoding; ``benchmarks/search_speed.py`` and ``reports/neutralization.md`` give the figures.

Documents without a language field are identified while the corpus streams (:func:`identify_missing`),
and the language found is stored with them (the search page's language filter uses it too).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from babelir.data.errors import DataError
from babelir.encoding.neutral import NeutralSettings, fit_neutralizer
from babelir.index.ann import AnnSettings, build_from_shards, read_rows, write_index
from babelir.index.corpus import Document
from babelir.index.layout import DOCS_FILE, NEUTRAL_FILE, NEUTRAL_INDEX_FILE, shard_path
from babelir.index.store import DocStore
from babelir.utils.atomic import atomic_open
from babelir.utils.seeding import derive_seed

log = logging.getLogger(__name__)

FIT_DOCUMENTS = 10_000  # per language at most (seeded sample): memory stays bounded on any corpus


def identify_missing(stream: Iterator[Document], identify: Callable[[list[str]], list[str | None]]) -> Iterator[Document]:
    """``stream`` with each document that has no language given the one ``identify`` finds (or none).

    One document at a time, never reading ahead: a bad line further on must fail only when the stream
    reaches it, after the shards before it are finished (a rerun resumes from there)."""
    for doc in stream:
        if not doc.language:
            found = identify([doc.text])[0]
            if found:
                doc = dataclasses.replace(doc, language=found)
        yield doc


def _row_languages(store: DocStore, rows: int) -> list[str | None]:
    """Each row's language (``None`` where unknown)."""
    out: list[str | None] = [None] * rows
    for lang in store.languages():
        if lang:
            for row in store.rows_for_language(lang):
                out[int(row)] = lang
    return out


def sample_encoder(model: str, backend: str, device: str | None, batch_size: int) -> Callable[[list[str], str], np.ndarray]:
    """The ``encode`` that :func:`fit_index_neutralizer` takes: the process's shared encoder of ``model``
    (loaded on the first call, so an index without statistics to fit never loads it), in batches."""

    def encode(texts: list[str], role: str) -> np.ndarray:
        from babelir.index.search import shared_encoder

        return shared_encoder(model, backend, device).encode(texts, role, batch_size)

    return encode


def fit_index_neutralizer(
    folder: Path,
    settings: NeutralSettings,
    ann: AnnSettings,
    shards: int,
    rows: int,
    encode: Callable[[list[str], str], np.ndarray],
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Fit and store the statistics and the neutral faiss index; returns the manifest's ``neutralization``
    entry (``file`` ``None``, with the reason, when no language has enough documents: said here)."""
    t0 = time.perf_counter()
    store = DocStore(folder / DOCS_FILE)
    languages = _row_languages(store, rows)
    unknown = sum(lang is None for lang in languages)
    chosen: list[int] = []
    rng = np.random.default_rng(derive_seed(settings.seed, "neutral-fit-rows"))
    for lang in sorted({lg for lg in languages if lg}):
        lang_rows = store.rows_for_language(lang)
        if len(lang_rows) > FIT_DOCUMENTS:
            lang_rows = np.sort(rng.choice(lang_rows, FIT_DOCUMENTS, replace=False))
        chosen.extend(int(r) for r in lang_rows)
    picked = np.array(sorted(chosen), dtype=np.int64)
    paths = [shard_path(folder, i) for i in range(shards)]
    if not len(picked):
        return without_neutralization(settings, "no document has a language (none given, none identified)", say)
    docs = store.get(picked)
    ids = [docs[int(r)][0] for r in picked]

    def texts(positions: list[int]) -> list[str]:
        from babelir.data.beir import join_title

        return [join_title(docs[int(picked[p])][1], docs[int(picked[p])][2]) for p in positions]

    try:
        neutralizer = fit_neutralizer(settings, read_rows(paths, picked), [languages[int(r)] for r in picked],
                                      texts, ids, encode)
    except DataError as err:
        return without_neutralization(settings, err.problem, say)
    if neutralizer.skipped:
        say(f"too few documents for language statistics (fewer than {settings.min_documents}), left as they "
            f"are: {', '.join(f'{k} ({v})' for k, v in neutralizer.skipped.items())}")
    if unknown:
        say(f"{unknown} documents have no language (none given, none identified): left as they are")
    with_languages = np.array([lang or "" for lang in languages], dtype=object)

    def neutral(vectors: np.ndarray, at: np.ndarray) -> np.ndarray:
        return neutralizer.apply(vectors, [lang or None for lang in with_languages[at]], "document")[0]

    neutralizer.save(folder / NEUTRAL_FILE, opener=lambda path, mode: atomic_open(path, mode))
    write_index(build_from_shards(ann, paths, rows, neutralizer.dimension, transform=neutral),
                folder / NEUTRAL_INDEX_FILE)
    seconds = round(time.perf_counter() - t0, 3)
    say(f"language neutralization ({settings.method}): statistics for "
        f"{len(neutralizer.counts)} languages in {seconds:.1f} s")
    return {
        "file": NEUTRAL_FILE,
        "index_file": NEUTRAL_INDEX_FILE,
        "settings": settings.to_dict(),
        "languages": neutralizer.counts,
        "skipped": neutralizer.skipped,
        "unknown_language_documents": unknown,
        "seconds": seconds,
    }


def without_neutralization(settings: NeutralSettings, reason: str, say: Callable[[str], None]) -> dict[str, Any]:
    """The manifest entry of an index built without statistics, and the line that says why."""
    say(f"{reason}: the index is built without language neutralization")
    return {"file": None, "settings": settings.to_dict(), "reason": reason}
