"""Writing a small input file and expecting the DataError that names it, shared by the readers' tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from babelir.data.errors import DataError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def raises_at(path: Path, line: int | None, problem: str) -> Any:
    where = f"{path}:{line}" if line is not None else f"{path}"
    return pytest.raises(DataError, match=rf"^{re.escape(where)}: .*{problem}")
