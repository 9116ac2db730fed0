"""Where the data package's readers import their error from: :class:`DataError` lives with its siblings in
:mod:`babelir.utils.errors` (one family of expected failures); this name stays for existing imports."""

from __future__ import annotations

from babelir.utils.errors import DataError

__all__ = ["DataError"]
