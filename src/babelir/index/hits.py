"""What a search returns: :class:`Hit` (one document), :class:`QueryLanguage` (what language
neutralization did to a query) and :class:`QueryResult` (both, and the fusion that ranked the hits).
The library (:class:`babelir.index.Index`) and the HTTP API (:mod:`babelir.serve.app`) return these same
fields by construction."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Hit:
    """One result: the document's id, its cosine score, its rank (1 = best), text and language.

    Also the hit of the HTTP API (:mod:`babelir.serve.app` uses it as its response model), so the
    library and the server return the same fields by construction.
    """

    id: str
    score: float
    rank: int
    text: str
    title: str
    language: str


@dataclass(frozen=True, slots=True)
class QueryLanguage:
    """What language neutralization did to one query.

    ``language``: the language used (given or identified; ``None``: unknown); ``source``: ``given``,
    ``identified``, ``unknown`` or ``none`` (the index has no statistics, or they are turned off);
    ``neutralized``: whether its statistics were removed; ``note``: why not, in words, when not.
    """

    language: str | None
    source: str
    neutralized: bool
    note: str = ""


@dataclass(frozen=True, slots=True)
class QueryResult:
    """The hits of one query, what neutralization did to it and the fusion that ranked them (its spec,
    e.g. ``convex@0.3``; ``""``: dense alone)."""

    hits: list[Hit]
    language: QueryLanguage
    fusion: str = ""
