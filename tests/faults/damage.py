"""The three ways a file is damaged in these tests: cut short, emptied, or altered in place."""

from __future__ import annotations

from pathlib import Path

DAMAGES = ("truncate", "empty", "corrupt")


def damage(path: Path, how: str) -> None:
    """``truncate``: keep the first half; ``empty``: zero bytes; ``corrupt``: invert up to 16 bytes in
    the middle, length unchanged (what a bad sector or a stray write does)."""
    data = path.read_bytes()
    if how == "truncate":
        data = data[: len(data) // 2]
    elif how == "empty":
        data = b""
    elif how == "corrupt":
        middle = len(data) // 2
        start, stop = max(0, middle - 8), min(len(data), middle + 8)
        data = data[:start] + bytes(b ^ 0xFF for b in data[start:stop]) + data[stop:]
    else:
        raise ValueError(f"unknown damage {how!r}; one of {DAMAGES}")
    path.write_bytes(data)
