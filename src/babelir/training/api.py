"""``babelir.train``: the one entry point of training, for ``babelir train``, ``torchrun`` and scripts alike.

The settings may be a :class:`TrainConfig`, a dict, a YAML/TOML file or nothing (the defaults), with
keyword overrides on top: :func:`babelir.training.config.resolve_config` reads them with the command
line's precedence (defaults < file < flags < keywords) and checks, so a misspelt or mistyped setting
fails before a model is loaded, naming the key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from babelir.training.config import TrainConfig
from babelir.training.config_sources import resolve_config
from babelir.training.distributed import DistributedContext
from babelir.training.trainer import CoTrainer, TrainResult
from babelir.utils.cache import cache_dir, content_hash

ConfigLike = TrainConfig | Mapping[str, Any] | str | os.PathLike | None

__all__ = ["ConfigLike", "TrainResult", "resolve_config", "train"]


def train(
    config: ConfigLike = None,
    output_dir: str | os.PathLike | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    dist: DistributedContext | None = None,
    **overrides: Any,
) -> TrainResult:
    """Train a retriever as ``babelir train`` does; returns a :class:`TrainResult` (``model_path``:
    a sentence-transformers folder that :func:`babelir.evaluate`, :func:`babelir.load_model` and
    ``babelir index`` take; ``steps``, ``seconds``, ``last``: the final losses).

    ``config``: a :class:`TrainConfig`, a dict of settings, a YAML/TOML file (or a packaged config's
    name, e.g. ``"default"``), or None (the defaults: ``me5-small`` on the embedded default data).
    ``overrides``: any setting by name, applied last, e.g.
    ``train("configs/default.yaml", "runs/x", steps=50, semantic_weight=0.5)``.

    ``output_dir`` gets ``model/``, ``train_log.jsonl``, ``config.yaml`` and checkpoints (``resume=True``
    continues from the last one; ``overwrite=True`` trains again where a finished model is, replacing
    it). None: a folder under babelir's cache named by the settings' hash, where a finished run with the
    same settings is handed back instead of trained again. ``dist``: the ``torchrun`` job (default: the
    current process group, or one process).
    """
    settings = resolve_config(config, **overrides)
    if output_dir is None:
        output_dir = cache_dir("runs") / content_hash(settings.identity())
        resume = resume or output_dir.exists()
    return CoTrainer(settings, output_dir, dist=dist).train(resume=resume, overwrite=overwrite)
