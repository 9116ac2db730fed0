"""What an index folder holds on disk: file names, the format number, shard files and the manifest.

Layout of an index folder::

    OUT/manifest.json        written last: its presence means the index is complete
    OUT/index.faiss          faiss.write_index (binary, no pickle)
    OUT/docs.sqlite          faiss id (row) -> id, title, text, language; plus the finished-shard ledger
    OUT/shards/build.json    what is being built (model, corpus, settings): guards a resume
    OUT/shards/NNNNN.npy     float32 embeddings of shard NNNNN (``shard_size`` documents)

Why a module of its own: building (:mod:`babelir.index.build`), merging (:mod:`babelir.index.shards`)
and loading (:mod:`babelir.index.search`) all read or write this layout; kept here, below all three, it
is written down once and none of them has to import another for a file name.
"""

from __future__ import annotations

import contextlib
import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from babelir.data.errors import DataError
from babelir.index.ann import AnnSettings
from babelir.utils.atomic import atomic_open

FORMAT = 1
MANIFEST = "manifest.json"
INDEX_FILE = "index.faiss"
DOCS_FILE = "docs.sqlite"
SHARDS_DIR = "shards"
BUILD_PLAN = "build.json"


def shard_path(folder: Path, shard: int) -> Path:
    """The embeddings file of shard number ``shard`` in an index folder."""
    return folder / SHARDS_DIR / f"{shard:05d}.npy"


def plan_path(folder: Path) -> Path:
    """The build plan (model, corpus, encoding settings) a resumed or re-indexed build is checked against."""
    return folder / SHARDS_DIR / BUILD_PLAN


def write_shard(folder: Path, shard: int, embeddings: np.ndarray) -> Path:
    """Write one shard's embeddings atomically (a crash never leaves half a file that looks finished)."""
    path = shard_path(folder, shard)
    with atomic_open(path, "wb") as handle:
        np.save(handle, embeddings, allow_pickle=False)
    return path


def index_entry(settings: AnnSettings) -> dict[str, Any]:
    """The manifest's ``index`` entry for an index built with (resolved) ``settings``."""
    return {**settings.to_dict(), "metric": "inner_product", "file": INDEX_FILE}


def read_manifest(folder: Path, missing: str) -> dict[str, Any]:
    """The manifest of ``folder``; ``missing`` says what its absence means to the caller."""
    path = folder / MANIFEST
    if not path.is_file():
        raise DataError(folder, None, f"no {MANIFEST}: {missing}")
    return json.loads(path.read_text(encoding="utf-8"))


def versions() -> dict[str, str]:
    """Versions of the packages that shape an index, recorded so a surprising index can be explained."""
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for name in ("babelir", "faiss-cpu", "torch", "sentence-transformers", "numpy", "onnxruntime"):
        with contextlib.suppress(md.PackageNotFoundError):
            out[name] = md.version(name)
    return out


def index_manifest(
    plan: dict[str, Any],
    *,
    corpus_sha256: str | None,
    settings: AnnSettings,
    documents: int,
    shards: int,
    dimension: int,
    build_seconds: dict[str, float],
    merged_from: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The manifest of a complete index: the build plan plus what was built, when and with what.

    The one place its fields are assembled, for a build on one machine and for a merge of shards alike,
    so that both folders load, resume and merge the same way.
    """
    return {
        **plan,
        "corpus": {**plan["corpus"], "sha256": corpus_sha256},
        "index": index_entry(settings),
        "counts": {"documents": documents, "shards": shards, "dimension": dimension},
        "docs": DOCS_FILE,
        **({"merged_from": merged_from} if merged_from is not None else {}),
        "build_seconds": build_seconds,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions(),
    }

