"""Language neutralization as a wrapper on the Encoder protocol: any encoder's vectors with each language's
statistics removed (:class:`~babelir.encoding.neutral.LanguageNeutralizer`, fitted at ``babelir index``).

Why a wrapper: whoever holds an :class:`~babelir.encoding.protocol.Encoder` (``babelir encode``, a script, an
evaluation) gets neutralized vectors by wrapping it, with no second code path. A text's language is the one
given, else the one identified among the statistics' languages; a text in a language without statistics,
or one not identified, is left as it is (``encode_with_mask`` says which were changed).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from babelir.data.languages import language_code
from babelir.encoding.neutral import LanguageNeutralizer
from babelir.encoding.protocol import Encoder, Progress


class NeutralizedEncoder(Encoder):
    """``encoder``'s vectors with ``neutralizer``'s statistics removed; ``language`` fixes every text's
    language (else each is identified)."""

    def __init__(self, encoder: Encoder, neutralizer: LanguageNeutralizer, language: str | None = None) -> None:
        self.encoder, self.neutralizer = encoder, neutralizer
        self.language = language_code(language, "given as the language") if language else None
        self.name = f"{encoder.name} + neutralization"
        self.languages = encoder.languages
        self.uses_roles = encoder.uses_roles

    def fingerprint(self) -> str:
        """The wrapped encoder's, plus the statistics (settings and arrays) and how languages are found."""
        n = self.neutralizer
        digest = hashlib.sha256(json.dumps(n.settings.to_dict(), sort_keys=True).encode())
        for key in sorted(n.stats):
            digest.update(repr(key).encode() + n.stats[key].tobytes())
        for array in n.leace or ():
            digest.update(array.tobytes())
        return f"{self.encoder.fingerprint()}-neutral-{digest.hexdigest()[:16]}-{self.language or 'identified'}"

    def languages_of(self, texts: list[str]) -> list[str | None]:
        """Each text's language as the statistics are applied: the given one, else the identified one."""
        if not self.neutralizer.needs_language:
            return [None] * len(texts)
        if self.language is not None:
            return [self.language] * len(texts)
        return self.neutralizer.identify(texts)

    def encode_with_mask(
        self, texts: list[str], role: str = "document", batch_size: int = 32, progress: Progress | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The neutralized vectors and which of them were changed."""
        vectors = self.encoder.encode(texts, role, batch_size, progress)
        return self.neutralizer.apply(vectors, self.languages_of(texts), role)

    def encode(
        self, texts: list[str], role: str = "document", batch_size: int = 32, progress: Progress | None = None
    ) -> np.ndarray:
        return self.encode_with_mask(texts, role, batch_size, progress)[0]

    def describe(self) -> dict[str, Any]:
        n = self.neutralizer
        return {**self.encoder.describe(), "name": self.name, "fingerprint": self.fingerprint(),
                "neutralization": {**n.settings.to_dict(), "languages": sorted(n.languages)},
                "language": self.language}
