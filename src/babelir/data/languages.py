"""Language codes: ISO 639-1 primary codes, optionally with BCP 47 script/region subtags.

Why validate at all: the language contrastive loss groups sentences by language, and evaluation reports
per language, so a typo (``"ger"``, ``"en_us "``, ``"Deutsch"``) would silently create a new language.
Accepted: a two-letter ISO 639-1 code (``de``), optionally followed by a script (``zh-Hant``) and/or a
region (``pt-BR``, ``es-419``), separated by ``-`` or ``_``. Codes are normalised to BCP 47 case
(``ZH_hant_tw`` -> ``zh-Hant-TW``). Three-letter codes (``deu``, ``eng_Latn``) are not accepted: map
them to ISO 639-1 before reading.
"""

from __future__ import annotations

import functools
import os
import re

from babelir.data.errors import DataError

# ISO 639-1 two-letter codes, including the deprecated "bh" and "sh" that older corpora still use.
_CODES = """
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv
dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig
ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh
mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru
rw sa sc sd se sg sh si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty
ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
"""
ISO_639_1: frozenset[str] = frozenset(_CODES.split())

_CODE = re.compile(r"^([A-Za-z]{2})(?:[-_]([A-Za-z]{4}))?(?:[-_]([A-Za-z]{2}|[0-9]{3}))?$")


@functools.lru_cache(maxsize=4096)
def normalize_language(code: str) -> str | None:
    """The normalised code, or ``None`` when ``code`` is not a known ISO 639-1 language (with subtags).

    A question (is this a language code?), e.g. for telling a header of codes from data; to *validate*
    a code that must be one, use :func:`language_code`.
    """
    if not isinstance(code, str):
        return None
    match = _CODE.match(code.strip())
    if not match or match.group(1).lower() not in ISO_639_1:
        return None
    primary, script, region = match.groups()
    parts = [primary.lower()]
    if script:
        parts.append(script.title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


def language_code(
    code: object, what: str = "", path: str | os.PathLike | None = None, line: int | None = None
) -> str:
    """The normalised form of ``code``, or a :class:`DataError` that says what was wrong and where.

    The one check every entry point applies (readers, corpora, ``babelir search --language``, the
    server's ``language`` field), so a code accepted in one place is accepted, and spelled, the same
    everywhere. ``what`` names the code's origin in the message (``"given as target_lang"``,
    ``"in column 'source_lang'"``); ``path`` and ``line`` locate it when it came from a file.
    """
    normalized = normalize_language(code) if isinstance(code, str) else None
    if normalized is None:
        origin = f" {what}" if what else ""
        raise DataError(path, line, f"unknown language code {code!r}{origin} (expected ISO 639-1, e.g. 'de')")
    return normalized
