"""Serve: an HTTP API (FastAPI) and a search page over a built index (``babelir serve INDEX``)."""

from babelir.serve.app import Limits, create_app

__all__ = ["Limits", "create_app"]
