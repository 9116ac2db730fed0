"""Placeholder verses and text cleaning added to the Bible source."""

from __future__ import annotations

import pytest

from babelir.data.sources import bible


@pytest.mark.parametrize(
    "text",
    ["-", ":", "(aynı)", "Verszeile ohne Text", "12절과 상동", "(앞절과 동일)", "(ADDED FROM KJV: x => y)"],
)
def test_placeholders(text: str) -> None:
    assert bible.is_placeholder(text)


@pytest.mark.parametrize(
    "text", ["Jesus wept.", "“不可杀人。", "İbrahim, oğlu İsmail’le aynı gün sünnet edildi."]
)
def test_real_verses(text: str) -> None:
    assert not bible.is_placeholder(text)


def test_usable_verses_drop_placeholders_and_fix_quotes() -> None:
    english = bible.usable_verses("en", bible.OLD_TESTAMENT)
    assert not any("`" in text for text in english.values())
    assert english[(1, 3, 1)].count("'") >= 2  # "`You shall not eat...`" became quotes
    turkish = bible.usable_verses("tr", bible.OLD_TESTAMENT)
    assert len(turkish) < len(bible.load_verses("tr", bible.OLD_TESTAMENT))
    assert not any(bible.is_placeholder(text) for text in turkish.values())
