"""The one family of expected failures: each names the file (and line, when there is one), what is wrong
and what to do, so the command line can print it as one line (``babelir: error: FILE:LINE: ...``).

Lower layers raise these (or a subclass); only :func:`babelir.cli.main` turns them into a message and an
exit status. Anything else that escapes is a bug, and ``--debug`` shows its traceback.
"""

from __future__ import annotations

import errno
import os


class BabelirError(Exception):
    """An expected failure. ``str(err)`` reads ``FILE:LINE: problem`` (``FILE: problem`` without a line,
    ``<input>: problem`` when no file is involved, e.g. a flag)."""

    def __init__(self, path: str | os.PathLike | None, line: int | None, problem: str):
        self.path = None if path is None else str(path)
        self.line = line
        self.problem = problem
        where = self.path or "<input>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {problem}")


class DataError(BabelirError, ValueError):
    """Bad input data or configuration. ``str(err)`` reads ``FILE:LINE: problem``."""


class ModelError(BabelirError, ValueError):
    """A model folder that cannot be used: not a model, unknown backbone name, damaged weights."""


class IndexFileError(BabelirError, ValueError):
    """An index folder (or one of its files) that cannot be used, or must not be overwritten."""


class CheckpointError(BabelirError, ValueError):
    """A training checkpoint that cannot be resumed from."""


class DivergedError(BabelirError, ArithmeticError):
    """Training met a loss or gradient that is not finite: stopped before the step was applied."""


class OutputError(BabelirError, ValueError):
    """An output path babelir must not write: a user's file or folder, or another output of babelir's."""


def check_count(name: str, value: object, error: type[Exception] = ValueError) -> None:
    """Raise ``error`` saying what to pass unless ``value`` is an integer of at least 1 (a size, a batch,
    a ``k``); ``True`` is no count, though Python's bool is an int."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        if issubclass(error, BabelirError):
            raise error(None, None, f"{name} {value!r}: must be an integer of at least 1")
        raise error(f"{name} {value!r}: pass an integer of at least 1")


_OS_ADVICE = {
    errno.ENOENT: "check the path (a folder on the way may be missing too)",
    errno.EACCES: "choose a location you may write to, or fix its permissions",
    errno.EPERM: "choose a location you may write to, or fix its permissions",
    errno.EROFS: "the file system is read-only; write elsewhere",
    errno.ENOSPC: "the disk is full; free space or write elsewhere",
    errno.EDQUOT: "the disk quota is used up; free space or write elsewhere",
    errno.EISDIR: "a folder is in the way; give a file name",
    errno.ENOTDIR: "a file is in the way where a folder is expected; check the path",
    errno.EEXIST: "something is already there (a file where a folder is needed?); move it or choose another path",
}


def describe_os_error(err: OSError) -> str:
    """``FILE: reason; what to do`` for an operating-system failure, in the shape of a :class:`BabelirError`.

    Why here and not at every ``open``: an unwritable output folder or a missing input can surface in any
    package (atomic writes, caches, readers), and the OS already knows the file; the command line only has
    to say it in one line instead of a traceback.
    """
    reason = (err.strerror or str(err) or type(err).__name__).rstrip(".")
    reason = reason[:1].lower() + reason[1:]
    advice = _OS_ADVICE.get(err.errno) if err.errno is not None else None
    problem = f"{reason}; {advice}" if advice else reason
    if err.filename is None:
        return f"<system>: {problem}"
    where = os.fsdecode(err.filename) if isinstance(err.filename, bytes) else str(err.filename)
    if err.filename2 is not None:
        where = f"{where} -> {os.fsdecode(err.filename2) if isinstance(err.filename2, bytes) else err.filename2}"
    return f"{where}: {problem}"
