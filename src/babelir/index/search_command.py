"""``babelir search INDEX --queries Q --output RUN``: a TREC run from an index (its parser is in
:mod:`babelir.index.command`, with the other index commands')."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from babelir.data.errors import DataError
from babelir.utils.devices import resolve_device


def _refuse_foreign_run(output: Path, queries: Path, tag: str) -> None:
    """``--output`` replaces an earlier run of this search only (a run file babelir wrote with the same
    ``--tag``, unchanged since: :mod:`babelir.utils.ownership`): never the queries it reads, a folder, a
    user's file or another system's run."""
    from babelir.data.trec import RUN_FILE_KIND
    from babelir.utils.ownership import check_file, same_file

    if same_file(output, queries):
        raise DataError(output, None, "is the queries file this command reads; choose another --output")
    check_file(output, RUN_FILE_KIND, "--output", owner=tag)


def run_search(args: argparse.Namespace) -> int:
    from babelir.data.trec import RUN_FILE_KIND, check_run_id, write_run
    from babelir.index.corpus import iter_query_file
    from babelir.index.search import Index
    from babelir.utils.ownership import record_file

    if args.k < 1 or args.batch_size < 1:
        raise DataError(None, None, "--k and --batch-size must be at least 1")
    if not args.tag or any(ch.isspace() for ch in args.tag):
        raise DataError(None, None, f"--tag {args.tag!r}: a TREC run tag is one word without whitespace")
    _refuse_foreign_run(Path(args.output), Path(args.queries), args.tag)
    index = Index.load(args.index, model=args.model, backend=args.backend, device=resolve_device(args.device),
                       neutralize=args.neutralize)
    if args.language is not None and args.language not in index.languages():
        held = ", ".join(code for code in index.languages() if code) or "none recorded"
        raise DataError(args.index, None, f"holds no documents in {args.language!r} (languages: {held})")
    try:
        fusion = index.fusion_for(args.fusion)
    except ValueError as err:
        raise DataError(None, None, f"--fusion {args.fusion}: {err}") from None
    queries = list(iter_query_file(args.queries))
    if not queries:
        raise DataError(args.queries, None, "holds no queries (one per line: id<TAB>text, or JSONL with _id and "
                        "text); add some, or check the path")
    for qid, _ in queries:  # found before any query is encoded, not when the run is written
        check_run_id(qid, "query id", args.queries)
    run: dict[str, dict[str, float]] = {}
    as_is: Counter[str] = Counter()
    t0 = time.perf_counter()
    for i in range(0, len(queries), args.batch_size):
        chunk = queries[i : i + args.batch_size]
        results = index.query([text for _, text in chunk], k=args.k, language=args.language,
                              query_language=args.query_language, fusion=fusion)
        for (qid, _), result in zip(chunk, results, strict=True):
            if qid in run:
                raise DataError(args.queries, None, f"duplicate query id {qid!r}")
            run[qid] = {hit.id: hit.score for hit in result.hits}
            if index.neutralizer is not None and not result.language.neutralized:
                as_is[result.language.note] += 1
    write_run(args.output, run, tag=args.tag)
    record_file(args.output, RUN_FILE_KIND, owner=args.tag)
    took = time.perf_counter() - t0
    how = f", fused with BM25 ({fusion.spec})" if fusion else ""
    print(f"{args.output}: {len(run)} queries, top {args.k}{how} ({took:.1f} s)", file=sys.stderr)
    if index.neutralizer is not None:
        done = len(run) - sum(as_is.values())
        print(f"language neutralization ({index.neutralizer.method}): {done} of {len(run)} queries"
              + "".join(f"; {n}: {note}" for note, n in as_is.most_common()), file=sys.stderr)
    return 0
