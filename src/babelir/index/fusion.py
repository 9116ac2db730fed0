"""An index folder's fusion settings (``OUT/fusion.json``): what a hybrid search uses by default.

Written by ``babelir tune-fusion`` (chosen on labelled queries, with what was measured) or set by hand
with ``--set SPEC``; read by :class:`babelir.index.Index` at load. ``"spec": "none"`` records a tuning
that found dense retrieval alone best: search stays dense and the file says why. An index with a lexical
part and no such file searches with :data:`babelir.retrieval.fusion.SHIPPED_FUSION`; one without a
lexical part searches dense.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from babelir.index.folders import written_by_babelir
from babelir.index.layout import FUSION_FILE, MANIFEST
from babelir.retrieval.fusion import SHIPPED_FUSION, FusionSettings
from babelir.utils.atomic import atomic_write_json
from babelir.utils.errors import IndexFileError


def read_fusion(path: Path) -> FusionSettings | None:
    """The fusion an index folder with a lexical part searches with by default (None: dense alone): its
    ``fusion.json``, else the shipped one."""
    file = Path(path) / FUSION_FILE
    if not file.is_file():
        return SHIPPED_FUSION
    try:
        spec = json.loads(file.read_text(encoding="utf-8"))["spec"]
        return None if spec == "none" else FusionSettings.parse(spec)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise IndexFileError(file, None, f"unreadable fusion settings ({err}); set them again with babelir "
                             f"tune-fusion {path} --set SPEC") from None


def write_fusion(path: Path, settings: FusionSettings | None, record: dict[str, Any]) -> Path:
    """Write ``fusion.json`` (atomically) into a complete index folder babelir wrote; ``record``: how
    the settings were chosen (kept beside them for whoever reads the folder later)."""
    path = Path(path)
    if not (path / MANIFEST).is_file() or not written_by_babelir(path):
        raise IndexFileError(path, None, "is not a complete index folder written by babelir index; "
                             "fusion settings go into one")
    file = path / FUSION_FILE
    atomic_write_json(file, {"spec": settings.spec if settings else "none", **record})
    return file
