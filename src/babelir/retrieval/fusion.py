"""Lexical + dense fusion: one ranking from a dense run and a BM25 run of the same query.

Methods, from the field:

* ``convex@W``: a convex combination of per-query min-max-normalised scores,
  ``(1 - W) * dense' + W * lexical'``, where ``s' = (s - min) / (max - min)`` over that list's candidates
  and a document missing from one list gets 0 there (Bruch, Gai and Ingber 2023, "An Analysis of Fusion
  Functions for Hybrid Retrieval", ACM TOIS; the ``W`` of BGE-M3's and Pyserini's hybrids). ``W`` is the
  lexical share: 0 is dense alone, 1 is BM25 alone.
* ``rrf@K``: reciprocal rank fusion, ``sum 1 / (K + rank)`` over the two lists (Cormack, Clarke and
  Buettcher 2009, SIGIR; K = 60 there and here by default). It ignores the scores' scales entirely.

Modes, for mixed-language collections, where BM25 only matches the query's own language:

* ``all``: the two lists are fused as they are, so the lexical list pulls the ranking toward the
  query's language;
* ``slots``: the dense ranking decides which ranks belong to documents in the query's language; fusion
  reorders only those ranks (over the dense list's own-language documents and the BM25 hits in that
  language), and every other rank keeps its dense document. The top ``k`` spans the languages dense
  retrieval gave it. In a one-language collection it is the same as ``all``; a query whose language is
  unknown is ranked by dense alone. Its scores are rank scores (``1 - (rank - 1) / depth``).

Why hand-written and not ``ranx.fuse``: the functions are a few lines each, ``ranx`` needs numba and
llvmlite (hundreds of MB) for the server's every query, and babelir's ``slots`` mode is not a ranx method.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

Key = TypeVar("Key", bound=Hashable)

METHODS = ("convex", "rrf")
MODES = ("all", "slots")
DEFAULT_DEPTH = 100
_SPEC = re.compile(r"(?P<method>[a-z]+)(?:@(?P<param>[0-9.]+))?(?::(?P<mode>[a-z]+))?")


@dataclass(frozen=True)
class FusionSettings:
    """How two runs are fused: ``method`` (``convex`` or ``rrf``), its parameter (``weight``: the
    lexical share of ``convex``; ``rrf_k``), the ``mode`` (``all`` or ``slots``) and how many candidates
    each list gives (``depth``)."""

    method: str = "convex"
    weight: float = 0.3
    rrf_k: int = 60
    mode: str = "all"
    depth: int = DEFAULT_DEPTH

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"fusion method {self.method!r}: use one of {', '.join(METHODS)}")
        if self.mode not in MODES:
            raise ValueError(f"fusion mode {self.mode!r}: use one of {', '.join(MODES)}")
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"fusion weight {self.weight}: the lexical share lies between 0 and 1")
        if self.rrf_k < 1 or self.depth < 1:
            raise ValueError("rrf's K and the depth are positive counts")

    @classmethod
    def parse(cls, spec: str) -> FusionSettings:
        """``convex@0.3``, ``convex@0.3:slots``, ``rrf``, ``rrf@60:slots`` (``convex`` alone: weight 0.3)."""
        match = _SPEC.fullmatch(spec.strip())
        if match is None:
            raise ValueError(f"fusion {spec!r}: write METHOD[@PARAMETER][:MODE], e.g. convex@0.3 or rrf:slots")
        method, param, mode = match["method"], match["param"], match["mode"] or "all"
        try:
            if method == "rrf":
                if param is not None and not param.isdigit():
                    raise ValueError(f"fusion {spec!r}: rrf's K is a whole number, e.g. rrf@60")
                return cls("rrf", rrf_k=int(param) if param else 60, mode=mode)
            return cls(method, weight=float(param) if param else cls.weight, mode=mode)
        except ValueError as err:
            raise ValueError(str(err) if str(err).startswith("fusion") else f"fusion {spec!r}: {err}") from None

    @property
    def spec(self) -> str:
        """The string :meth:`parse` reads back (recorded in run descriptions and index folders)."""
        param = f"{self.weight:g}" if self.method == "convex" else str(self.rrf_k)
        return f"{self.method}@{param}" + (f":{self.mode}" if self.mode != "all" else "")

    def to_dict(self) -> dict[str, Any]:
        return {"spec": self.spec, **asdict(self)}


def _ranked(run: Mapping[Key, float]) -> list[Key]:
    """A run's keys by score (ties: the order given, which is rank order for babelir's runs)."""
    order = {key: i for i, key in enumerate(run)}
    return sorted(run, key=lambda key: (-run[key], order[key]))


def _min_max(run: Mapping[Key, float]) -> dict[Key, float]:
    if not run:
        return {}
    low, high = min(run.values()), max(run.values())
    if high <= low:
        return dict.fromkeys(run, 1.0)
    return {key: (score - low) / (high - low) for key, score in run.items()}


def fuse_lists(dense: Mapping[Key, float], lexical: Mapping[Key, float], settings: FusionSettings) -> list[tuple[Key, float]]:
    """Every candidate of either list with its fused score, best first (mode ``all``; ties: dense rank,
    then lexical rank)."""
    dense_order, lexical_order = _ranked(dense), _ranked(lexical)
    if settings.method == "convex":
        d, w = _min_max(dense), _min_max(lexical)
        scores = {key: (1.0 - settings.weight) * d.get(key, 0.0) + settings.weight * w.get(key, 0.0)
                  for key in (*dense_order, *lexical_order)}
    else:
        scores = dict.fromkeys((*dense_order, *lexical_order), 0.0)
        for order in (dense_order, lexical_order):
            for rank, key in enumerate(order, start=1):
                scores[key] += 1.0 / (settings.rrf_k + rank)
    position = {key: i for i, key in enumerate(scores)}  # dense rank first, then lexical rank
    return sorted(scores.items(), key=lambda item: (-item[1], position[item[0]]))


def fuse(
    dense: Mapping[Key, float],
    lexical: Mapping[Key, float],
    settings: FusionSettings,
    k: int,
    language_of: Callable[[Key], str | None] | None = None,
    query_language: str | None = None,
) -> list[tuple[Key, float]]:
    """The top ``k`` of the fused ranking of one query.

    ``dense`` and ``lexical``: each list's candidates and scores (a dict in rank order, as runs are);
    ``language_of`` and ``query_language`` are what mode ``slots`` needs (the documents' languages and the
    query's; ``None``: unknown, ranked by dense alone).
    """
    if settings.mode == "all":
        return fuse_lists(dense, lexical, settings)[:k]
    dense_order = _ranked(dense)
    if query_language is None or language_of is None:
        return [(key, dense[key]) for key in dense_order[:k]]

    def own(key: Key) -> bool:
        return language_of(key) == query_language

    reordered = iter(fuse_lists({key: dense[key] for key in dense_order if own(key)},
                                {key: s for key, s in lexical.items() if own(key)}, settings))
    # each own-language rank takes the next fused own-language document (never exhausted: the fused
    # list holds every own-language document of the dense list); the other ranks keep theirs
    out = [next(reordered)[0] if own(key) else key for key in dense_order[:k]]
    depth = max(len(dense_order), 1)
    return [(key, 1.0 - rank / depth) for rank, key in enumerate(out)]


# What an index with a lexical part searches with when nothing else is set (no fusion.json): chosen on dev
# queries (reports/experiments/hybrid-dev.md: the best mean over the Bible, Wikipedia-pool and Bible-pool
# dev groups for the shipped defaults' model), then measured once on test against dense alone and BM25
# (reports/claims.md, "Lexical + dense").
SHIPPED_FUSION = FusionSettings(weight=0.5, mode="slots")
