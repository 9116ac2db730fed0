"""What an index folder holds on disk: file names, the format number, shard files and the manifest.

Layout of an index folder::

    OUT/.babelir-output.json written first: babelir's marker (babelir.utils.ownership), the only proof
                             that a folder is an index babelir may replace
    OUT/manifest.json        written last: its presence means the index is complete
    OUT/index.faiss          faiss.write_index (binary, no pickle)
    OUT/docs.sqlite          faiss id (row) -> id, title, text, language; plus the finished-shard ledger
    OUT/neutral.npz          language statistics (babelir.index.neutral), when the index has them
    OUT/index.neutral.faiss  the documents' vectors with their language statistics removed
    OUT/lexical/             BM25 over the documents (babelir.index.lexical), with --lexical
    OUT/fusion.json          the fusion settings search uses by default (babelir tune-fusion or
                             babelir index --fusion), when set
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

from babelir.index.ann import AnnSettings
from babelir.utils.atomic import atomic_open
from babelir.utils.errors import IndexFileError
from babelir.utils.ownership import file_sha256

FORMAT = 1
MANIFEST = "manifest.json"
INDEX_FILE = "index.faiss"
DOCS_FILE = "docs.sqlite"
NEUTRAL_FILE = "neutral.npz"
NEUTRAL_INDEX_FILE = "index.neutral.faiss"
LEXICAL_DIR = "lexical"
FUSION_FILE = "fusion.json"
SHARDS_DIR = "shards"
BUILD_PLAN = "build.json"


def shard_path(folder: Path, shard: int) -> Path:
    """The embeddings file of shard number ``shard`` in an index folder."""
    return folder / SHARDS_DIR / f"{shard:05d}.npy"


def plan_path(folder: Path) -> Path:
    """The build plan (model, corpus, encoding settings) a resumed or re-indexed build is checked against."""
    return folder / SHARDS_DIR / BUILD_PLAN


def write_shard(folder: Path, shard: int, embeddings: np.ndarray) -> tuple[Path, str]:
    """Write one shard's embeddings atomically (a crash never leaves half a file that looks finished);
    returns the file and its sha256, which the ledger records with the shard."""
    path = shard_path(folder, shard)
    with atomic_open(path, "wb") as handle:
        np.save(handle, embeddings, allow_pickle=False)
    return path, file_sha256(path)



def index_entry(settings: AnnSettings) -> dict[str, Any]:
    """The manifest's ``index`` entry for an index built with (resolved) ``settings``."""
    return {**settings.to_dict(), "metric": "inner_product", "file": INDEX_FILE}


# (section, key) pairs every manifest holds; loading, merging and resuming all rely on them
REQUIRED = (
    ("format", None), ("model", "name"), ("corpus", None), ("index", "file"), ("index", "index_type"),
    ("counts", "documents"), ("counts", "shards"), ("counts", "dimension"), ("docs", None),
)


def rebuild_hint(folder: Path, manifest: dict[str, Any] | None = None) -> str:
    """What to do about a damaged index file: the build command, with the model and corpus when known
    (from the manifest, else from the build plan: a damaged manifest still gets the full command)."""
    if not isinstance(manifest, dict):
        try:
            manifest = json.loads(plan_path(folder).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = None
    manifest = manifest if isinstance(manifest, dict) else {}
    model, corpus = (manifest.get(k) if isinstance(manifest.get(k), dict) else {} for k in ("model", "corpus"))
    model, corpus = model.get("name", "MODEL"), corpus.get("spec", "CORPUS")
    return f"rebuild with babelir index {model} {corpus} {folder} --overwrite"


def read_manifest(folder: Path, missing: str) -> dict[str, Any]:
    """The manifest of ``folder``, checked for the keys readers use; ``missing`` says what its absence
    means to the caller. Every failure is an :class:`IndexFileError` naming the file."""
    path = folder / MANIFEST
    if not path.is_file():
        raise IndexFileError(folder, None, f"no {MANIFEST}: {missing}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise IndexFileError(
            path, err.lineno, f"not valid JSON ({err.msg}, column {err.colno}); {rebuild_hint(folder)}"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise IndexFileError(path, None, f"unreadable ({err}); {rebuild_hint(folder)}") from None
    for section, key in REQUIRED:
        value = manifest.get(section) if isinstance(manifest, dict) else None
        if value is None or (key is not None and (not isinstance(value, dict) or key not in value)):
            name = section if key is None else f"{section}.{key}"
            raise IndexFileError(path, None, f"lacks {name!r}; {rebuild_hint(folder, manifest)}")
    for key, value in manifest["counts"].items() if isinstance(manifest["counts"], dict) else ():
        if key in ("documents", "shards", "dimension") and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise IndexFileError(path, None, f"counts.{key} is {value!r}, not a count (was it edited by hand?); "
                                 f"{rebuild_hint(folder, manifest)}")
    if manifest["format"] != FORMAT:
        raise IndexFileError(
            path, None, f"index format {manifest['format']!r}, expected {FORMAT}; {rebuild_hint(folder, manifest)}"
        )
    return manifest


def check_shard(path: Path, hint: str = "") -> tuple[int, int]:
    """``(rows, dimension)`` of a shard's embeddings file, from its header and size alone (cheap).

    A file cut short by a full disk or a copy, or one that is not a float32 matrix, is an
    :class:`IndexFileError` naming it (and ``hint``, what to do); a build re-encodes such a shard.
    """
    then = f"; {hint}" if hint else ""
    try:
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = reader(handle)
            data_start = handle.tell()
        size = path.stat().st_size
    except FileNotFoundError:
        raise IndexFileError(path, None, f"missing{then}") from None
    except (OSError, ValueError, EOFError) as err:
        raise IndexFileError(path, None, f"not a readable .npy file ({err}){then}") from None
    if len(shape) != 2 or dtype != np.float32 or fortran:
        raise IndexFileError(path, None, f"holds a {dtype} array of shape {shape}, not float32 rows{then}")
    expected = data_start + shape[0] * shape[1] * 4
    if size != expected:
        state = "truncated" if size < expected else "longer than its header says"
        raise IndexFileError(path, None, f"{state} ({size} bytes, expected {expected}){then}")
    return int(shape[0]), int(shape[1])


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
    neutralization: dict[str, Any] | None = None,
    lexical: dict[str, Any] | None = None,
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
        **({"neutralization": neutralization} if neutralization is not None else {}),
        **({"lexical": lexical} if lexical is not None else {}),
        "build_seconds": build_seconds,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions(),
    }

