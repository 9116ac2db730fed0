"""Atomic writes: write to a temporary sibling, fsync, then rename over the target.

A crash at any point leaves either the old file (or folder) or the new one, never a half-written one.
A rename is only durable once the folder that holds it is synced, and a renamed folder's files only
once each of them is: so every file and folder of a new tree is fsynced before the swap, and the
parent folder after each rename (where the platform lets a folder be opened; Windows does not).
The result gets the permissions a plain ``open``/``mkdir`` would give (0666/0777 less the umask), not the
owner-only ones of ``tempfile``, so shared caches, models and indexes stay readable by the group.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def _umask() -> int:
    # os.umask can only be read by setting it; set it back at once (babelir writes from one thread)
    current = os.umask(0o022)
    os.umask(current)
    return current


def apply_umask(root: str | os.PathLike) -> None:
    """Give a folder tree the permissions of plain ``mkdir``/``open`` (``mkdtemp`` and safetensors
    create owner-only entries)."""
    _finish_tree(root, fsync=False)


# opening a file read-only is enough for fsync on POSIX; Windows' _commit needs a handle that can write
_FSYNC_FILE_FLAGS = os.O_RDWR if os.name == "nt" else os.O_RDONLY


def fsync_directory(path: str | os.PathLike) -> None:
    """Make the entries of folder ``path`` (a rename into it) durable; a no-op where folders cannot be
    opened (Windows) or file systems refuse to sync them."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno not in (errno.EINVAL, errno.EBADF, errno.ENOTSUP, errno.EACCES, errno.EPERM):
            raise
    finally:
        os.close(fd)


def _fsync_file(path: str) -> None:
    fd = os.open(path, _FSYNC_FILE_FLAGS)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _finish_tree(root: str | os.PathLike, fsync: bool = True) -> None:
    """One walk over a freshly written tree: the umask permissions, and (``fsync``) every file and
    folder synced, each folder after its contents and the root last."""
    umask = _umask()
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False):
        for f in filenames:
            file = os.path.join(dirpath, f)
            if not os.path.islink(file):
                os.chmod(file, 0o666 & ~umask)
                if fsync:
                    _fsync_file(file)
        os.chmod(dirpath, 0o777 & ~umask)
        if fsync:
            fsync_directory(dirpath)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file next to ``path``; on success it replaces ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    binary = "b" in mode
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding) as handle:
            yield handle
            handle.flush()
            os.fchmod(handle.fileno(), 0o666 & ~_umask())
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        fsync_directory(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_open_text(path: str | os.PathLike) -> Iterator[IO[str]]:
    """:func:`atomic_open` for UTF-8 text, gzip-compressed when ``path`` ends in ``.gz`` (as babelir's
    readers expect of such a name)."""
    if Path(path).suffix != ".gz":
        with atomic_open(path) as handle:
            yield handle
        return
    with atomic_open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed, \
            io.TextIOWrapper(packed, encoding="utf-8", newline="") as handle:  # fmt: skip
        yield handle


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_open(path, "w") as handle:
        handle.write(text)


def atomic_write_json(path: str | os.PathLike, obj: Any, indent: int | None = 2) -> None:
    with atomic_open(path, "w") as handle:
        json.dump(obj, handle, indent=indent, ensure_ascii=False)
        handle.write("\n")


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike, keep_existing: bool = False) -> Iterator[Path]:
    """Yield a temporary folder next to ``path``; on success it replaces ``path`` (old one removed).

    Every file and folder of the new tree is fsynced, then :func:`replace_directory` swaps it in: a
    crash leaves the complete old folder (at ``path`` or under ``.<name>.old-*``) and the complete new
    one (under ``.<name>.tmp-*`` or at ``path``), never a mix.

    ``keep_existing`` (caches keyed by their content): when another process put a folder at ``path``
    meanwhile, it is kept and this one dropped; one rename, so a reader never finds ``path`` missing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        yield tmp
        _finish_tree(tmp)
        if keep_existing:
            try:
                os.rename(tmp, path)  # fails when path exists (a folder with files): then keep that one
            except OSError:
                if not path.is_dir():
                    raise
                shutil.rmtree(tmp, ignore_errors=True)
            return
        replace_directory(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def swap_leftovers(path: str | os.PathLike) -> list[tuple[Path, Path]]:
    """What an interrupted :func:`atomic_directory` or :func:`replace_directory` of ``path`` left beside it:
    ``(leftover, folder)`` pairs, where ``leftover`` is the hidden sibling to remove and ``folder`` the
    complete or partial tree it holds (the old ``path`` in ``.<name>.old-*``, a new one in ``.<name>.tmp-*``)."""
    import glob

    path = Path(path).resolve()
    name = glob.escape(path.name)
    found = [(old, old / path.name) for old in path.parent.glob(f".{name}.old-*") if old.is_dir()]
    found += [(tmp, tmp) for tmp in path.parent.glob(f".{name}.tmp-*") if tmp.is_dir()]
    return found


def replace_directory(new: str | os.PathLike, path: str | os.PathLike) -> None:
    """Put the complete folder ``new`` (a sibling of ``path``) at ``path``, replacing any folder there.

    Two renames (old -> ``.<name>.old-*``, new -> path), the parent fsynced after each: a crash between
    them leaves both complete folders, never a mix; the old one is deleted last.
    """
    path = Path(path)
    if not path.exists():
        os.replace(new, path)
        fsync_directory(path.parent)
        return
    trash = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
    os.replace(path, trash / path.name)
    try:
        fsync_directory(path.parent)
        os.replace(new, path)
    except BaseException:  # Ctrl-C or an OS error between the renames: put the old folder back
        if not path.exists():
            os.replace(trash / path.name, path)
        raise
    fsync_directory(path.parent)
    shutil.rmtree(trash, ignore_errors=True)
