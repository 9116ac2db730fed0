"""``babelir convert IR_DATASETS_ID OUT``: a dataset ``ir_datasets`` knows (MIRACL, Mr.TyDi, neuCLIR, HC4, ...)
as a BEIR folder with its ``babelir.json`` sidecar, which every babelir command takes as a benchmark.

``ir_datasets`` finds or downloads the data (or reads files a user registered locally); babelir only
streams its documents, queries and judgements into the three BEIR files, so a corpus of millions of
passages never sits in memory. The query and document languages come from the dataset id for the
families listed in :data:`LANGUAGES_OF` (MIRACL and Mr.TyDi: the language both sides are in; neuCLIR
and HC4: English topics against documents in the language), or from ``--query-language`` /
``--doc-language``. The qrels file is named after the id's split (``.../dev`` -> ``qrels/dev.tsv``;
``FOLDER#dev`` then scores it).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babelir.utils.errors import DataError

SPLITS = ("train", "dev", "test", "test-a", "test-b")
# id prefix -> (query language, document language); "{lang}" is the id's component after the prefix
LANGUAGES_OF = {
    "miracl/": ("{lang}", "{lang}"),
    "mr-tydi/": ("{lang}", "{lang}"),
    "neuclir/1/": ("en", "{lang}"),
    "hc4/": ("en", "{lang}"),
}
BENCHMARK_KIND = "benchmark"  # babelir.utils.ownership's kind of a converted folder


def languages_of(dataset_id: str) -> tuple[str | None, str | None]:
    """The (query, document) languages a known family's id names, else (None, None)."""
    for prefix, (query, doc) in LANGUAGES_OF.items():
        if dataset_id.startswith(prefix):
            lang = dataset_id[len(prefix):].split("/")[0]
            return query.format(lang=lang), doc.format(lang=lang)
    return None, None


def split_of(dataset_id: str) -> str:
    last = dataset_id.rstrip("/").split("/")[-1]
    return last if last in SPLITS else "test"


def convert(
    dataset_id: str,
    out: str | os.PathLike,
    query_language: str | None = None,
    doc_language: str | None = None,
) -> dict[str, Any]:
    """Write ``dataset_id`` as a BEIR folder at ``out``; returns its sidecar (with the counts)."""
    from babelir.data.beir import SIDECAR, write_corpus, write_qrels, write_queries
    from babelir.utils.atomic import atomic_directory, atomic_write_json
    from babelir.utils.extras import require
    from babelir.utils.ownership import check_folder, mark_folder

    ir_datasets = require("ir_datasets", "ir-datasets")
    try:
        dataset = ir_datasets.load(dataset_id)
    except KeyError:
        raise DataError(None, None, f"ir_datasets knows no dataset {dataset_id!r}; see "
                        "https://ir-datasets.com or ir_datasets.registry") from None
    for part in ("docs", "queries", "qrels"):
        if not getattr(dataset, f"has_{part}")():
            raise DataError(None, None, f"{dataset_id} has no {part}; name a split that has all three "
                            f"(e.g. {dataset_id}/dev or {dataset_id}/test)")
    guessed = languages_of(dataset_id)
    sidecar = {"query_language": query_language or guessed[0], "doc_language": doc_language or guessed[1],
               "source": f"ir_datasets:{dataset_id}", "ir_datasets": ir_datasets.__version__}
    sidecar = {k: v for k, v in sidecar.items() if v}
    split = split_of(dataset_id)
    out = Path(out)
    check_folder(out, BENCHMARK_KIND, "OUT")
    counts = dict.fromkeys(("documents", "queries", "judgements"), 0)

    def counted(rows: Iterator[Any], what: str) -> Iterator[Any]:
        for row in rows:
            counts[what] += 1
            yield row

    qrels: dict[str, dict[str, int]] = {}
    for qrel in counted(dataset.qrels_iter(), "judgements"):  # judgements are few: held, then written
        qrels.setdefault(qrel.query_id, {})[qrel.doc_id] = int(qrel.relevance)
    with atomic_directory(out) as tmp:
        mark_folder(tmp, BENCHMARK_KIND)
        write_corpus(tmp / "corpus.jsonl", counted(  # streamed: a corpus of millions never sits in memory
            ((doc.doc_id, {"title": getattr(doc, "title", "") or "", "text": _text(doc)}) for doc in dataset.docs_iter()),
            "documents"))
        write_queries(tmp / "queries.jsonl", counted(((q.query_id, _text(q)) for q in dataset.queries_iter()), "queries"))
        write_qrels(tmp / "qrels" / f"{split}.tsv", qrels)
        sidecar["counts"] = counts
        atomic_write_json(tmp / SIDECAR, sidecar)
    return sidecar


def _text(record: Any) -> str:
    """A document's or query's text: ``text``, else a TREC topic's title (``default_text`` where defined)."""
    text = getattr(record, "text", None) or getattr(record, "title", None)
    if text is None and hasattr(record, "default_text"):
        text = record.default_text()
    return str(text or "")


def register(subparsers: argparse._SubParsersAction) -> None:
    from babelir.utils.commands import add_command

    p = add_command(
        subparsers,
        "convert",
        "write a dataset ir_datasets knows (MIRACL, Mr.TyDi, neuCLIR, HC4) as a BEIR folder",
        "Stream the documents, queries and judgements of an ir_datasets id into a BEIR folder with the\n"
        "babelir.json sidecar (languages, source), which every command takes as a benchmark.\n\n"
        "examples:\n"
        "  babelir convert mr-tydi/sw/test data/mrtydi-sw        then --benchmarks data/mrtydi-sw\n"
        "  babelir convert miracl/sw/dev data/miracl-sw          then --benchmarks data/miracl-sw#dev\n"
        "  babelir convert neuclir/1/fa/trec-2022 data/neuclir-fa --doc-language fa",
    )
    p.add_argument("dataset", metavar="IR_DATASETS_ID", help="a dataset id with docs, queries and qrels")
    p.add_argument("out", metavar="OUT", help="the BEIR folder to write (new, or one babelir converted)")
    p.add_argument("--query-language", default=None, help="ISO 639-1 code of the queries (default: from the id)")
    p.add_argument("--doc-language", default=None, help="ISO 639-1 code of the documents (default: from the id)")
    p.set_defaults(func=run_convert)


def run_convert(args: argparse.Namespace) -> int:
    sidecar = convert(args.dataset, args.out, args.query_language, args.doc_language)
    counts = sidecar["counts"]
    print(f"wrote {args.out}: {counts['documents']} documents, {counts['queries']} queries, "
          f"{counts['judgements']} judgements (languages: {sidecar.get('query_language', '?')} -> "
          f"{sidecar.get('doc_language', '?')})")
    split = split_of(args.dataset)
    if split != "test":  # a folder's default split is test
        print(f"score it as --benchmarks {args.out}#{split}")
    return 0
