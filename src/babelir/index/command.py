"""``babelir index MODEL CORPUS OUT``, ``babelir index merge SHARD_DIR... --output OUT`` and ``babelir search``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from babelir.data.errors import DataError
from babelir.data.languages import language_code
from babelir.encoding import BACKENDS
from babelir.encoding.model import BACKEND_HELP
from babelir.index.ann import ANN_MINIMUMS, INDEX_TYPES, AnnSettings
from babelir.utils.commands import OneLineParser, add_command
from babelir.utils.devices import add_device_argument, resolve_device
from babelir.utils.verbosity import quiet

INDEX_HELP = """\
Stream CORPUS, encode it with MODEL in shards and build a faiss index in OUT. Re-running an interrupted
command resumes after its last finished shard; re-running it with another --index-type rebuilds only
the faiss index.

CORPUS is a JSONL file ({"_id"|"id", "text", "title"?, "language"?}), a TSV file
(id<TAB>text[<TAB>language]), a BEIR folder, or packaged text: bible (John in 7 languages),
bible:LANGS[:BOOKS] (e.g. bible:en,fr,ru:43) or wiki:LANGS (e.g. wiki:en,es,fr).

Mixed-language corpora: a document without a language field gets the one py3langid finds
(--no-language-id: none), and each language's statistics are fitted from the corpus and stored in OUT
(--neutralization; none: not fitted); search and serve remove them from queries and documents, so a
query finds its answer in every language (reports/neutralization.md).

Several machines: each runs the command with --shard-id I --shard-count N (every N-th document, its own
OUT), then 'babelir index merge SHARD_DIR... --output OUT' builds one index over all of them (see
'babelir index merge --help').

examples:
  babelir index me5-small bible indexes/john
  babelir index runs/default/model corpus.jsonl indexes/mine --backend onnx-int8 --index-type hnsw
  babelir index me5-small corpus.jsonl out/shard-0 --shard-id 0 --shard-count 2
"""

MERGE_HELP = """\
Build one index over the shard folders of a corpus encoded with --shard-id/--shard-count (one folder
per shard id, all of the same model and corpus). The merged folder holds the same rows, in the same
order, as 'babelir index' on one machine, so it returns the same results; it is an ordinary index
folder (search it, serve it, or re-run 'babelir index' on it with another --index-type). The language
statistics are fitted over the merged rows as one machine fits them (--neutralization), which needs the
model the shards were encoded with (--model, default the path they recorded).

examples:
  babelir index merge out/shard-* --output out/merged --index-type hnsw
  babelir index merge out/shard-0 out/shard-1 out/merged     (the last folder is OUT without --output)
"""


class _IndexParser(argparse.ArgumentParser):
    """The parser of ``babelir index``: a first word ``merge`` hands the rest to the merge parser.

    Why not argparse sub-parsers: the build form ``babelir index MODEL CORPUS OUT`` has no verb and
    argparse cannot default to one. Dispatching on the first word keeps both forms, each with its own
    usage line, errors and ``--help``. A model folder called ``merge`` (``./merge`` always works) is taken
    as the build form when the next word is a file, not a shard folder: ``babelir index merge c.jsonl out``.
    """

    merge_parser: argparse.ArgumentParser

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if args and args[0] == "merge" and not _names_a_model_build(args):
            return self.merge_parser.parse_known_args(list(args[1:]), namespace)
        return super().parse_known_args(args, namespace)


def _names_a_model_build(args: Sequence[str]) -> bool:
    """``merge`` is a model folder here and the word after it a corpus file (shard folders are folders)."""
    model = Path("merge")
    is_model = (model / "config.json").is_file() or (model / "modules.json").is_file()
    return is_model and len(args) > 1 and not args[1].startswith("-") and not Path(args[1]).is_dir()


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(
        subparsers,
        "index",
        "encode a corpus and build a faiss index (resumable); 'index merge' joins shard folders",
        INDEX_HELP,
    )
    p.__class__ = _IndexParser  # add_command builds a plain parser; this one also routes 'merge'
    p.add_argument("model", help="backbone name (tiny, me5-small, ...) or model directory")
    p.add_argument("corpus", help="corpus file, BEIR folder, bible, bible:LANGS[:BOOKS] or wiki:LANGS")
    p.add_argument("out", help="index folder to create (or resume)")
    p.add_argument("--shard-size", type=int, default=10_000, help="documents per encoded shard (resume unit)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--backend", choices=BACKENDS, default="torch", help=BACKEND_HELP)
    add_device_argument(p)
    _add_ann_arguments(p)
    p.add_argument("--overwrite", action="store_true",
                   help="build OUT again from scratch; an existing OUT must be an index folder babelir "
                   "wrote, and it is replaced only once the new index is built")
    p.add_argument("--neutralization", default="centered", metavar="METHOD[@STATISTICS]",
                   type=_neutralization_flag,
                   help="language statistics to fit from the corpus and remove at search time: centered "
                   "(each language's mean), lir:R (its top R directions) or leace (one map for every "
                   "language), optionally @documents-as-queries | @documents | @short-documents-as-queries "
                   "(how the query side is estimated); none: no statistics. Which wins where: "
                   "reports/neutralization.md (default: %(default)s)")
    p.add_argument("--lexical", action="store_true",
                   help="also build a BM25 index of the documents in OUT (bm25s; each document stemmed with its "
                   "language's Snowball stemmer, CJK as character bigrams) for hybrid search (babelir search "
                   "--fusion, babelir tune-fusion); added to a built index, it reuses the shards")
    p.add_argument("--no-language-id", dest="identify_languages", action="store_false",
                   help="do not identify the language of documents that have no language field (they then "
                   "get no statistics and no language filter)")
    p.add_argument("--shard-id", type=int, default=None, metavar="I",
                   help="encode only documents I, I+N, I+2N, ... (0-based; with --shard-count N)")
    p.add_argument("--shard-count", type=int, default=None, metavar="N",
                   help="number of shards the corpus is split into (one per machine or process)")
    # printed by babelir.cli after Ctrl-C: finished shards are kept and skipped by a rerun
    p.set_defaults(func=run_index,
                   resume_hint="rerun the same command to resume after the last finished shard")

    m = OneLineParser(
        prog=f"{p.prog} merge", description=MERGE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    m.add_argument("shards", nargs="+", metavar="SHARD_DIR", help="shard folders, one per shard id")
    m.add_argument("--output", metavar="OUT", help="index folder to create (default: the last SHARD_DIR)")
    m.add_argument("--shard-size", type=int, default=10_000,
                   help="rows per embeddings file of OUT (re-running 'babelir index' on OUT needs the same)")
    _add_ann_arguments(m)
    m.add_argument("--neutralization", default="centered", metavar="METHOD[@STATISTICS]",
                   type=_neutralization_flag,
                   help="language statistics fitted over the merged rows, as 'babelir index' fits them (a "
                   "shard has none of its own); none: no statistics (default: %(default)s)")
    m.add_argument("--model", default=None,
                   help="the model the shards were encoded with, to encode the statistics' query-side "
                   "sample (default: the path the shards recorded; its fingerprint must match)")
    m.add_argument("--lexical", action="store_true",
                   help="also build the BM25 part over the merged rows, as babelir index --lexical")
    m.add_argument("--batch-size", type=int, default=32)
    m.add_argument("--backend", choices=BACKENDS, default="torch", help=BACKEND_HELP)
    add_device_argument(m)
    m.add_argument("--overwrite", action="store_true",
                   help="replace OUT (an index folder babelir wrote) once the merged index is built")
    m.set_defaults(func=run_merge)
    p.merge_parser = m  # type: ignore[attr-defined]

    s = add_command(
        subparsers,
        "search",
        "search an index with a queries file and write a TREC run",
        "Encode the queries (JSONL _id/id+text, TSV qid<TAB>text, or a BEIR folder), search INDEX and\n"
        "write a TREC run (qid Q0 docid rank score tag).",
    )
    s.add_argument("index", help="index folder written by 'babelir index'")
    s.add_argument("--queries", required=True, help="queries file or BEIR folder")
    s.add_argument("--k", type=int, default=100, help="hits per query")
    s.add_argument("--output", required=True, help="TREC run file to write (.gz: compressed); an existing file is replaced only when it is "
                   "an earlier run with the same --tag")
    s.add_argument("--language", type=_language_flag, default=None,
                   help="only documents of this language (ISO 639-1; the index must hold some)")
    s.add_argument("--query-language", type=_language_flag, default=None,
                   help="the queries' language, for language neutralization (default: identified per query)")
    s.add_argument("--no-neutralize", dest="neutralize", action="store_false",
                   help="search without the index's language statistics (as an index built without them)")
    s.add_argument("--fusion", default="default", metavar="SPEC",
                   help="lexical + dense for an index built with --lexical: convex@W (BM25's share W of min-max-"
                   "normalised scores), rrf[@K] (reciprocal rank fusion), either with :slots (fusion reorders only "
                   "the ranks dense retrieval gave the query's language); none: dense alone (default: the index's "
                   "fusion.json from babelir tune-fusion, else convex@0.5:slots when it has a lexical part, chosen on "
                   "dev and measured on test: reports/claims.md)")
    s.add_argument("--backend", choices=BACKENDS, default="torch", help=BACKEND_HELP)
    add_device_argument(s)
    s.add_argument("--model", default=None, help="query encoder (default: the one in the manifest)")
    s.add_argument("--batch-size", type=int, default=256, help="queries encoded and searched together")
    s.add_argument("--tag", default="babelir", help="run tag (last column)")
    s.set_defaults(func=_run_search)


def _add_ann_arguments(p: argparse.ArgumentParser) -> None:
    """The faiss index flags, shared by a build and a merge (both end by building an index)."""
    p.add_argument(
        "--index-type", choices=INDEX_TYPES, default="auto",
        help="auto: flat up to 100k docs, hnsw up to 2M, ivfpq beyond",
    )
    p.add_argument("--hnsw-m", type=int, default=32, help="HNSW graph degree")
    p.add_argument("--ef-construction", type=int, default=80)
    p.add_argument("--ef-search", type=int, default=256, help="HNSW search breadth (recall vs speed)")
    p.add_argument("--nlist", type=int, default=0, help="IVF lists (0: 4*sqrt(n))")
    p.add_argument("--pq-m", type=int, default=0, help="PQ sub-quantisers (0: dim/8)")
    p.add_argument("--nprobe", type=int, default=32, help="IVF lists visited per query")


def _ann_settings(args: argparse.Namespace) -> AnnSettings:
    for name, low in ANN_MINIMUMS.items():
        value = getattr(args, name, low)
        if value < low:
            raise _flag_error(f"--{name.replace('_', '-')} must be at least {low}, got {value}")
    return AnnSettings(
        index_type=args.index_type,
        hnsw_m=args.hnsw_m,
        ef_construction=args.ef_construction,
        ef_search=args.ef_search,
        nlist=args.nlist,
        pq_m=args.pq_m,
        nprobe=args.nprobe,
    )


def _language_flag(value: str) -> str:
    """``--language``: the one language-code check, reported as an argparse error."""
    try:
        return language_code(value)
    except DataError as err:
        raise argparse.ArgumentTypeError(err.problem) from None


def _neutralization_flag(value: str) -> Any:
    """``--neutralization``: ``none`` or settings :class:`babelir.encoding.neutral.NeutralSettings` parses."""
    from babelir.encoding.neutral import NeutralSettings

    if value == "none":
        return False
    try:
        return NeutralSettings.parse(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _flag_error(message: str) -> DataError:
    """A bad combination of flags: raised, and printed as one line by ``babelir.cli.main``."""
    return DataError(None, None, message)


def _progress(message: str) -> None:
    if not quiet():  # babelir -q
        print(message, file=sys.stderr, flush=True)


def _summary(out: str, manifest: dict[str, Any], origin: str = "") -> str:
    counts = manifest["counts"]
    return (
        f"{out}: {counts['documents']} documents{origin}, {manifest['index']['index_type']} index, "
        f"dimension {counts['dimension']}" + (", with a lexical (BM25) part" if manifest.get("lexical") else "")
    )


def run_index(args: argparse.Namespace) -> int:
    from babelir.index.build import build_index
    from babelir.index.shards import ShardSpec

    if args.shard_size < 1 or args.batch_size < 1:
        raise _flag_error("--shard-size and --batch-size must be positive")
    if (args.shard_id is None) != (args.shard_count is None):
        raise _flag_error("--shard-id and --shard-count go together")
    sharding = None if args.shard_count is None else ShardSpec(args.shard_id, args.shard_count)
    manifest = build_index(
        args.model,
        args.corpus,
        args.out,
        settings=_ann_settings(args),
        shard_size=args.shard_size,
        batch_size=args.batch_size,
        backend=args.backend,
        device=resolve_device(args.device),
        overwrite=args.overwrite,
        progress=_progress,
        sharding=sharding,
        neutralization=args.neutralization,
        identify_languages=args.identify_languages,
        lexical=args.lexical,
    )
    print(_summary(args.out, manifest))
    return 0


def run_merge(args: argparse.Namespace) -> int:
    """One index over shards built with --shard-id/--shard-count."""
    from babelir.index.merge import MergeEncoding, merge_shards

    folders, out = list(args.shards), args.output
    if out is None:
        if len(folders) < 2:
            raise _flag_error("give the merged index folder with --output OUT")
        *folders, out = folders
    if args.shard_size < 1:
        raise _flag_error("--shard-size must be positive")
    manifest = merge_shards(
        folders,
        out,
        settings=_ann_settings(args),
        chunk_size=args.shard_size,
        overwrite=args.overwrite,
        progress=_progress,
        neutral=args.neutralization or None,
        encoding=MergeEncoding(args.model, args.backend, args.device, args.batch_size),
        lexical=args.lexical,
    )
    print(_summary(out, manifest, f" from {len(folders)} shards"))
    return 0


def _run_search(args: argparse.Namespace) -> int:
    from babelir.index.search_command import run_search

    return run_search(args)
