"""Where babelir keeps converted backbones, built benchmarks and cached embeddings."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def cache_root() -> Path:
    """``$BABELIR_CACHE``, else ``$XDG_CACHE_HOME/babelir``, else ``~/.cache/babelir``."""
    if env := os.environ.get("BABELIR_CACHE"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "babelir"


def cache_dir(*parts: str) -> Path:
    path = cache_root().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def content_hash(obj: Any, length: int = 16) -> str:
    """A stable short hash of any JSON-serialisable object (used as a cache key)."""
    blob = json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:length]
