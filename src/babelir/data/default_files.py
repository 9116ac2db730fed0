"""What the default training files hold, and the split that keeps evaluation data out of them.

:mod:`babelir.data.defaults` decides where the files go and caches them; this module decides which texts
go into each (``write_retrieval``, ``write_parallel``, ``write_nonparallel``, deterministic for given
settings) and owns the held-out English Wikipedia articles that evaluation reads back.

Split (what evaluation may use without leaking training data):

* No New Testament verse appears in any file: NT verses and NT cross references are evaluation data.
* ``heldout_wiki_keys(500, seed)`` English articles are excluded from training; evaluation on English
  Wikipedia must use exactly these (``training_wiki_keys`` is the complement). Spanish and French
  Wikipedia are never used in training (they cover the same vital-article topics: zero-shot transfer).
* Parallel pairs: for each language its own seeded sample of OT verses (so an English sentence rarely
  appears twice in a batch with two translations), taken as a prefix of a seeded permutation, so that
  smaller caps give nested subsets (100 within 1k within 10k pairs, for the "how much parallel data"
  experiment). Placeholder verses and verses merged with a following placeholder are skipped.
* Bible texts come from ``bible.usable_verses`` (placeholders dropped, WEB backtick quotes fixed), which
  evaluation should read too.
* Non-parallel sentences: OT verses with *disjoint* verse ids across languages (no sentence has its
  translation among them), and never a verse that is used in a parallel pair of the same language
  (so the alternative language loss never meets a "non-parallel" copy of its own anchor). Because ids are
  disjoint, a language can receive at most about 23,145 / (number of languages) sentences.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

from babelir.data.sources import bible, wiki
from babelir.utils.atomic import atomic_open
from babelir.utils.seeding import derive_seed

HELDOUT_WIKI_ARTICLES = 500
DEFAULT_SEED = 0


def _wiki_permutation(seed: int) -> list[str]:
    keys = [article.key for article in wiki.load_articles("en")]
    random.Random(derive_seed(seed, "heldout-wiki-en")).shuffle(keys)
    return keys


def heldout_wiki_keys(n: int = HELDOUT_WIKI_ARTICLES, seed: int = DEFAULT_SEED) -> frozenset[str]:
    """Keys of the English Wikipedia articles reserved for evaluation (never in training data).

    A prefix of a seeded permutation of all English articles with a lead paragraph, so a smaller ``n``
    gives a subset of a larger one.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return frozenset(_wiki_permutation(seed)[:n])


def training_wiki_keys(n_heldout: int = HELDOUT_WIKI_ARTICLES, seed: int = DEFAULT_SEED) -> frozenset[str]:
    """The complement of :func:`heldout_wiki_keys`: English articles training may use."""
    heldout = heldout_wiki_keys(n_heldout, seed)
    return frozenset(a.key for a in wiki.load_articles("en")) - heldout


# ---------------------------------------------------------------------------------------------- files


def _jsonl(handle: Any, record: dict[str, Any]) -> None:
    handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_retrieval(path: Path, settings: dict[str, Any]) -> dict[str, int]:
    """``retrieval.jsonl``: description and title -> lead paragraph of each training article, then OT
    cross references (verse -> verse, English); returns the counts by source."""
    heldout = heldout_wiki_keys(settings["heldout_wiki_articles"], settings["seed"])
    counts: Counter[str] = Counter()
    with atomic_open(path) as handle:

        def row(source: str, query: str, positive: str, query_id: str, positive_id: str) -> None:
            record = {"query": query, "positive": positive, "source": source}
            _jsonl(handle, record | {"query_id": query_id, "positive_id": positive_id})
            counts[source] += 1

        for article in wiki.load_articles("en"):
            if article.key in heldout:
                continue
            for source, query in (("wiki-description", article.description), ("wiki-title", article.title)):
                if query:
                    row(source, query, article.extract, article.key, article.key)
        verses = bible.usable_verses("en", bible.OLD_TESTAMENT)
        for src, targets in bible.cross_references_within(bible.OLD_TESTAMENT).items():
            for dst in targets:
                if src in verses and dst in verses:
                    row("bible-xref", verses[src], verses[dst], bible.verse_key(src), bible.verse_key(dst))
    return {source: counts[source] for source in ("wiki-description", "wiki-title", "bible-xref")}


def _aligned_ids(lang: str) -> list[bible.VerseId]:
    """OT verse ids usable as an English <-> ``lang`` pair, sorted (the order the permutation starts from)."""
    english = bible.usable_verses("en", bible.OLD_TESTAMENT)
    other = bible.usable_verses(lang, bible.OLD_TESTAMENT)
    loose = bible.merged_neighbours("en", bible.OLD_TESTAMENT) | bible.merged_neighbours(
        lang, bible.OLD_TESTAMENT
    )
    return sorted(vid for vid in english.keys() & other.keys() if vid not in loose)


def write_parallel(path: Path, settings: dict[str, Any]) -> dict[str, set[bible.VerseId]]:
    """``parallel.tsv``: English -> each language; returns the verse ids used per language (English: all)."""
    used: dict[str, set[bible.VerseId]] = {"en": set()}
    english = bible.usable_verses("en", bible.OLD_TESTAMENT)
    with atomic_open(path) as handle:
        handle.write("source\ttarget\tsource_lang\ttarget_lang\tid\n")
        for lang in settings["parallel_languages"]:
            other = bible.usable_verses(lang, bible.OLD_TESTAMENT)
            ids = _aligned_ids(lang)
            random.Random(derive_seed(settings["seed"], "parallel", lang)).shuffle(ids)
            chosen = ids[: settings["parallel_pairs_per_language"]]
            for vid in chosen:
                handle.write(f"{english[vid]}\t{other[vid]}\ten\t{lang}\t{bible.verse_key(vid)}\n")
            used[lang] = set(chosen)
            used["en"].update(chosen)
    return used


def write_nonparallel(path: Path, settings: dict[str, Any], used: dict[str, set[bible.VerseId]]) -> None:
    """``nonparallel.jsonl``: OT verse ids dealt round-robin to languages so that no id goes to two
    languages, skipping each language's ``used`` parallel verses."""
    languages: list[str] = settings["nonparallel_languages"]
    cap: int = settings["nonparallel_per_language"]
    texts = {lang: bible.usable_verses(lang, bible.OLD_TESTAMENT) for lang in languages}
    ids = sorted(bible.load_verses("en", bible.OLD_TESTAMENT))
    random.Random(derive_seed(settings["seed"], "nonparallel")).shuffle(ids)
    taken = dict.fromkeys(languages, 0)
    turn = 0
    with atomic_open(path) as handle:
        for vid in ids:
            if not languages or all(n >= cap for n in taken.values()):
                break
            for step in range(len(languages)):
                lang = languages[(turn + step) % len(languages)]
                if taken[lang] < cap and vid in texts[lang] and vid not in used.get(lang, ()):
                    _jsonl(handle, {"text": texts[lang][vid], "language": lang, "id": bible.verse_key(vid)})
                    taken[lang] += 1
                    turn = (turn + step + 1) % len(languages)
                    break
