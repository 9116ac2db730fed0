"""Language codes: one check (``language_code``) that validates, normalises and names where a code came from."""

from __future__ import annotations

import pytest

from babelir.data.errors import DataError
from babelir.data.languages import language_code, normalize_language


@pytest.mark.parametrize(
    ("code", "normalized"),
    [("de", "de"), (" DE ", "de"), ("pt_br", "pt-BR"), ("ZH_hant_tw", "zh-Hant-TW"), ("es-419", "es-419")],
)
def test_codes_are_normalised_to_bcp47_case(code: str, normalized: str) -> None:
    assert language_code(code) == normalized == normalize_language(code)


@pytest.mark.parametrize("code", ["ger", "eng_Latn", "Deutsch", "xx", "", "en-", 5, None, ["en"]])
def test_anything_else_is_a_data_error_naming_the_code(code: object) -> None:
    with pytest.raises(DataError, match=r"^<input>: unknown language code .* \(expected ISO 639-1, e\.g\. 'de'\)$"):
        language_code(code)
    if isinstance(code, str):
        assert normalize_language(code) is None


def test_the_error_says_where_the_code_came_from() -> None:
    with pytest.raises(DataError) as err:
        language_code("klingon", "in column 'target_lang'", "pairs.tsv", 7)
    assert str(err.value) == (
        "pairs.tsv:7: unknown language code 'klingon' in column 'target_lang' (expected ISO 639-1, e.g. 'de')"
    )
    assert err.value.problem.startswith("unknown language code 'klingon'")
