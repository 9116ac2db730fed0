"""Named seeds: one run seed, an independent generator per purpose."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def derive_seed(seed: int, *names: Any) -> int:
    """A 64-bit seed for a named purpose (``derive_seed(0, "parallel", "de")``), independent across names.

    Lets one run seed give each data sample its own order without correlations between them. SHA-256
    of the JSON of ``[seed, *names]``, so the value is stable across Python versions and platforms
    (the default data's splits depend on it).
    """
    blob = json.dumps([seed, *names], sort_keys=True, default=str).encode("utf-8")
    return int.from_bytes(hashlib.sha256(blob).digest()[:8], "big")
