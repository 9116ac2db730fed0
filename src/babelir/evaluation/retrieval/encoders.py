"""Evaluation's encoders are :mod:`babelir.encoding.protocol`'s, the one protocol every command encodes
through; these names stay for existing imports."""

from babelir.encoding.protocol import (
    BACKBONE_LANGUAGES,
    USE_LANGUAGES,
    USE_NAMES,
    Encoder,
    ModelEncoder,
    Progress,
    SentenceTransformerEncoder,
    UniversalSentenceEncoder,
)

__all__ = ["BACKBONE_LANGUAGES", "USE_LANGUAGES", "USE_NAMES", "Encoder", "ModelEncoder", "Progress",
           "SentenceTransformerEncoder", "UniversalSentenceEncoder"]
