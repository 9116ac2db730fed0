"""Hard-negative mining with babelir's own index (:mod:`babelir.mining.negatives`; ``babelir mine`` in
:mod:`babelir.mining.command`). The names below are the package's public API."""

from babelir.mining.negatives import (
    DEFAULT_DEPTH,
    DEFAULT_MARGIN,
    DEFAULT_NEGATIVES,
    MiningStats,
    mine_hard_negatives,
    positives_corpus,
)

__all__ = ["DEFAULT_DEPTH", "DEFAULT_MARGIN", "DEFAULT_NEGATIVES", "MiningStats", "mine_hard_negatives",
           "positives_corpus"]
