"""Settings read by their declared type, the way ``argparse`` reads the matching flag.

Why its own module: YAML, TOML, dicts from the library API and flags all fill one
:class:`~babelir.training.config.TrainConfig`, and a setting must mean the same wherever it is written.
PyYAML reads ``2e-5`` as a string (YAML 1.1 floats need a dot), so a file's strings are parsed as the
flag parser would parse the word: ``int("12")``, ``float("2e-5")``, true/false/yes/no/on/off/1/0 for
booleans, a single value for a one-item list, ``none``/``null`` for an optional setting.
"""

from __future__ import annotations

import os
import types
import typing
from pathlib import Path
from typing import Any

from babelir.data.errors import DataError

_BOOLEANS = {
    "true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False,
}
_NONE = ("", "none", "null", "~")
Where = tuple[str | None, int | None]  # (file or flag, line) of a setting, for its error message


def coerce(kind: Any, name: str, value: Any, where: Where) -> Any:
    """``value`` as type ``kind`` (int, float, bool, str, Path, ``list[...]``, ``X | None``), or a
    :class:`DataError` at ``where`` (file and line, or flag) naming the setting ``name``."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (typing.Union, types.UnionType) and type(None) in args:  # X | None
        if value is None or (isinstance(value, str) and value.strip().lower() in _NONE):
            return None
        kind = next(arg for arg in args if arg is not type(None))
    if typing.get_origin(kind) is list:
        item = (typing.get_args(kind) or (str,))[0]
        if isinstance(value, str | int | float | Path) and not isinstance(value, bool):
            value = [value]  # one value, as one word after the flag
        if not isinstance(value, list | tuple):
            raise DataError(where[0], where[1], f"{name}: expected a list, got {value!r}")
        return [_scalar(item, name, v, where) for v in value]
    return _scalar(kind, name, value, where)


def _scalar(kind: Any, name: str, value: Any, where: Where) -> Any:
    def wrong(expected: str) -> DataError:
        hint = " (YAML reads yes/no/on/off as true/false: quote the value)" if isinstance(value, bool) else ""
        return DataError(where[0], where[1], f"{name}: expected {expected}, got {value!r}{hint}")

    text = value.strip() if isinstance(value, str) else None
    if kind is bool:
        if isinstance(value, bool):
            return value
        if text is not None and text.lower() in _BOOLEANS:
            return _BOOLEANS[text.lower()]
        raise wrong("true or false")
    if kind is int or kind is float:
        expected = "an integer" if kind is int else "a number"
        if isinstance(value, bool):
            raise wrong(expected)
        if isinstance(value, int) or (kind is float and isinstance(value, float)):
            return kind(value)
        if text is not None:
            try:
                return kind(text)
            except ValueError:
                raise wrong(expected) from None
        raise wrong(expected)
    if kind is Path:
        if isinstance(value, str | os.PathLike):
            return Path(value)
        raise wrong("a path")
    if kind is str and isinstance(value, str):
        return value
    if kind is str and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # e.g. a list item 2024 in YAML; the word the flag would have given
    raise wrong("a string")
