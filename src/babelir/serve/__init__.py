"""Serve: an HTTP API (FastAPI) and a search page over a built index (``babelir serve INDEX``).

``Limits`` and ``create_app`` load on first use: FastAPI is the optional ``serve`` extra, and the core
install must still import ``babelir.serve.command`` to list the command (its run says what to install).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from babelir.serve.app import Limits, create_app

__all__ = ["Limits", "create_app"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from babelir.serve import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
