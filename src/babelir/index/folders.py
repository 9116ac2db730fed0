"""Who may write or replace an index folder, and how: the build lock, the "written by babelir" test and
the swap of a finished replacement.

Why a module of its own: ``--overwrite`` once deleted whatever folder OUT named (a user's thesis with
it), ``index merge`` deleted OUT before its replacement existed, and two builds of one OUT interleaved
their rows. A build (:mod:`babelir.index.build`) and a merge (:mod:`babelir.index.shards`) now share
one rule (:mod:`babelir.utils.ownership`): a folder is only written into or replaced when babelir marked it
as an index or it is empty, only by the holder of its lock, and a replacement is built beside it and swapped
in at the end (:func:`babelir.utils.atomic.replace_directory`), so a failed rebuild leaves the old index
as it was.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from babelir.index.layout import MANIFEST, plan_path
from babelir.utils.errors import IndexFileError
from babelir.utils.ownership import check_folder, mark_folder, owns_folder, remove_leftovers

INDEX_KIND = "index"


def lock_path(out: Path) -> Path:
    """The lock file of index folder ``out``: a sibling, so it outlives the swap of ``out`` itself."""
    return out.parent / f".{out.name}.lock"


@contextlib.contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """Hold ``out``'s lock while building or merging into it; a second build stops at once.

    Timeout 0: waiting would only redo (or undo) the first build's work, and a user who started two
    builds of one folder by mistake learns it now rather than from a misleading duplicate-id error.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    path = lock_path(out)
    lock = FileLock(path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise IndexFileError(
            out, None, f"another babelir index is building {out} (lock {path} held); "
            "wait for it or choose another OUT"
        ) from None
    try:
        remove_leftovers(out, INDEX_KIND)  # a kill during an earlier --overwrite swap
        yield
    finally:
        lock.release()


def _legacy_index(folder: Path) -> bool:
    """An index folder written before babelir marked its folders: a manifest or build plan whose content
    only babelir writes (the manifest's ``versions`` name babelir; the plan has its model fingerprint and
    encoding settings). A user's ``manifest.json`` (a web app's, say) has neither."""
    for path, test in (
        (folder / MANIFEST, lambda doc: isinstance(doc.get("versions"), dict) and "babelir" in doc["versions"]),
        (plan_path(folder), lambda doc: isinstance(doc.get("model"), dict) and "sha256" in doc["model"]
            and isinstance(doc.get("encoding"), dict) and doc.get("format") is not None),
    ):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and test(doc):
            return True
    return False


def written_by_babelir(folder: Path) -> bool:
    """True when babelir wrote ``folder`` as an index (its marker, or an index from before markers)."""
    return owns_folder(folder, INDEX_KIND, legacy=_legacy_index)


def check_writable(folder: Path) -> None:
    """Refuse a folder that babelir did not write as an index (an empty one holds nothing to lose and is fine).

    Checked before writing into a folder too, not only before replacing one: an index built inside a
    user's folder would make that folder look like babelir's, and a later ``--overwrite`` remove it.
    """
    check_folder(folder, INDEX_KIND, "OUT", legacy=_legacy_index)


def claim(folder: Path) -> None:
    """Mark ``folder`` as babelir's index before the first file goes in (a build, a staging folder, a merge)."""
    mark_folder(folder, INDEX_KIND)


def staging_path(out: Path) -> Path:
    """Where the replacement of ``out`` is built; a fixed name, so an interrupted rebuild resumes."""
    out = Path(out).resolve()  # `.` or `runs/..` have no name of their own to build beside
    return out.with_name(f".{out.name}.rebuild")
