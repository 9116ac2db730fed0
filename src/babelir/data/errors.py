"""The one error type for bad input: it always names the file, the line (when there is one) and the problem."""

from __future__ import annotations

from babelir.utils.errors import BabelirError


class DataError(BabelirError, ValueError):
    """Bad input data or configuration. ``str(err)`` reads ``FILE:LINE: problem``."""
