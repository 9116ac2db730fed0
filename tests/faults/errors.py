"""The assertion every fault case makes about stderr: exactly one ``babelir: error:`` line, no traceback."""

from __future__ import annotations

import pytest


def one_error(capsys: pytest.CaptureFixture) -> str:
    """The one ``babelir: error: FILE[:LINE]: ...`` line the command printed (fails on anything else)."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if line.startswith("babelir: ")]
    assert len(lines) == 1 and lines[0].startswith("babelir: error: "), err
    return lines[0]
