"""Dev and test splits of the Bible benchmarks: choose on dev, report once on test.

Every ``bible-xref-<lang>``, ``bible-xref-pool`` and ``bible-bitext-<lang>`` benchmark has two more names:

* ``<name>-dev``: exactly the subsample experiment files have always scored and every configuration
  was chosen on (:func:`babelir.evaluation.benchmarks.mini.subsample` with 100 queries, 600 documents,
  seed 0; ``regression.yaml``'s 60 queries are among them). It has that one name: experiment files with
  those sizes score it as ``<name>-dev`` (their saved results, once keyed ``<name>-mini``, were renamed).
* ``<name>-test``: queries no earlier report has used. A test query verse is none of :func:`used_items`:
  the verse of any dev query of any family in any language (a pooled query ``de:40.1.1`` uses verse
  ``40.1.1``, whose translations are queries too) and the 250 query verses of the small xref and pool
  benchmarks, on which the pool configurations and the baselines were compared (``reports/evaluations``,
  ``reports/baselines.md``). Drawn with a fixed seed from every usable NT verse with NT cross references
  (:func:`babelir.evaluation.benchmarks.bible.selection`), identical ids and qrels in every language.

Test sizes: 300 query verses and a corpus of 1,800 verses (their cross-referenced verses plus random
distractors), in the same policy as the small variants. Why these numbers: three times dev's 100
queries makes the clustered interval about 1.7 times narrower than dev's; six documents per query as in
dev (600 per 100) keeps the share of distractors near dev's (55% of the corpus against 50%), so test
scores sit near dev's scale;
and the cost fits 2 CPU cores: 2,100 texts per language (three times dev's 700), about 80 s per language
for the 12-layer me5-small at the 16 texts per CPU-second measured in ``reports/baselines.md`` (1.7x
on 2 cores), so the eight languages of the claims files take about 11 minutes per trained model (dev:
under 4).
``bible-xref-pool-test`` pools the same 300 queries and 1,800 verses in all 22 languages (as the small
pool pools the small selection): its texts are those of the 22 ``bible-xref-<lang>-test`` benchmarks, so
after them it costs only search. ``bible-bitext-<lang>-test`` draws 300 query verses (none of
:func:`used_items`) from the test corpus and searches them among its 1,800 English verses, so both sides
are xref-test corpus texts (as ``bible-bitext-<lang>`` reuses the small corpus).
"""

from __future__ import annotations

import dataclasses
import functools
import random

from babelir.data.sources import bible as bible_source
from babelir.evaluation.benchmarks import bible
from babelir.evaluation.benchmarks.base import Benchmark, BenchmarkMeta, item_of

SPLITS = ("dev", "test")
FAMILIES = (bible.XREF.name, bible.POOL.name, bible.BITEXT.name)  # the families that have splits
DEV_QUERIES, DEV_DOCUMENTS, DEV_SEED = 100, 600, 0  # the subsample experiment files score (mini.subsample)
TEST_QUERIES, TEST_DOCUMENTS = 300, 1800
TEST_SEED = 20240616  # fixed: the test split must never change between runs or machines
SPLIT_VERSION = 1  # in the split records' params (so in their cache keys): bump when a split's rule changes


def split_name(parent: str, split: str) -> str:
    """``bible-xref-sw`` -> ``bible-xref-sw-dev`` / ``bible-xref-sw-test``."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    return f"{parent}-{split}"


def split_of(meta: BenchmarkMeta) -> str | None:
    """``dev`` or ``test`` for a split's record; None for any other benchmark (every whole benchmark's
    ``split`` is ``test`` too: BEIR's name for the qrels a folder is scored on)."""
    return meta.split if "split_of" in meta.params else None


def parents() -> list[str]:
    """Every benchmark that has dev and test splits, in registry order."""
    from babelir.evaluation.benchmarks.registry import benchmark_names, get_meta

    return [name for name in benchmark_names() if get_meta(name, sizes=False).family in FAMILIES]


def split_meta(parent: str, split: str) -> BenchmarkMeta:
    """The record of ``<parent>-<split>``: the parent's, with the split, its sizes and what it is."""
    from babelir.evaluation.benchmarks.registry import get_meta

    base = get_meta(parent, sizes=False)
    if split == "dev":
        sizes = {"queries": DEV_QUERIES, "documents": DEV_DOCUMENTS, "seed": DEV_SEED}
        what = (f"Dev split of {parent}: the {DEV_QUERIES} queries of a seeded subsample ({DEV_DOCUMENTS} "
                "documents, seed 0), which experiments choose on; otherwise as the parent.")
    else:
        sizes = {"queries": TEST_QUERIES, "corpus": TEST_DOCUMENTS, "seed": TEST_SEED}
        what = (f"Test split of {parent}: {TEST_QUERIES} query verses that no dev query and no earlier "
                f"report used, against {TEST_DOCUMENTS} verses per language; report once, never choose on it.")
    params = {k: v for k, v in base.params.items() if k not in ("queries", "corpus", "seed")}
    return dataclasses.replace(
        base,
        name=split_name(parent, split),
        split=split,
        description=what,
        params={**params, **sizes, "split_of": parent, "split_version": SPLIT_VERSION},
        sizes={},
    )


def build_dev(parent: str) -> Benchmark:
    """The subsample experiments score (same queries, corpus and qrels), under the dev record."""
    from babelir.evaluation.benchmarks.mini import subsample

    mini = subsample(parent, DEV_QUERIES, DEV_DOCUMENTS, DEV_SEED)
    dev = dataclasses.replace(mini, meta=split_meta(parent, "dev"), path=None)
    dev.meta.sizes = dev.compute_sizes()
    return dev


@functools.lru_cache(maxsize=1)
def used_items() -> frozenset[str]:
    """Verse keys no test query may use: every dev query's verse, in every family and language, and the
    query verses of the small xref and pool benchmarks (see the module docstring)."""
    from babelir.evaluation.benchmarks.registry import get_meta

    items = {bible_source.verse_key(v) for v in bible.selection("small")[0]}
    one_per_family = {get_meta(name, sizes=False).family: name for name in reversed(parents())}
    for parent in one_per_family.values():  # a family's ids are the same in every language (tests check all)
        items.update(item_of(q) for q in build_dev(parent).queries)
    return frozenset(items)


@functools.lru_cache(maxsize=1)
def held_out_selection() -> tuple[bible.Selection, tuple[bible_source.VerseId, ...]]:
    """``((query verses, corpus verses, links), bitext query verses)`` of the test split, for every language."""
    sources, _, links = bible.selection("full")
    used = used_items()
    rng = random.Random(TEST_SEED)
    eligible = [v for v in sources if bible_source.verse_key(v) not in used]
    chosen = bible.sample_selection(eligible, bible.verse_ids(), links, TEST_QUERIES, TEST_DOCUMENTS, rng)
    bitext_eligible = [v for v in chosen[1] if bible_source.verse_key(v) not in used]
    bitext_queries = tuple(sorted(rng.sample(bitext_eligible, min(TEST_QUERIES, len(bitext_eligible)))))
    return chosen, bitext_queries


def build_test(parent: str) -> Benchmark:
    """``<parent>-test`` from :func:`held_out_selection`, built like its parent's family."""
    from babelir.evaluation.benchmarks.registry import get_meta

    meta = split_meta(parent, "test")
    family, lang = get_meta(parent, sizes=False).family, meta.languages[0]
    chosen, bitext_queries = held_out_selection()
    if family == bible.XREF.name:
        return bible.xref_benchmark(lang, chosen, meta)
    if family == bible.POOL.name:
        return bible.pool_benchmark(chosen, meta)
    if family == bible.BITEXT.name:
        return bible.bitext_benchmark(lang, bitext_queries, chosen[1], meta)
    raise ValueError(f"{parent} ({family}) has no test split; families with splits: {', '.join(FAMILIES)}")


def build_split(parent: str, split: str) -> Benchmark:
    return build_dev(parent) if split == "dev" else build_test(parent)
