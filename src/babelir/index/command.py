"""``babelir index MODEL CORPUS OUT`` and ``babelir search INDEX --queries FILE --k K --output RUN``."""

from __future__ import annotations

import argparse
import sys
import time

from babelir.data.errors import DataError
from babelir.index.ann import INDEX_TYPES, AnnSettings

BACKEND_HELP = "torch (fp32), onnx (fp32, fused) or onnx-int8 (dynamic int8: ~2-3x faster on CPU)"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "index",
        help="encode a corpus and build a faiss index (resumable)",
        description=(
            "Stream CORPUS, encode it with MODEL in shards and build a faiss index in OUT. CORPUS is a JSONL "
            'file ({"_id"|"id", "text", "title"?, "language"?}), a TSV file (id<TAB>text[<TAB>language]), a '
            "BEIR folder, or packaged text: bible (John in 7 languages), bible:LANGS[:BOOKS] (e.g. "
            "bible:en,fr,ru:43) or wiki:LANGS (e.g. wiki:en,es,fr). "
            "Re-running an interrupted command resumes after its last finished shard. "
            "Several machines: each runs the command with --shard-id I --shard-count N (every N-th document, "
            "its own OUT), then 'babelir index merge SHARD_DIR... OUT' builds one index over all of them "
            "(same rows and results as one machine; the --index-type and ANN flags apply to it)."
        ),
    )
    p.add_argument("model", help="backbone name (tiny, me5-small, ...) or model directory")
    p.add_argument("corpus", help="corpus file, BEIR folder, bible, bible:LANGS[:BOOKS] or wiki:LANGS")
    p.add_argument("out", help="index folder to create (or resume)")
    p.add_argument("more", nargs="*", help=argparse.SUPPRESS)  # 'index merge A B ... OUT'
    p.add_argument(
        "--index-type",
        choices=INDEX_TYPES,
        default="auto",
        help="auto: flat up to 100k docs, hnsw up to 2M, ivfpq beyond",
    )
    p.add_argument("--shard-size", type=int, default=10_000, help="documents per encoded shard (resume unit)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--backend", choices=("torch", "onnx", "onnx-int8"), default="torch", help=BACKEND_HELP)
    p.add_argument("--hnsw-m", type=int, default=32, help="HNSW graph degree")
    p.add_argument("--ef-construction", type=int, default=80)
    p.add_argument("--ef-search", type=int, default=256, help="HNSW search breadth (recall vs speed)")
    p.add_argument("--nlist", type=int, default=0, help="IVF lists (0: 4*sqrt(n))")
    p.add_argument("--pq-m", type=int, default=0, help="PQ sub-quantisers (0: dim/8)")
    p.add_argument("--nprobe", type=int, default=32, help="IVF lists visited per query")
    p.add_argument("--overwrite", action="store_true", help="discard what OUT holds and start again")
    p.add_argument("--shard-id", type=int, default=None, metavar="I",
                   help="encode only documents I, I+N, I+2N, ... (0-based; with --shard-count N)")
    p.add_argument("--shard-count", type=int, default=None, metavar="N",
                   help="number of shards the corpus is split into (one per machine or process)")
    p.set_defaults(func=run_index)

    s = subparsers.add_parser(
        "search",
        help="search an index with a queries file and write a TREC run",
        description="Encode the queries (JSONL _id/id+text, TSV qid<TAB>text, or a BEIR folder), search "
        "INDEX and write a TREC run (qid Q0 docid rank score tag).",
    )
    s.add_argument("index", help="index folder written by 'babelir index'")
    s.add_argument("--queries", required=True, help="queries file or BEIR folder")
    s.add_argument("--k", type=int, default=100, help="hits per query")
    s.add_argument("--output", required=True, help="TREC run file to write")
    s.add_argument("--language", default=None, help="only documents of this language (ISO 639-1)")
    s.add_argument("--backend", choices=("torch", "onnx", "onnx-int8"), default="torch", help=BACKEND_HELP)
    s.add_argument("--model", default=None, help="query encoder (default: the one in the manifest)")
    s.add_argument("--batch-size", type=int, default=256, help="queries encoded and searched together")
    s.add_argument("--tag", default="babelir", help="run tag (last column)")
    s.set_defaults(func=run_search)


def _err(message: str) -> int:
    print(f"babelir: error: {message}", file=sys.stderr)
    return 2


def run_index(args: argparse.Namespace) -> int:
    from babelir.index.build import build_index
    from babelir.index.shards import ShardSpec

    settings = AnnSettings(
        index_type=args.index_type,
        hnsw_m=args.hnsw_m,
        ef_construction=args.ef_construction,
        ef_search=args.ef_search,
        nlist=args.nlist,
        pq_m=args.pq_m,
        nprobe=args.nprobe,
    )
    if args.shard_size < 1 or args.batch_size < 1:
        return _err("--shard-size and --batch-size must be positive")
    if args.model == "merge":
        return run_merge([args.corpus, args.out, *args.more], settings, args)
    if args.more:
        return _err(f"unexpected arguments {' '.join(args.more)} (merging shards is 'babelir index merge')")
    sharding = None
    if (args.shard_id is None) != (args.shard_count is None):
        return _err("--shard-id and --shard-count go together")
    if args.shard_count is not None:
        try:
            sharding = ShardSpec(args.shard_id, args.shard_count)
        except ValueError as err:
            return _err(str(err))
    try:
        manifest = build_index(
            args.model,
            args.corpus,
            args.out,
            settings=settings,
            shard_size=args.shard_size,
            batch_size=args.batch_size,
            backend=args.backend,
            overwrite=args.overwrite,
            progress=lambda msg: print(msg, file=sys.stderr, flush=True),
            sharding=sharding,
        )
    except (DataError, ValueError) as err:
        return _err(str(err))
    counts = manifest["counts"]
    print(
        f"{args.out}: {counts['documents']} documents, {manifest['index']['index_type']} index, "
        f"dimension {counts['dimension']}"
    )
    return 0


def run_merge(paths: list[str], settings: AnnSettings, args: argparse.Namespace) -> int:
    """``babelir index merge SHARD_DIR... OUT``: one index over shards built with --shard-id/--shard-count."""
    from babelir.index.shards import merge_shards

    *folders, out = paths
    if not folders:
        return _err("usage: babelir index merge SHARD_DIR [SHARD_DIR ...] OUT")
    try:
        manifest = merge_shards(
            folders, out, settings=settings, chunk_size=args.shard_size, overwrite=args.overwrite,
            progress=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
    except (DataError, ValueError) as err:
        return _err(str(err))
    counts = manifest["counts"]
    print(
        f"{out}: {counts['documents']} documents from {len(folders)} shards, "
        f"{manifest['index']['index_type']} index, dimension {counts['dimension']}"
    )
    return 0


def run_search(args: argparse.Namespace) -> int:
    from babelir.data.trec import write_run
    from babelir.index.corpus import iter_query_file
    from babelir.index.search import Index

    if args.k < 1:
        return _err("--k must be at least 1")
    try:
        index = Index.load(args.index, model=args.model, backend=args.backend)
        queries = list(iter_query_file(args.queries))
        run: dict[str, dict[str, float]] = {}
        t0 = time.perf_counter()
        for i in range(0, len(queries), args.batch_size):
            chunk = queries[i : i + args.batch_size]
            results = index.search([text for _, text in chunk], k=args.k, language=args.language)
            for (qid, _), hits in zip(chunk, results, strict=True):
                if qid in run:
                    raise DataError(args.queries, None, f"duplicate query id {qid!r}")
                run[qid] = {hit.id: hit.score for hit in hits}
        write_run(args.output, run, tag=args.tag)
    except (DataError, ValueError) as err:
        return _err(str(err))
    took = time.perf_counter() - t0
    print(f"{args.output}: {len(run)} queries, top {args.k} ({took:.1f} s)", file=sys.stderr)
    return 0
