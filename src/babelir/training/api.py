"""``babelir.train``: the Python entry point of ``babelir train``, taking settings the way a script has them.

The settings may be a :class:`TrainConfig`, a dict, a YAML/TOML file or nothing (the defaults), with
keyword overrides on top: the precedence of the command line (defaults < file < flags) and the same
checks, so a misspelt or mistyped setting fails before a model is loaded, naming the key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from babelir.data.errors import DataError
from babelir.training.config import FIELDS, TrainConfig, _coerce, load_config_file
from babelir.training.trainer import TrainResult
from babelir.training.trainer import train as run_training
from babelir.utils.cache import cache_dir, content_hash

ConfigLike = TrainConfig | Mapping[str, Any] | str | os.PathLike | None


def _plain(value: Any) -> Any:
    """Paths as strings (a config file holds strings; so does a saved TrainConfig)."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, list | tuple):
        return [os.fspath(v) if isinstance(v, os.PathLike) else v for v in value]
    return value


def _checked(values: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``values`` as TrainConfig keyword arguments: ``kebab-case`` keys accepted, unknown keys and wrong
    types refused with the file-like ``where`` in the message."""
    out = {}
    for key, value in values.items():
        name = str(key).replace("-", "_")
        if name not in FIELDS:
            raise DataError(where, None, f"unknown training setting {key!r} (known: {', '.join(sorted(FIELDS))})")
        out[name] = _coerce(name, _plain(value), (where, None))
    return out


def resolve_config(config: ConfigLike = None, **overrides: Any) -> TrainConfig:
    """One validated :class:`TrainConfig` from ``config`` (a TrainConfig, a dict of settings, a YAML/TOML
    file, or None for the defaults) with ``overrides`` applied last."""
    source = None
    if config is None:
        values: dict[str, Any] = {}
    elif isinstance(config, TrainConfig):
        values = _checked(config.to_dict(), "<TrainConfig>")  # its fields are not type-checked when set
    elif isinstance(config, Mapping):
        values = _checked(config, "<config dict>")
    elif isinstance(config, str | os.PathLike):
        values, source = load_config_file(config), os.fspath(config)
    else:
        raise TypeError(f"config must be a TrainConfig, a dict, a file path or None, not {type(config).__name__}")
    values.update(_checked(overrides, "<keyword arguments>"))
    return TrainConfig(**values).validate(source)


def train(
    config: ConfigLike = None,
    output_dir: str | os.PathLike | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    **overrides: Any,
) -> TrainResult:
    """Train a retriever as ``babelir train`` does; returns a :class:`TrainResult` (``model_path``:
    a sentence-transformers folder that :func:`babelir.evaluate`, :func:`babelir.load_model` and
    ``babelir index`` take; ``steps``, ``seconds``, ``last``: the final losses).

    ``config``: a :class:`TrainConfig`, a dict of settings, a YAML/TOML file, or None (the defaults:
    ``me5-small`` on the embedded default data). ``overrides``: any setting by name, applied last, e.g.
    ``train("configs/default.yaml", "runs/x", steps=50, semantic_weight=0.5)``.

    ``output_dir`` gets ``model/``, ``train_log.jsonl``, ``config.yaml`` and checkpoints (``resume=True``
    continues from the last one; ``overwrite=True`` trains again where a finished model is, replacing it). None: a folder under babelir's cache named by the settings' hash, where
    a finished run with the same settings is handed back instead of trained again.
    """
    settings = resolve_config(config, **overrides)
    if output_dir is None:
        output_dir = cache_dir("runs") / content_hash(settings.identity())
        resume = resume or output_dir.exists()
    return run_training(settings, output_dir, resume=resume, overwrite=overwrite)
