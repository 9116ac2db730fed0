"""The one rule for ``babelir serve``'s numbers: finite, above 0, whole where they count something, and
under a ceiling where one exists; checked wherever a setting enters (a flag, :class:`~babelir.serve.Limits`,
``create_app``, the server).

Why: NaN passes every ``value <= 0`` test, so ``--request-timeout nan`` once started a server on which
every search failed and ``/health`` answered 500 (its JSON cannot hold NaN); an infinite or huge time
limit overflows the timers it reaches. A bad setting is refused at startup, in one line naming it.

No FastAPI or uvicorn here: the command module imports this to check its flags on a core install.
"""

from __future__ import annotations

import math
import numbers

from babelir.utils.errors import BabelirError

MOST_SECONDS = 86400.0  # a day: a longer time limit is a mistake, and far larger ones overflow timers


def number_problem(
    value: object, *, whole: bool = False, most: float | None = None, zero: bool = False, shown: str | None = None
) -> str | None:
    """What is wrong with ``value`` as a setting (``None``: nothing). ``whole``: a count or a size;
    ``most``: the largest allowed; ``zero``: 0 is allowed too; ``shown``: how to write the value (the
    user's own text for a flag)."""
    shown = shown if shown is not None else repr(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return f"{shown} is not a number"
    if whole and not isinstance(value, numbers.Integral):
        return f"{shown} is not a whole number"
    if not math.isfinite(value):
        return f"{shown} is not a finite number"
    if value < 0 or (value == 0 and not zero):
        return f"{shown} must be {'0 or more' if zero else 'greater than 0'}"
    if most is not None and value > most:
        return f"{shown} is more than the most allowed, {most:g}"
    return None


def check_number(
    name: str, value: object, *, whole: bool = False, most: float | None = None, zero: bool = False
) -> None:
    """Raise :class:`BabelirError` (one line: ``<input>: NAME: problem``) when ``value`` breaks the rule."""
    problem = number_problem(value, whole=whole, most=most, zero=zero)
    if problem is not None:
        raise BabelirError(None, None, f"{name}: {problem}")
