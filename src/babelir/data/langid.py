"""Language identification for texts that carry no language field, through ``py3langid``.

Why this package: it installs offline with its model inside the wheel (4.6 MB, numpy only), covers the
22 Bible languages and ~120 more, and answers in well under a millisecond per short text, so a server can
identify every query. Its naive Bayes model over byte n-grams is weakest on very short texts; two
things help there, and both are used here:

* restricting the candidates to the languages that matter (an index's languages, for its queries):
  a German query then competes with 22 languages, not 140;
* abstaining below a confidence (``min_confidence``), so a text too short or too mixed to tell is left
  without a language rather than given a wrong one. Callers treat ``None`` as "unknown".

``babelir.data.languages`` owns what a language code is; the labels py3langid gives are ISO 639-1
codes for the languages babelir knows, and codes py3langid alone has (``ary``, ``zxx``, ...) are never
returned. Accuracy on the benchmark languages: ``reports/language-identification.md``.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable, Sequence

from babelir.data.errors import DataError
from babelir.data.languages import ISO_639_1, normalize_language

DEFAULT_MIN_CONFIDENCE = 0.5  # of py3langid's length-calibrated probability; chosen in the report above


@functools.lru_cache(maxsize=1)
def _model():
    """py3langid's model, loaded once per process (about 0.3 s)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def supported_languages() -> frozenset[str]:
    """The ISO 639-1 codes the identifier can return."""
    return frozenset(label for label in _model().labels if label in ISO_639_1)


class LanguageIdentifier:
    """Names the language of short texts, among ``languages`` (default: every supported one).

    ``identify`` returns ``(code, confidence)`` with ``code`` ``None`` when the best language's
    probability is below ``min_confidence`` or the text has no letters to go by.
    """

    def __init__(self, languages: Iterable[str] | None = None, min_confidence: float = DEFAULT_MIN_CONFIDENCE):
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence}")
        supported = supported_languages()
        self._full: dict[str, str] = {}  # identified code -> the code the caller gave ("zh" -> "zh-Hant")
        if languages is None:
            self.languages = supported
            self.unsupported: frozenset[str] = frozenset()
        else:
            # "zh-Hant" is identified as "zh": the primary subtag is what the model knows
            wanted = {(normalize_language(lang) or lang).split("-")[0]: lang for lang in languages}
            self.languages = frozenset(code for code in wanted if code in supported)
            self.unsupported = frozenset(lang for code, lang in wanted.items() if code not in supported)
            self._full = {code: lang for code, lang in wanted.items() if code in supported}
        if not self.languages:
            raise DataError(None, None, "none of the languages given can be identified "
                            f"({', '.join(sorted(self.unsupported)) or 'none given'})")
        self.min_confidence = min_confidence
        self._restricted = languages is not None and self.languages != supported
        self._model = _model()
        if self._restricted:
            # a shallow copy restricted once: set_languages slices the copy's own score matrices and leaves
            # the shared model (and its large transition tables, shared by reference) as they are
            self._model = copy.copy(self._model)
            self._model.set_languages(sorted(self.languages))

    def identify(self, text: str) -> tuple[str | None, float]:
        """The text's language and the model's confidence in it (``None`` below ``min_confidence``)."""
        return self.identify_with_confidence([text])[0]

    def identify_many(self, texts: Sequence[str]) -> list[str | None]:
        """The language of each text (``None`` where unknown)."""
        return [code for code, _ in self.identify_with_confidence(texts)]

    def identify_with_confidence(self, texts: Sequence[str]) -> list[tuple[str | None, float]]:
        """``(language or None, confidence)`` per text (thread-safe: the model is only read)."""
        out: list[tuple[str | None, float]] = []
        for text in texts:
            if not isinstance(text, str) or not any(ch.isalpha() for ch in text):
                out.append((None, 0.0))
                continue
            code, confidence = self._model.classify(text)
            keep = code in self.languages and confidence >= self.min_confidence
            out.append((self._full.get(code, code) if keep else None, float(confidence)))
        return out
