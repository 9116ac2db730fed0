"""What babelir wrote: the one rule for every folder and file a command may write into or replace.

Why a module of its own, low in the layers: ``--overwrite`` once deleted a web app because its folder held a
``manifest.json``, ``train`` replaced a user's hand-written ``config.yaml``, ``mine`` and ``evaluate`` replaced
files that merely had the expected name or layout. A name or a layout is something a user's file may share;
a marker babelir alone writes is not. So:

* a **folder** babelir writes (an index, a training run, a model) holds :data:`FOLDER_MARKER`, a hidden JSON
  file ``{"written_by": "babelir", "kind": ...}`` written before anything else goes in. Only a missing or
  empty folder, or one marked with the same kind, may be written into or replaced.
* a **file** babelir writes where users keep their own files (a mined training file, a TREC run, embeddings)
  is recorded in :data:`FILE_LEDGER`, a hidden JSON ledger in the same folder: its name, kind, size, sha256
  and an owner detail (the run tag, the model). A file is babelir's only while its content still matches
  the record: a user's file of the same name, or babelir's file edited by hand, is left alone.

Folders written before the marker existed are recognised by content only babelir writes (each caller's
``legacy`` test) and marked when babelir next writes into them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babelir.utils.atomic import atomic_write_json
from babelir.utils.errors import OutputError

FOLDER_MARKER = ".babelir-output.json"
FILE_LEDGER = ".babelir-files.json"
WRITER = "babelir"


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file, read in blocks (the one file checksum: ledgers, index shards, checkpoints)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _version() -> str:
    import importlib.metadata as md

    try:
        return md.version("babelir")
    except md.PackageNotFoundError:  # a source tree on the path
        return "unknown"


# ------------------------------------------------------------------------------------------ folders
def mark_folder(folder: str | os.PathLike, kind: str) -> None:
    """Write ``folder``'s marker (creating the folder): from now on babelir may replace what it holds."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / FOLDER_MARKER
    if folder_kind(folder) == kind:
        return
    atomic_write_json(marker, {
        "written_by": WRITER, "kind": kind, "babelir": _version(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    })


def folder_kind(folder: str | os.PathLike) -> str | None:
    """The kind of output babelir wrote in ``folder`` (``index``, ``run``, ``model``), or None."""
    try:
        record = json.loads((Path(folder) / FOLDER_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(record, dict) and record.get("written_by") == WRITER and isinstance(record.get("kind"), str):
        return record["kind"]
    return None


def _holds_anything(folder: Path, ignore: Callable[[str], bool]) -> bool:
    return any(not ignore(entry.name) for entry in folder.iterdir())


def owns_folder(
    folder: str | os.PathLike, kind: str, legacy: Callable[[Path], bool] | None = None,
) -> bool:
    """Whether babelir wrote ``folder`` as a ``kind`` output: its marker, or ``legacy(folder)`` for a folder
    written before markers (a check writes nothing; the command marks the folder when it writes into it)."""
    folder = Path(folder)
    if folder_kind(folder) == kind:
        return True
    return legacy is not None and folder.is_dir() and folder_kind(folder) is None and legacy(folder)


def check_folder(
    folder: str | os.PathLike,
    kind: str,
    what: str,
    *,
    legacy: Callable[[Path], bool] | None = None,
    ignore: Callable[[str], bool] = lambda name: False,
) -> bool:
    """Refuse (one :class:`OutputError` line) to write into ``folder`` unless it is missing, empty (names
    ``ignore`` accepts do not count) or babelir's ``kind`` output. ``what`` names the flag to change.

    Returns whether babelir's output is already there (so the caller knows a replace is a replace).
    """
    folder = Path(folder)
    if not folder.exists():
        return False
    if not folder.is_dir():
        raise OutputError(folder, None, f"is a file, not a folder; choose another {what}")
    if owns_folder(folder, kind, legacy):
        return True
    other = folder_kind(folder)
    if other is not None:
        raise OutputError(folder, None, f"holds babelir's {other} output, not a {kind}; choose another {what}")
    if _holds_anything(folder, ignore):
        raise OutputError(folder, None, f"holds files that babelir did not write (no {FOLDER_MARKER}); they are "
                                        f"left as they are: choose a new or empty {what}")
    return False


def remove_leftovers(path: str | os.PathLike, kind: str) -> list[Path]:
    """Remove the hidden copies an interrupted swap of ``path`` left beside it (a kill between the renames
    of :func:`~babelir.utils.atomic.replace_directory` keeps a full old copy), when babelir marked what they
    hold as a ``kind`` output or they hold nothing; call it while holding ``path``'s lock. Returns what went."""
    import shutil

    from babelir.utils.atomic import swap_leftovers

    removed = []
    for leftover, folder in swap_leftovers(path):
        empty = not folder.exists() or not any(folder.iterdir())
        if empty or folder_kind(folder) == kind:
            shutil.rmtree(leftover, ignore_errors=True)
            removed.append(leftover)
    return removed


# ------------------------------------------------------------------------------------------ files
def _ledger_path(path: Path) -> Path:
    return path.parent / FILE_LEDGER


def _read_ledger(ledger: Path) -> dict[str, Any]:
    try:
        entries = json.loads(ledger.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return entries if isinstance(entries, dict) else {}


def record_file(path: str | os.PathLike, kind: str, owner: str = "") -> None:
    """Record ``path`` (just written by babelir) in its folder's ledger: babelir may replace it later while
    its content is unchanged. ``owner`` says who in babelir wrote it (a run tag, a model), so that one
    model's output is not taken for another's."""
    path = Path(path)
    ledger = _ledger_path(path)
    entry = {"kind": kind, "owner": owner, "size": path.stat().st_size, "sha256": file_sha256(path)}
    # no lock file (it would stay among the user's files): two commands recording in one folder at the same
    # instant may drop one entry, and that file is then refused, not replaced: the safe way to fail
    entries = _read_ledger(ledger)
    entries[path.name] = entry
    atomic_write_json(ledger, entries)


def file_record(path: str | os.PathLike) -> dict[str, Any] | None:
    """The ledger's record of ``path`` while its content is still what babelir wrote, else None."""
    path = Path(path)
    entry = _read_ledger(_ledger_path(path)).get(path.name)
    if not isinstance(entry, dict) or not path.is_file():
        return None
    try:
        if path.stat().st_size != entry.get("size") or file_sha256(path) != entry.get("sha256"):
            return None
    except OSError:
        return None
    return entry


def check_file(path: str | os.PathLike, kind: str, what: str, owner: str | None = None) -> bool:
    """Refuse (one :class:`OutputError` line) to replace ``path`` unless babelir wrote it as a ``kind`` output
    (and, given ``owner``, for the same owner) and nobody changed it since. ``what`` names the flag.

    Returns whether a file of babelir's is there (False: nothing there)."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return False
    if path.is_dir():
        raise OutputError(path, None, f"is a folder; {what} names a file to write")
    if path.is_file() and not path.is_symlink() and path.stat().st_size == 0:
        return False  # an empty file holds nothing to lose
    entry = file_record(path)
    if entry is None or entry.get("kind") != kind:
        raise OutputError(path, None, f"exists and babelir did not write it as {kind} output (or it was changed "
                                      f"since); it is left as it is: choose another {what} or move the file")
    if owner is not None and entry.get("owner") != owner:
        raise OutputError(path, None, f"exists and holds {entry.get('owner') or 'another'}'s {kind} output, not "
                                      f"{owner}'s; it is left as it is: choose another {what}")
    return True


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name one existing file (an output that is also an input)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
