"""Backbones by name (``me5-small``, ``me5-small-L4``, ``tiny``, ``minilm-en``) or model folder, built once
from installed packages into babelir's cache (:mod:`babelir.backbones.registry`). The names below are the
package's public API."""

from babelir.backbones.registry import (
    DEFAULT_BACKBONE,
    BackboneError,
    hub_model,
    known_backbones,
    resolve_backbone,
)

__all__ = ["DEFAULT_BACKBONE", "BackboneError", "hub_model", "known_backbones", "resolve_backbone"]
