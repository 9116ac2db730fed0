"""A benchmark = a BEIR folder (what users can open and inspect) + one metadata record (MTEB-style).

On disk every benchmark, built-in or brought by a user, is a BEIR folder read with
:mod:`babelir.data.beir`. What BEIR's format has no field for lives in a sidecar ``babelir.json``:

* ``metadata``: the :class:`BenchmarkMeta` record (name, family, languages, split, sizes, main metric,
  source package and version, licence, description, the parameters it was built with);
* ``query_language`` / ``doc_language``: one ISO 639-1 code for all, or ``"prefix"`` when ids read
  ``<lang>:<item>`` (pooled corpora), or ``null`` (unknown: BM25 then neither stems nor needs to);
* ``exclude``: which documents leave a query's ranking before scoring: ``identical-ids`` (BEIR's
  ``ignore_identical_ids``; the default for user folders), ``same-item`` (every document with the same
  ``<item>`` as the query, i.e. the query verse and its translations in a pool) or ``none`` (bitext).
* ``main_metric`` (a user's folder without ``metadata``): the measure tables report, e.g. ``mAP@20`` for
  a LAReQA-style pool (default nDCG@10). How to lay out MIRACL, Mr.TyDi, XOR-TyDi and XQuAD-R/LAReQA:
  ``docs/field-benchmarks.md``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from babelir.data.beir import SIDECAR, join_title, load_beir
from babelir.data.errors import DataError
from babelir.evaluation.scoring.metrics import RETRIEVAL_MEASURES

EXCLUDE_RULES = ("identical-ids", "same-item", "none")

# ISO 639-3 code and script per ISO 639-1 code, for MTEB-style ``eval_langs`` (e.g. ``spa-Latn``).
LANGUAGE_INFO: dict[str, tuple[str, str, str]] = {
    "en": ("eng", "Latn", "English"), "es": ("spa", "Latn", "Spanish"), "fr": ("fra", "Latn", "French"),
    "it": ("ita", "Latn", "Italian"), "pt": ("por", "Latn", "Portuguese"), "de": ("deu", "Latn", "German"),
    "ar": ("arb", "Arab", "Arabic"), "zh": ("cmn", "Hans", "Chinese"), "ja": ("jpn", "Jpan", "Japanese"),
    "ru": ("rus", "Cyrl", "Russian"), "tr": ("tur", "Latn", "Turkish"), "bn": ("ben", "Beng", "Bengali"),
    "sw": ("swh", "Latn", "Swahili"), "ro": ("ron", "Latn", "Romanian"), "pl": ("pol", "Latn", "Polish"),
    "ko": ("kor", "Hang", "Korean"), "fa": ("pes", "Arab", "Persian"), "id": ("ind", "Latn", "Indonesian"),
    "vi": ("vie", "Latn", "Vietnamese"), "uk": ("ukr", "Cyrl", "Ukrainian"), "hi": ("hin", "Deva", "Hindi"),
    "tl": ("tgl", "Latn", "Tagalog"),
}  # fmt: skip


def eval_lang(code: str) -> str:
    """``es`` -> ``spa-Latn`` (MTEB's convention); unknown codes pass through."""
    info = LANGUAGE_INFO.get(code)
    return f"{info[0]}-{info[1]}" if info else code


def item_of(text_id: str) -> str:
    """What a query or document is, whatever its language: ``de:40.1.1`` and ``40.1.1`` -> ``40.1.1``. A
    pooled query's translations share its item (``same-item`` exclusion); per-language benchmarks share ids,
    so a query id and its translations in other benchmarks form one cluster (``experiments.stats``)."""
    return text_id.split(":", 1)[-1]


# extra metrics a family may declare; the runner computes each (runner.EXTRA_METRICS) into a result's ``extra``
LANGUAGE_SHARES = "language_shares"  # own-language shares of the top 20, split by query language, AP ceiling


@dataclass(frozen=True)
class BenchmarkFamily:
    """What every benchmark of a family declares beside its own record, so tables and experiment reports read
    it instead of testing names: how its scores map to languages and which extra metrics the runner adds.

    Kept out of :class:`BenchmarkMeta`'s fields (reached as ``meta.family_info``) so saved results, sidecars
    and the cache keys of built folders stay as they were, and results saved before it still resolve.
    """

    name: str
    label: str | None  # short column name in per-language tables ("xref nDCG@10"); None: no per-language table
    pooled: bool = False  # one corpus in every language of the record: scores split by query language
    extra_metrics: tuple[str, ...] = ()  # names in runner.EXTRA_METRICS, computed into a result's ``extra``

    def scored_language(self, languages: list[str]) -> str | None:
        """The one language a score of this family belongs to (its queries'); None when pooled or unknown."""
        return None if self.pooled or not languages else languages[0]


BEIR_FAMILY = BenchmarkFamily("beir", label=None)  # a user's folder: languages unknown, no extras


@dataclass
class BenchmarkMeta:
    """One record per benchmark; results are keyed by all of it (MTEB's lesson: numbers need context)."""

    name: str
    family: str  # bible-xref, bible-xref-pool, bible-bitext, wiki, beir
    description: str
    languages: list[str]  # ISO 639-1 codes of the queries and documents
    main_metric: str = "nDCG@10"  # in ir-measures syntax
    measures: list[str] = field(default_factory=lambda: list(RETRIEVAL_MEASURES))
    split: str = "test"
    source: str = ""  # the package the text comes from
    source_version: str = ""
    license: str = ""
    reference: str = ""
    query_role: str = "query"  # which prompt the encoder uses for the queries
    document_role: str = "document"
    variant: str = "small"  # small (sized for 2 CPU cores) or full
    params: dict[str, Any] = field(default_factory=dict)  # what the builder was given (sizes, seed)
    sizes: dict[str, Any] = field(default_factory=dict)  # measured after building
    eval_langs: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.eval_langs:
            self.eval_langs = [eval_lang(code) for code in self.languages]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def family_info(self) -> BenchmarkFamily:
        """The declarations of this record's family (see :func:`babelir.evaluation.benchmarks.family_info`)."""
        from babelir.evaluation.benchmarks.registry import family_info

        return family_info(self.family)

    @property
    def scored_language(self) -> str | None:
        """The language this benchmark's score belongs to in per-language tables; None when pooled."""
        return self.family_info.scored_language(self.languages)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchmarkMeta:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Benchmark:
    """Queries, corpus (text an encoder sees: ``title text``), qrels and the language/exclusion rules."""

    meta: BenchmarkMeta
    queries: dict[str, str]
    corpus: dict[str, str]
    qrels: dict[str, dict[str, int]]
    query_lang: str | None = None  # a code, "prefix", or None
    doc_lang: str | None = None
    exclude_rule: str = "identical-ids"
    path: Path | None = None

    @property
    def name(self) -> str:
        return self.meta.name

    @staticmethod
    def _language(rule: str | None, item_id: str) -> str | None:
        if rule == "prefix":
            return item_id.split(":", 1)[0]
        return rule

    def query_language(self, qid: str) -> str | None:
        return self._language(self.query_lang, qid)

    def doc_language(self, doc_id: str) -> str | None:
        return self._language(self.doc_lang, doc_id)

    @functools.cached_property
    def exclude(self) -> dict[str, set[str]]:
        """Per query, the documents removed from its ranking (see the module docstring)."""
        if self.exclude_rule == "none":
            return {}
        if self.exclude_rule == "identical-ids":
            return {q: {q} for q in self.queries if q in self.corpus}
        if self.exclude_rule == "same-item":
            by_item: dict[str, set[str]] = {}
            for doc_id in self.corpus:
                by_item.setdefault(item_of(doc_id), set()).add(doc_id)
            return {q: by_item[item] for q in self.queries if (item := item_of(q)) in by_item}
        raise ValueError(f"unknown exclusion rule {self.exclude_rule!r}; expected one of {EXCLUDE_RULES}")

    def compute_sizes(self) -> dict[str, Any]:
        judged = [sum(1 for g in docs.values() if g > 0) for docs in self.qrels.values()]
        return {
            "queries": len(self.queries),
            "documents": len(self.corpus),
            "qrels": sum(judged),
            "relevant_per_query": round(sum(judged) / len(judged), 3) if judged else 0.0,
        }


def write_sidecar(folder: Path, bench: Benchmark) -> None:
    from babelir.utils.atomic import atomic_write_json

    atomic_write_json(
        folder / SIDECAR,
        {
            "metadata": bench.meta.to_dict(),
            "query_language": bench.query_lang,
            "doc_language": bench.doc_lang,
            "exclude": bench.exclude_rule,
        },
    )


def _main_metric(sidecar: Path, name: Any) -> str:
    from babelir.evaluation.scoring.metrics import REPORTED_MEASURES, canonical, display

    if not isinstance(name, str) or canonical(name) not in REPORTED_MEASURES:
        known = ", ".join(display(m) for m in REPORTED_MEASURES)
        raise DataError(sidecar, None, f"main_metric {name!r} is not one babelir reports; choose one of {known}")
    return canonical(name)


def read_folder(folder: str | Path, split: str | None = None, name: str | None = None) -> Benchmark:
    """Read a BEIR folder (with or without babelir's sidecar) as a :class:`Benchmark`.

    Without a sidecar the folder is treated as a user's BEIR set: family ``beir``, languages unknown,
    main metric nDCG@10, queries excluded from their own ranking when ids coincide (BEIR's default).
    """
    folder = Path(folder)
    sidecar = folder / SIDECAR
    info: dict[str, Any] = {}
    if sidecar.is_file():
        try:
            info = json.loads(sidecar.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise DataError(sidecar, err.lineno, f"malformed JSON: {err.msg}") from None
    if "metadata" in info:
        meta = BenchmarkMeta.from_dict(info["metadata"])
    else:
        meta = BenchmarkMeta(
            name=name or folder.name,
            family=BEIR_FAMILY.name,
            description=f"BEIR folder {folder}",
            languages=[],
            source=str(folder),
        )
    if split is not None:
        meta.split = split
    if name is not None:
        meta.name = name
    if "main_metric" in info and "metadata" not in info:
        meta.main_metric = _main_metric(sidecar, info["main_metric"])
    languages = [c for c in (info.get("query_language"), info.get("doc_language")) if c and c != "prefix"]
    if languages and not meta.languages:
        meta.languages = list(dict.fromkeys(languages))
        meta.eval_langs = [eval_lang(code) for code in meta.languages]
    exclude = info.get("exclude", "identical-ids")
    if exclude not in EXCLUDE_RULES:
        raise DataError(
            sidecar, None, f"'exclude' must be one of {', '.join(EXCLUDE_RULES)}, got {exclude!r}"
        )
    corpus, queries, qrels = load_beir(folder, meta.split)
    bench = Benchmark(
        meta=meta,
        queries=queries,
        corpus={d: join_title(doc.get("title", ""), doc.get("text", "")) for d, doc in corpus.items()},
        qrels=qrels,
        query_lang=info.get("query_language"),
        doc_lang=info.get("doc_language"),
        exclude_rule=exclude,
        path=folder,
    )
    if not meta.sizes:
        meta.sizes = bench.compute_sizes()
    return bench
