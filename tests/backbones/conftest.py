"""Shared fixtures for backbone tests: sentences in many scripts and built model folders."""

from __future__ import annotations

from pathlib import Path

import pytest

# one or two sentences per script the e5 backbone must handle (Latin, Cyrillic, Arabic, Devanagari,
# CJK, Hangul, kana, Greek, Hebrew, Thai, Bengali) plus accents, full-width forms and odd spacing
MULTISCRIPT = [
    "The quick brown fox jumps over the lazy dog.",
    "¿Dónde está la biblioteca? Ça va très bien, merci.",
    "Съешь же ещё этих мягких французских булок.",
    "مرحبا بكم في عالم البرمجة",
    "यह एक परीक्षण वाक्य है।",
    "我们今天去公园散步吧。",
    "오늘 날씨가 정말 좋네요.",
    "東京タワーは高いです",
    "Ελληνικά γράμματα",
    "עברית זה כיף",
    "ภาษาไทยง่ายนิดเดียว",
    "আমি বাংলায় গান গাই",
    "In the beginning God created the heaven and the earth.",
]


@pytest.fixture(scope="session")
def multiscript() -> list[str]:
    return list(MULTISCRIPT)


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly built ``tiny`` folder (not the user's cache, so the current code is what is tested)."""
    from babelir.backbones.tiny import build_tiny

    return build_tiny(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def me5_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly converted me5-small (~5 s on 2 cores; ~470 MB in a temporary folder)."""
    from babelir.backbones.convert import build_me5_small

    return build_me5_small(tmp_path_factory.mktemp("me5") / "model")
