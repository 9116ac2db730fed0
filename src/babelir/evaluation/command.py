"""``babelir evaluate`` and ``babelir bias``: argument wiring only; the work is in runner.py and bias.py."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babelir.data.errors import DataError
from babelir.data.languages import language_code
from babelir.encoding.model import BACKEND_HELP, BACKENDS
from babelir.utils.commands import add_command
from babelir.utils.devices import add_device_argument
from babelir.utils.verbosity import quiet, show_progress

EVALUATE_HELP = """\
Evaluate a retriever zero-shot on multilingual benchmarks built from installed packages (or on BEIR
folders you bring), print a per-language markdown table and write every number to JSON.

MODEL is a backbone name (me5-small, me5-small-L6, minilm-en, tiny), a model directory written by
'babelir train', 'bm25' (bm25s; Snowball stemmer where the language has one, CJK bigrams) or
'use-multilingual' (Universal Sentence Encoder multilingual v3, 16 languages).

Benchmarks (names, comma-separated, globs allowed; see --list-benchmarks):
  bible-xref-<lang>     verse -> cross-referenced NT verses, same qrels in 22 languages (nDCG@10)
  bible-xref-pool       LAReQA-style pool of all 22 languages (mAP@20, own-language share of top 20)
  bible-bitext-<lang>   verse -> same verse in English (accuracy@1)
  wiki-<en|es|fr>       short description -> lead paragraph, held-out articles (nDCG@10)
  default               all of the above (their small variants)
  full / NAME-full      every held-out item (much slower)
  PATH[#split]          a BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv

Embeddings are cached on disk per (model fingerprint, role, text): evaluating the same model again
encodes nothing and gives identical numbers (--no-cache to bypass). $BABELIR_CACHE moves the cache.

examples:
  babelir evaluate bm25 --benchmarks default --output results/bm25.json
  babelir evaluate me5-small --benchmarks 'bible-xref-*,wiki-*' --output results/me5.json --run-dir runs/me5
  babelir evaluate runs/default/model --benchmarks default --output results/trained.json
  babelir evaluate me5-small --benchmarks path/to/scifact --output results/scifact.json
  babelir evaluate --compare results/bm25.json results/me5.json   # side-by-side tables
"""

BIAS_HELP = """\
How much does a model's similarity depend on language rather than meaning? On the same held-out NT
verses in every Bible language (or --languages), report:
  * the cross-validated accuracy of a linear language-ID probe (logistic regression) on the embeddings,
    next to chance; high accuracy = language is linearly encoded;
  * the mean cosine of unrelated verses in the same language vs in different languages, and of
    translations; a large same-minus-cross gap = language dominates similarity;
  * a PNG (PCA or t-SNE) of the verses coloured by language.
Writes OUTPUT_DIR/bias.json, OUTPUT_DIR/bias.md and OUTPUT_DIR/bias_<method>.png.

examples:
  babelir bias me5-small --output-dir reports/bias/me5-small
  babelir bias runs/default/model --output-dir reports/bias/trained --languages en,de,zh,sw --method tsne
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    ev = add_command(
        subparsers,
        "evaluate",
        "zero-shot evaluation on multilingual benchmarks (tables + JSON)",
        EVALUATE_HELP,
    )
    ev.add_argument(
        "model", nargs="?", metavar="MODEL", help="backbone name, model directory, bm25, use-multilingual"
    )
    ev.add_argument(
        "--benchmarks",
        default="default",
        metavar="NAMES",
        help="comma-separated names, globs, suites or BEIR folders (default: %(default)s)",
    )
    ev.add_argument("--output", metavar="FILE.json", help="write all results, metadata and timings here")
    ev.add_argument("--run-dir", metavar="DIR", help="also write one TREC run file per benchmark here")
    ev.add_argument("--markdown", metavar="FILE.md", help="also write the printed tables to this file")
    ev.add_argument(
        "--batch-size", type=int, default=32, metavar="N", help="encoding batch size (default: 32)"
    )
    ev.add_argument(
        "--no-cache", action="store_true", help="encode everything again (cache neither read nor written)"
    )
    ev.add_argument("--no-progress", action="store_true", help="no progress bars (logs, CI)")
    ev.add_argument(
        "--scoring",
        default="auto",
        metavar="SCORING",
        help="dense: one pooled vector per text (cosine); maxsim: ColBERT-style late interaction over token "
        "vectors; auto: maxsim for a model folder trained with --retriever late-interaction, else dense; "
        "neutral[:METHOD[@STATISTICS]]: dense after the language neutralization babelir index fits, from the "
        "benchmark's own corpus, each query's language identified as a server would (neutral alone: index's "
        "default; METHOD centered, lir:R or leace); centered / lir:R: the same from Old Testament reference "
        "verses (babelir.evaluation.retrieval.neutral); hybrid:FUSION or DENSE+hybrid:FUSION: that dense scoring "
        "(dense when none is named) fused with babelir's BM25 per query, FUSION = convex@W (W: BM25's share of "
        "min-max-normalised scores), rrf[@K] (reciprocal rank fusion), either with :slots (in a mixed-language "
        "collection, fusion reorders only the ranks dense retrieval gave the query's language), as babelir "
        "search --fusion (default: %(default)s)",
    )
    add_device_argument(ev)
    ev.add_argument("--backend", choices=BACKENDS, default="torch",
                    help=f"how a model is encoded, as babelir index/search/serve --backend: {BACKEND_HELP}")
    ev.add_argument(
        "--update-card", action="store_true",
        help="write the main score of each benchmark into MODEL's card (README.md) as model-index results, "
        "which model hubs display; MODEL must be a model folder babelir trained",
    )
    ev.add_argument(
        "--list-benchmarks", action="store_true", help="list benchmark names and metadata, then exit"
    )
    ev.add_argument(
        "--compare",
        nargs="+",
        metavar="FILE.json",
        help="print per-language tables comparing saved results (from --output), then exit",
    )
    ev.set_defaults(func=run_evaluate)

    bias = add_command(
        subparsers,
        "bias",
        "language-bias report: language-ID probe, same/cross-language similarity, PCA/t-SNE plot",
        BIAS_HELP,
    )
    bias.add_argument("model", metavar="MODEL", help="backbone name, model directory or use-multilingual")
    bias.add_argument(
        "--output-dir", required=True, metavar="DIR", help="where bias.json, bias.md and the PNG go"
    )
    bias.add_argument(
        "--languages", metavar="CODES", help="comma-separated ISO 639-1 codes (default: all 22)"
    )
    bias.add_argument(
        "--verses", type=int, default=200, metavar="N", help="verses per language (default: 200)"
    )
    bias.add_argument(
        "--method", choices=("pca", "tsne"), default="pca", help="2-D projection (default: pca)"
    )
    bias.add_argument(
        "--batch-size", type=int, default=32, metavar="N", help="encoding batch size (default: 32)"
    )
    bias.add_argument("--no-cache", action="store_true", help="encode everything again")
    add_device_argument(bias)
    bias.add_argument("--no-progress", action="store_true", help="no progress bars")
    bias.set_defaults(func=run_bias)


def _list_benchmarks() -> int:
    from babelir.evaluation.benchmarks import benchmark_names, get_meta
    from babelir.evaluation.scoring.metrics import display

    print("| name | family | languages | main metric | queries | documents | description |")
    print("|---|---|---|---|---:|---:|---|")
    for name in benchmark_names(include_full=True):
        meta = get_meta(name)
        sizes = meta.sizes or {}
        print(
            f"| {name} | {meta.family} | {','.join(meta.languages)} | {display(meta.main_metric)} | "
            f"{sizes.get('queries', '?')} | {sizes.get('documents', '?')} | {meta.description} |"
        )
    print("\n(? = not built yet: sizes are measured when a benchmark is first built)")
    return 0


def _compare(paths: list[str]) -> int:
    import json

    from babelir.evaluation.scoring.tables import comparison_markdown

    saved = []
    for path in paths:  # a missing file is an OSError naming it; babelir.cli prints both as one line
        with open(path, encoding="utf-8") as handle:
            try:
                saved.append(json.load(handle))
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                raise DataError(path, getattr(err, "lineno", None), f"not a results file written by "
                                f"'babelir evaluate --output' ({err}); write it again") from None
        if not _is_results(saved[-1]):  # e.g. an experiment's JSON, or a list: the tables would fail mid-way
            raise DataError(path, None, "not a results file written by 'babelir evaluate --output' (no "
                            "'benchmarks' mapping of scored benchmarks); give the file that command wrote")
    print(comparison_markdown(saved))
    return 0


def _is_results(data: object) -> bool:
    """Whether ``data`` has the shape :meth:`Results.save` writes (what the comparison tables read)."""
    benchmarks = data.get("benchmarks") if isinstance(data, dict) else None
    needed = {"family", "main_metric", "languages", "main_score", "supported"}
    return isinstance(benchmarks, dict) and all(isinstance(b, dict) and needed <= b.keys() for b in benchmarks.values())


RESULTS_KIND, TABLE_KIND = "evaluation results", "evaluation table"  # babelir.utils.ownership's kinds


def _check_replaceable(output: str | None, markdown: str | None) -> None:
    """Refuse to replace a file at --output or --markdown that an earlier evaluation did not write (its
    folder's ledger, :mod:`babelir.utils.ownership`): a user's file of the same name or shape is theirs."""
    from babelir.utils.ownership import check_file

    if output:
        check_file(output, RESULTS_KIND, "--output")
    if markdown:
        check_file(markdown, TABLE_KIND, "--markdown")


def run_evaluate(args: argparse.Namespace) -> int:
    if args.list_benchmarks:
        return _list_benchmarks()
    if args.compare:
        return _compare(args.compare)
    if not args.model:
        raise DataError(None, None, "MODEL is required (or --list-benchmarks)")
    from babelir.evaluation.scoring.runner import evaluate
    from babelir.utils.atomic import atomic_write_text
    from babelir.utils.ownership import record_file

    _check_replaceable(args.output, args.markdown)  # before the evaluation, not after it
    if args.update_card:
        _check_card_owner(args.model)
    # unknown benchmarks, damaged models and BEIR folders raise babelir errors: babelir.cli prints them
    results = evaluate(
        args.model,
        args.benchmarks,
        batch_size=args.batch_size,
        run_dir=args.run_dir,
        use_cache=not args.no_cache,
        show_progress=show_progress(not args.no_progress),
        log=_log,
        scoring=args.scoring,
        device=args.device,
        backend=args.backend,
    )
    table = results.to_markdown()
    print(table)
    if args.markdown:
        atomic_write_text(args.markdown, table)
        record_file(args.markdown, TABLE_KIND)
    if args.output:
        results.save(args.output)
        record_file(args.output, RESULTS_KIND)
        _log(f"wrote {args.output} ({results.seconds:.0f} s)")
    if args.update_card:
        from babelir.identity import update_card_results

        # a user's BEIR folder is named by its folder, not the path it had on this machine
        rows = [{"name": Path(name).name if "/" in name else name, "split": res.meta.get("split"),
                 "metric": res.main_metric, "value": res.main_score} for name, res in results.benchmarks.items()]
        card = Path(args.model) / "README.md"
        update_card_results(card, Path(args.model).resolve().name, rows)
        _log(f"wrote {len(rows)} results into {card}")
    return 0


def _check_card_owner(model: str) -> None:
    """--update-card writes into a model folder: only one babelir trained (its marker or training record)."""
    from babelir.identity import read_training_record
    from babelir.utils.errors import OutputError
    from babelir.utils.ownership import owns_folder

    folder = Path(model)
    # babelir's "model" marker, or (a model trained before markers) its training record
    if not owns_folder(folder, "model", legacy=lambda path: read_training_record(path) is not None):
        raise OutputError(folder, None, "--update-card writes the card of a model folder babelir trained; this is "
                          "not one (a backbone name, or a folder without babelir's marker or training record)")


def _log(line: str) -> None:
    """Per-benchmark lines on stderr (the table goes to stdout); ``-q`` silences them with the bars."""
    if not quiet():
        print(line, file=sys.stderr, flush=True)


def run_bias(args: argparse.Namespace) -> int:
    from babelir.evaluation.analysis.bias import bias_report

    languages = None
    if args.languages:  # the one language-code check, as every command applies it
        languages = [language_code(c.strip(), "in --languages") for c in args.languages.split(",") if c.strip()]
    report = bias_report(
        args.model,
        args.output_dir,
        languages=languages,
        verses=args.verses,
        method=args.method,
        batch_size=args.batch_size,
        use_cache=not args.no_cache,
        show_progress=show_progress(not args.no_progress),
        device=args.device,
    )
    print(report["markdown"])
    return 0
