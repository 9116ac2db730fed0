"""The one error type for bad input: it always names the file, the line (when there is one) and the problem."""

from __future__ import annotations

import os


class DataError(ValueError):
    """Bad input data or configuration. ``str(err)`` reads ``FILE:LINE: problem``."""

    def __init__(self, path: str | os.PathLike | None, line: int | None, problem: str):
        self.path = None if path is None else str(path)
        self.line = line
        self.problem = problem
        where = self.path or "<input>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {problem}")
