"""Benchmarks by name: a registry of metadata records, built from installed packages, cached as BEIR folders.

Names (``babelir evaluate --list-benchmarks`` prints them with sizes):

* ``bible-xref-<lang>`` (22 languages), ``bible-xref-pool``, ``bible-bitext-<lang>`` (21, not ``en``),
  ``wiki-<en|es|fr>``; each with a ``-full`` variant (every held-out item; much slower);
* the Bible ones also with ``-dev`` and ``-test`` splits (disjoint query verses: choose on dev, report
  once on test; see :mod:`~babelir.evaluation.benchmarks.splits`);
* suites: ``default`` (every small benchmark), ``full`` (every full one);
* globs over those names (``bible-xref-*``, ``wiki-*``): a glob reaches ``-full``, ``-dev`` or ``-test``
  names only when it says ``full``, ``dev`` or ``test`` itself (``bible-xref-*-test``);
* a path to a BEIR folder (``corpus.jsonl``, ``queries.jsonl``, ``qrels/test.tsv``), optionally
  ``PATH#split`` for another qrels split.

A built-in benchmark is built once, deterministically, and cached under
``<cache>/benchmarks/<name>-<hash>/`` where the hash covers the metadata record (name, parameters,
source package and version, measures) and the builder version: a new package release or builder change
rebuilds it, nothing else does.
"""

from __future__ import annotations

import fnmatch
import functools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from babelir.data.errors import DataError
from babelir.evaluation.benchmarks.base import (
    BEIR_FAMILY,
    SIDECAR,
    Benchmark,
    BenchmarkFamily,
    BenchmarkMeta,
    read_folder,
    write_sidecar,
)

BUILD_VERSION = 1  # bump when a builder changes what it produces


class UnknownBenchmarkError(DataError, KeyError):
    """A benchmark name that matches nothing: a ``DataError`` (one line from the command line) that is
    still the ``KeyError`` a name lookup raises."""

    __str__ = BaseException.__str__  # KeyError's would quote the message


@dataclass(frozen=True)
class Spec:
    name: str
    meta: Callable[[], BenchmarkMeta]
    build: Callable[[], Benchmark]


@functools.lru_cache(maxsize=1)
def _specs() -> dict[str, Spec]:
    from babelir.data.sources import bible as bible_source
    from babelir.data.sources import wiki as wiki_source
    from babelir.evaluation.benchmarks import bible, pool, splits, wiki, wiki_xling

    specs: dict[str, Spec] = {}
    split_parents: list[str] = []

    def add(name: str, meta: Callable[[], BenchmarkMeta], build: Callable[[], Benchmark]) -> None:
        specs[name] = Spec(name, meta, build)

    for variant, suffix in (("small", ""), ("full", "-full")):
        for lang in bible_source.LANGUAGES:
            add(
                f"bible-xref-{lang}{suffix}",
                functools.partial(bible.xref_meta, lang, variant),
                functools.partial(bible.build_xref, lang, variant),
            )
        add(
            f"bible-xref-pool{suffix}",
            functools.partial(bible.pool_meta, variant),
            functools.partial(bible.build_pool, variant),
        )
        for lang in bible_source.LANGUAGES:
            if lang != bible.PIVOT:
                add(
                    f"bible-bitext-{lang}{suffix}",
                    functools.partial(bible.bitext_meta, lang, variant),
                    functools.partial(bible.build_bitext, lang, variant),
                )
        for lang in wiki_source.LANGUAGES:
            add(
                f"wiki-{lang}{suffix}",
                functools.partial(wiki.wiki_meta, lang, variant),
                functools.partial(wiki.build_wiki, lang, variant),
            )
        if variant == "small":
            split_parents = [name for name in specs if name.startswith(("bible-xref-", "bible-bitext-"))]
    for parent in split_parents:
        for split in splits.SPLITS:
            add(
                splits.split_name(parent, split),
                functools.partial(splits.split_meta, parent, split),
                functools.partial(splits.build_split, parent, split),
            )
    for split in wiki_xling.SPLITS:  # the Wikipedia pool: dev and test only, like wiki-xling
        add(pool.wiki_pool_name(split), functools.partial(pool.wiki_pool_meta, split),
            functools.partial(pool.build_wiki_pool, split))
    for query_lang, doc_lang in wiki_xling.DIRECTIONS:  # dev and test only: not in the default suite
        for split in wiki_xling.SPLITS:
            add(
                wiki_xling.name(query_lang, doc_lang, split),
                functools.partial(wiki_xling.xling_meta, query_lang, doc_lang, split),
                functools.partial(wiki_xling.build_xling, query_lang, doc_lang, split),
            )
    return specs


@functools.lru_cache(maxsize=1)
def _families() -> dict[str, BenchmarkFamily]:
    from babelir.evaluation.benchmarks import bible, pool, wiki, wiki_xling

    families = (*bible.FAMILIES, *wiki.FAMILIES, *wiki_xling.FAMILIES, *pool.FAMILIES, BEIR_FAMILY)
    return {family.name: family for family in families}


def family_info(family: str) -> BenchmarkFamily:
    """What a benchmark family declares (per-language label, pooling, extra metrics); each benchmark module
    declares its own. An unknown family (a user's sidecar) reads like a BEIR folder: no language table."""
    return _families().get(family, BEIR_FAMILY)


VARIANT_SUFFIXES = ("-dev", "-test", "-full")  # names with none of them are the small variants


def _variant(name: str) -> str:
    """``dev``, ``test``, ``full`` or ``small``: which sizing of a built-in benchmark a name is."""
    return next((suffix[1:] for suffix in VARIANT_SUFFIXES if name.endswith(suffix)), "small")


def benchmark_names(include_full: bool = False) -> list[str]:
    """Every built-in small name (registry order: xref, pool, bitext, wiki); with ``include_full``, then
    the dev, test and full names too (each group in registry order)."""
    names = list(_specs())
    small = [n for n in names if _variant(n) == "small"]
    if not include_full:
        return small
    return small + [n for suffix in VARIANT_SUFFIXES for n in names if _variant(n) == suffix[1:]]


SUITES = {"default": "small", "all": "small", "full": "full"}


def _split_path(item: str) -> tuple[str, str | None]:
    path, _, split = item.partition("#")
    return path, split or None


def _split_names(item: str) -> list[str]:
    """Comma-separated names; a ``pool:LANG=PATH,LANG=PATH`` spec keeps its own commas (it ends the list,
    or is given on its own)."""
    head, sep, pool_spec = item.partition("pool:")
    if not sep or (head and not head.endswith(",")):
        return item.split(",")
    return [*head.split(","), f"pool:{pool_spec}"]


def resolve_names(items: str | Iterable[str]) -> list[str]:
    """Expand comma-separated names, suites and globs into benchmark names (order kept, no repeats).

    Unknown names are an error that lists what exists, so a typo never silently evaluates nothing.
    """
    if isinstance(items, str):
        items = [items]
    parts = [p.strip() for item in items for p in _split_names(str(item)) if p.strip()]
    specs = _specs()
    out: list[str] = []
    for part in parts:
        if part in SUITES:
            found = [n for n in benchmark_names(include_full=True) if _variant(n) == SUITES[part]]
        elif part in specs:
            found = [part]
        elif any(ch in part for ch in "*?["):
            pool = [n for n in benchmark_names(include_full=True) if _variant(n) == "small" or _variant(n) in part]
            found = [n for n in pool if fnmatch.fnmatchcase(n, part)]
            if not found:
                raise UnknownBenchmarkError(
                    None, None, f"no benchmark matches {part!r}; see 'babelir evaluate --list-benchmarks'"
                )
        elif Path(_split_path(part)[0]).is_dir() or part.startswith("pool:"):
            found = [part]
        else:
            raise UnknownBenchmarkError(
                None, None,
                f"unknown benchmark {part!r}: not a built-in name, suite ({', '.join(SUITES)}), glob or "
                "BEIR folder; see 'babelir evaluate --list-benchmarks'"
            )
        out.extend(n for n in found if n not in out)
    if not out:  # `--benchmarks ''` evaluated nothing and said "done"
        raise UnknownBenchmarkError(None, None, "no benchmark given; name one, a suite (default, full) or a glob; "
                                    "see 'babelir evaluate --list-benchmarks'")
    return out


def get_meta(name: str, sizes: bool = True) -> BenchmarkMeta:
    """The metadata record of a built-in benchmark, without building it (sizes come from the cache;
    ``sizes=False`` returns the declared record alone, without reading a built folder)."""
    spec = _specs().get(name)
    if spec is None:
        raise UnknownBenchmarkError(None, None, f"unknown benchmark {name!r}")
    meta = spec.meta()
    folder = benchmark_dir(name, meta)
    if sizes and (folder / SIDECAR).is_file():
        meta = read_folder(folder).meta
    return meta


def cache_key(meta: BenchmarkMeta) -> dict:
    """Everything a built folder depends on: the whole record (but its measured sizes) and the builder."""
    record = meta.to_dict()
    record.pop("sizes", None)
    return {"build_version": BUILD_VERSION, "meta": record}


def benchmark_dir(
    name: str, meta: BenchmarkMeta | None = None, root: str | os.PathLike | None = None
) -> Path:
    from babelir.utils.cache import cache_dir, content_hash

    meta = meta or _specs()[name].meta()
    base = Path(root) if root else cache_dir("benchmarks")
    return base / f"{name}-{content_hash(cache_key(meta))}"


def load_benchmark(name: str, rebuild: bool = False, root: str | os.PathLike | None = None) -> Benchmark:
    """Load a benchmark by name or BEIR folder path, building and caching built-in ones on first use.

    Built-in benchmarks are always evaluated from their BEIR folder, read back through
    :mod:`babelir.data.beir`, so what users inspect on disk is exactly what was scored.
    """
    spec = _specs().get(name)
    if spec is None:
        from babelir.evaluation.benchmarks.pool import folder_pool, is_folder_pool

        if is_folder_pool(name):
            return folder_pool(name)
        path, split = _split_path(name)
        if Path(path).is_dir():
            return read_folder(path, split=split, name=name if split else None)
        raise UnknownBenchmarkError(None, None, f"unknown benchmark {name!r}")
    meta = spec.meta()
    folder = benchmark_dir(name, meta, root)
    if rebuild or not (folder / SIDECAR).is_file():
        # a cache keyed by its content: a folder another process finished meanwhile is kept (test workers)
        write_benchmark(spec.build(), folder, keep_existing=not rebuild)
    return read_folder(folder)


def write_benchmark(bench: Benchmark, folder: str | os.PathLike, keep_existing: bool = False) -> Path:
    """Write ``bench`` as a BEIR folder plus ``babelir.json`` (atomically, as one folder)."""
    from babelir.data.beir import write_beir
    from babelir.utils.atomic import atomic_directory

    bench.meta.sizes = bench.compute_sizes()
    with atomic_directory(folder, keep_existing=keep_existing) as tmp:
        write_beir(
            tmp,
            {d: {"title": "", "text": t} for d, t in bench.corpus.items()},
            bench.queries,
            bench.qrels,
            split=bench.meta.split,
        )
        write_sidecar(tmp, bench)
    return Path(folder)


__all__ = [
    "Benchmark",
    "BenchmarkFamily",
    "BenchmarkMeta",
    "benchmark_dir",
    "benchmark_names",
    "family_info",
    "get_meta",
    "load_benchmark",
    "read_folder",
    "resolve_names",
    "write_benchmark",
]
