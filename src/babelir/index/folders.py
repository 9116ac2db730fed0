"""Who may write or replace an index folder, and how: the build lock, the "written by babelir" test and
the swap of a finished replacement.

Why a module of its own: ``--overwrite`` once deleted whatever folder OUT named (a user's thesis with
it), ``index merge`` deleted OUT before its replacement existed, and two builds of one OUT interleaved
their rows. A build (:mod:`babelir.index.build`) and a merge (:mod:`babelir.index.shards`) now share
one rule: a folder is only written into or replaced when babelir wrote it (its manifest or build plan is
there) or it is empty, only by the holder of its lock, and a replacement is built beside it and swapped
in at the end (:func:`babelir.utils.atomic.replace_directory`), so a failed rebuild leaves the old index
as it was.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from babelir.index.layout import MANIFEST, plan_path
from babelir.utils.errors import IndexFileError

NOT_OURS = (
    f"not an index folder written by babelir (no {MANIFEST} or build.json); "
    "choose another OUT or remove it yourself"
)


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
        yield
    finally:
        lock.release()


def written_by_babelir(folder: Path) -> bool:
    """True when ``folder`` holds a manifest or a build plan: the only folders babelir replaces."""
    return (folder / MANIFEST).is_file() or plan_path(folder).is_file()


def check_writable(folder: Path) -> None:
    """Refuse a folder that babelir did not write (an empty one holds nothing to lose and is fine).

    Checked before writing into a folder too, not only before replacing one: an index built inside a
    user's folder would make that folder look like babelir's, and a later ``--overwrite`` remove it.
    """
    if not folder.exists():
        return
    if not folder.is_dir():
        raise IndexFileError(folder, None, "is a file, not an index folder; choose another OUT")
    if not written_by_babelir(folder) and any(folder.iterdir()):
        raise IndexFileError(folder, None, NOT_OURS)


def staging_path(out: Path) -> Path:
    """Where the replacement of ``out`` is built; a fixed name, so an interrupted rebuild resumes."""
    out = Path(out).resolve()  # `.` or `runs/..` have no name of their own to build beside
    return out.with_name(f".{out.name}.rebuild")
