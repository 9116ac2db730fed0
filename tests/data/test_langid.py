"""babelir.data.langid: py3langid behind babelir's language codes, restricted and abstaining."""

from __future__ import annotations

import pytest

from babelir.data.errors import DataError
from babelir.data.langid import LanguageIdentifier, supported_languages


def test_short_texts_of_several_scripts_are_identified() -> None:
    ident = LanguageIdentifier()
    texts = ["Wer ist der gute Hirte?", "Who is the good shepherd?", "Qui est le bon berger ?",
             "Кто добрый пастырь?", "من هو الراعي الصالح؟", "好牧人是谁？"]
    assert ident.identify_many(texts) == ["de", "en", "fr", "ru", "ar", "zh"]


def test_restricting_the_candidates_decides_close_calls_and_keeps_the_callers_codes() -> None:
    # Portuguese and Spanish are close; among {es, de} a Portuguese-looking sentence is Spanish, never pt
    restricted = LanguageIdentifier(["es", "de", "zh-Hant"])
    assert restricted.identify("O bom pastor dá a vida pelas ovelhas")[0] == "es"
    assert restricted.identify("我是好牧人")[0] == "zh-Hant"  # identified as zh, named as the caller did
    # the shared model is not left restricted
    assert LanguageIdentifier().identify("O bom pastor dá a sua vida pelas ovelhas")[0] == "pt"


def test_texts_without_letters_or_below_the_confidence_get_none() -> None:
    ident = LanguageIdentifier(["de", "en", "fr"], min_confidence=0.99)
    assert ident.identify("12345 !!") == (None, 0.0)
    assert ident.identify("ok")[0] is None


def test_languages_the_model_does_not_know_are_reported() -> None:
    assert {"en", "sw", "tl", "hi", "ko", "vi"} <= supported_languages()
    with pytest.raises(DataError, match="none of the languages given can be identified"):
        LanguageIdentifier(["xx"])
    partly = LanguageIdentifier(["de", "xx"])
    assert partly.unsupported == {"xx"} and partly.languages == {"de"}
