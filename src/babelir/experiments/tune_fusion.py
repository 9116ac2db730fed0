"""``babelir tune-fusion INDEX --queries Q --qrels R``: choose an index's lexical + dense fusion on a few
labelled queries of its own collection, and check the choice on other queries before it is used.

How much to fuse depends on the collection (BM25 far behind dense on one, ahead on another), so the weight
is chosen on the user's data, as a small experiment:

1. the labelled queries are split at random (seeded, by query id) into a *choose* part and a *check*
   part (``--check-fraction``, half by default);
2. every candidate fusion (``--candidates``: convex mixes at BM25 shares 0.1 to 0.9, RRF; each also in
   mode ``slots`` when the index holds several languages) and dense alone are scored on the choose
   part (``--metric``, nDCG@10 by default), ranked exactly as ``babelir search`` and ``babelir serve``
   rank (:func:`babelir.index.hybrid.search_each_fusion`: the faiss and BM25 candidates once, then each
   fusion);
3. the best is scored on the check part against dense alone: the difference, with a 95% bootstrap
   interval over the check queries (:func:`babelir.experiments.stats.cluster_bootstrap`);
4. it is written to the index's ``fusion.json`` only when the check part does not find it worse than
   dense alone (mean difference at least 0); otherwise ``none`` is written, and the command says why. A
   hybrid is never made the default on data where it measured worse.

``--set SPEC`` writes a fusion without labels (for example one chosen on babelir's dev benchmarks,
``reports/experiments/hybrid-dev.md``). ``--dry-run`` prints the table and writes nothing.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

from babelir.data.errors import DataError
from babelir.retrieval.fusion import FusionSettings
from babelir.utils.commands import add_command
from babelir.utils.seeding import derive_seed

WEIGHTS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
MIN_CHECK = 10  # check queries below which the split is not made (every query chooses, nothing checks)


def candidates(multilingual: bool) -> list[FusionSettings]:
    """The default grid: convex at each of :data:`WEIGHTS`, RRF (K 60); with ``multilingual``, each in
    mode ``slots`` too."""
    grid = [FusionSettings(weight=w) for w in WEIGHTS] + [FusionSettings("rrf")]
    if multilingual:
        grid += [FusionSettings(s.method, s.weight, s.rrf_k, "slots") for s in grid]
    return grid


@dataclass
class Tuning:
    """What a tuning measured: each setting's mean on the choose part (``"none"``: dense alone), the
    choice, and the check: dense and the choice on the check queries, the difference and its interval."""

    metric: str
    choose_queries: int
    check_queries: int
    means: dict[str, float]
    best: str
    check_dense: float | None = None
    check_best: float | None = None
    difference: tuple[float, float, float] | None = None  # mean, low, high

    @property
    def chosen(self) -> str:
        """The spec to write: the best, unless the check part found it worse than dense alone."""
        if self.best == "none" or (self.difference is not None and self.difference[0] < 0):
            return "none"
        return self.best

    def record(self) -> dict[str, Any]:
        return {"chosen_by": "babelir tune-fusion", "metric": self.metric, "choose_queries": self.choose_queries,
                "check_queries": self.check_queries, "best_on_choose": self.best,
                "choose_means": {k: round(v, 4) for k, v in self.means.items()},
                "check": None if self.difference is None else {
                    "dense": round(self.check_dense or 0.0, 4), "fused": round(self.check_best or 0.0, 4),
                    "difference": [round(x, 4) for x in self.difference]}}


def split_queries(qids: list[str], check_fraction: float, seed: int = 0) -> tuple[list[str], list[str]]:
    """``(choose, check)``: each query goes to check with probability ``check_fraction``, by a seeded
    hash of its id (stable when queries are added); no split when check would hold < MIN_CHECK."""
    check = [q for q in qids if derive_seed(seed, "tune-fusion", q) % 10_000 < check_fraction * 10_000]
    if len(check) < MIN_CHECK or len(check) == len(qids):
        return qids, []
    chosen = set(check)
    return [q for q in qids if q not in chosen], check


def tune(
    index: Any, queries: dict[str, str], qrels: dict[str, dict[str, int]], metric: str = "nDCG@10",
    settings: list[FusionSettings] | None = None, check_fraction: float = 0.5, query_language: str | None = None,
    k: int = 100, seed: int = 0, batch_size: int = 64,
) -> Tuning:
    """Score dense alone and each fusion on ``queries`` of ``index`` (an :class:`babelir.index.Index` with a
    lexical part) and choose as the module docstring says."""
    from babelir.evaluation.scoring.metrics import aggregate, evaluate_run
    from babelir.experiments.stats import cluster_bootstrap
    from babelir.index.hybrid import search_each_fusion

    try:
        evaluate_run({}, {}, [metric])  # parses the measure's name before anything is encoded
    except (NameError, ValueError, TypeError) as err:
        raise DataError(None, None, f"--metric {metric}: not an ir-measures measure ({err}); e.g. nDCG@10, "
                        "RR@10, R@100, AP@20") from None
    judged = [q for q in queries if any(g > 0 for g in qrels.get(q, {}).values())]
    if not judged:
        raise DataError(None, None, "no query has a relevant document in the qrels; check that their ids match")
    settings = settings or candidates(len([lang for lang in index.languages() if lang]) > 1)
    texts = [queries[q] for q in judged]
    vectors = index.encode_queries(texts, batch_size)
    per_query: dict[str, dict[str, float]] = {}
    for spec, results in search_each_fusion(index, texts, vectors, k, [None, *settings], query_language):
        run = {qid: {hit.id: hit.score for hit in result.hits} for qid, result in zip(judged, results, strict=True)}
        per_query[spec] = evaluate_run(qrels, run, [metric])[metric]
    choose, check = split_queries(judged, check_fraction, seed)
    means = {spec: aggregate({metric: values}, choose)[metric] for spec, values in per_query.items()}
    best = max(means, key=lambda spec: (means[spec], spec == "none"))  # a tie keeps dense alone
    tuning = Tuning(metric, len(choose), len(check), means, best)
    if check and best != "none":
        dense = [per_query["none"][q] for q in check]
        fused = [per_query[best][q] for q in check]
        interval = cluster_bootstrap(dense, fused, check, seed=seed)
        tuning.check_dense, tuning.check_best = sum(dense) / len(dense), sum(fused) / len(fused)
        tuning.difference = (interval.mean, interval.low, interval.high)
    return tuning


def _report(tuning: Tuning) -> str:
    lines = [f"| fusion | {tuning.metric} on {tuning.choose_queries} choose queries |", "|---|---:|"]
    for spec, mean in sorted(tuning.means.items(), key=lambda item: -item[1]):
        label = "dense alone" if spec == "none" else spec
        lines.append(f"| {label}{' (best)' if spec == tuning.best else ''} | {mean:.4f} |")
    if tuning.difference is not None:
        mean, low, high = tuning.difference
        lines.append(f"\ncheck on {tuning.check_queries} other queries: dense {tuning.check_dense:.4f}, "
                     f"{tuning.best} {tuning.check_best:.4f}, difference {mean:+.4f} [{low:+.4f}, {high:+.4f}] (95%)")
    elif tuning.best != "none":
        lines.append(f"\nnot checked: too few labelled queries to hold some out (at least {2 * MIN_CHECK}); "
                     "the choice is measured on the queries that chose it, so expect less on new queries")
    return "\n".join(lines)


HELP = """\
Choose how an index built with --lexical fuses BM25 with the dense ranking, on labelled queries of its own
collection (how much to fuse depends on the collection):

1. the labelled queries are split at random (seeded, by query id) into a choose part and a check part
   (--check-fraction, half by default);
2. dense alone and every candidate fusion (--candidates; default: convex@0.1 ... convex@0.9 and rrf, each
   also :slots when the index holds several languages) are scored on the choose part (--metric), ranked
   exactly as babelir search and babelir serve rank;
3. the best is scored on the check part against dense alone: the difference and its 95% bootstrap interval;
4. it becomes the index's default (fusion.json) only when the check part does not find it worse than
   dense alone; otherwise the default is dense alone, and the command says why.

--set SPEC writes a fusion without labels; --dry-run prints the table and writes nothing.

examples:
  babelir index runs/default/model corpus.jsonl indexes/mine --lexical
  babelir tune-fusion indexes/mine --queries dev-queries.tsv --qrels dev-qrels.tsv
  babelir tune-fusion indexes/mine --set convex@0.2
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "tune-fusion", "choose an index's lexical + dense fusion on labelled queries", HELP)
    p.add_argument("index", help="index folder built with babelir index --lexical")
    p.add_argument("--queries", help="labelled queries: a queries file (TSV id<TAB>text, JSONL) or BEIR folder")
    p.add_argument("--qrels", help="their judgements: BEIR TSV or TREC qrels")
    p.add_argument("--metric", default="nDCG@10", help="what to maximise, an ir-measures name (default: %(default)s)")
    p.add_argument("--candidates", default=None, metavar="SPEC,...",
                   help="fusions to try (default: convex@0.1 ... convex@0.9 and rrf, each also :slots when the "
                   "index holds several languages)")
    p.add_argument("--check-fraction", type=float, default=0.5,
                   help="share of the queries held out to check the choice (default: %(default)s)")
    p.add_argument("--query-language", default=None, help="the queries' language (default: identified per query)")
    p.add_argument("--set", dest="spec", default=None, metavar="SPEC",
                   help="write this fusion (e.g. convex@0.2, or none) without measuring anything")
    p.add_argument("--dry-run", action="store_true", help="print the table; write nothing")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from babelir.data.trec import read_qrels_any
    from babelir.index.corpus import iter_query_file
    from babelir.index.fusion import write_fusion
    from babelir.index.search import Index

    index = Index.load(args.index)
    if args.spec is not None:
        try:
            settings = None if args.spec == "none" else FusionSettings.parse(args.spec)
        except ValueError as err:
            raise DataError(None, None, f"--set {args.spec}: {err}") from None
        index.fusion_for(settings)  # refused in one line when the index has no lexical part
        if not args.dry_run:
            path = write_fusion(index.path, settings, {"chosen_by": "babelir tune-fusion --set"})
            print(f"{path}: fusion {args.spec}")
        return 0
    if not args.queries or not args.qrels:
        raise DataError(None, None, "give --queries and --qrels to measure, or --set SPEC to write a fusion")
    if not 0.0 <= args.check_fraction < 1.0:
        raise DataError(None, None, f"--check-fraction {args.check_fraction}: a share in [0, 1)")
    try:
        grid = [FusionSettings.parse(s) for s in args.candidates.split(",")] if args.candidates else None
    except ValueError as err:
        raise DataError(None, None, f"--candidates: {err}") from None
    index.lexical  # noqa: B018 -- refused in one line before any query is encoded
    queries = dict(iter_query_file(args.queries))
    qrels = read_qrels_any(args.qrels)
    tuning = tune(index, queries, qrels, args.metric, grid, args.check_fraction, args.query_language)
    print(_report(tuning))
    chosen = tuning.chosen
    if chosen == "none" and tuning.best != "none":
        print(f"not used: {tuning.best} scored below dense alone on the check queries; search stays dense")
    elif chosen == "none":
        print("dense alone scored best: search stays dense")
    if not args.dry_run:
        path = write_fusion(index.path, None if chosen == "none" else FusionSettings.parse(chosen), tuning.record())
        print(f"{path}: fusion {chosen}", file=sys.stderr)
    return 0
