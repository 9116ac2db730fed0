"""``babelir demo``: the whole method in minutes on a laptop CPU.

1. builds the embedded default data from the installed packages (English retrieval pairs, Old Testament
   parallel and non-parallel verses);
2. co-trains the default backbone (multilingual-e5-small) for a short run with all three losses;
3. evaluates the base model and the trained model zero-shot on New Testament cross-reference retrieval
   in several languages (the same queries and judgements in every language; a reduced "mini" size so
   the demo fits in ~10 minutes on 2 cores);
4. prints a per-language table (nDCG@10 x 100; beside it the trained model fused with BM25 as an index
   built with ``--lexical`` searches, from the same vectors) and writes it with the JSON results;
5. pools the same verses of all its languages into one collection (each query against every language;
   relevant = the cross references in every language) and scores base, trained, and trained with the
   language neutralization ``babelir index`` deploys (alone and fused with BM25): what
   "language-agnostic" means, from the vectors already computed (only the neutralization's query-side
   sample is encoded anew).

A short run shows the pipeline, not the paper's effect sizes: ``reports/claims.md`` holds the
experiments, each with its command.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from babelir.retrieval.fusion import SHIPPED_FUSION
from babelir.utils.atomic import atomic_write_json, atomic_write_text
from babelir.utils.commands import add_command
from babelir.utils.verbosity import show_progress

DEFAULT_LANGUAGES = ("en", "de", "fr", "ru", "sw", "hi", "ko", "ar")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "demo",
        "build the default data, train briefly, evaluate base vs trained per language",
        __doc__,
    )
    parser.add_argument("--output", default="babelir-demo", metavar="DIR", help="run folder (default: %(default)s)")
    parser.add_argument("--backbone", default="me5-small", help="backbone name or model directory")
    parser.add_argument("--steps", type=int, default=40, help="training steps (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=8, help="rows per stream per step (default: %(default)s)")
    parser.add_argument("--languages", default=",".join(DEFAULT_LANGUAGES),
                        help="comma-separated evaluation languages (default: %(default)s)")
    parser.add_argument("--queries", type=int, default=100, help="queries per language (default: %(default)s)")
    parser.add_argument("--documents", type=int, default=600, help="documents per language (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--language-weight", type=float, default=10.0,
        help="language loss weight; 10 suits a run this short (60 steps of 8 or fewer), while `babelir train` "
        "defaults to 1 for longer runs (reports/dev-history.md, section 7) (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--overwrite", action="store_true",
                        help="train again where --output holds a demo model of other settings, replacing it")
    parser.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from babelir.data import defaults
    from babelir.evaluation.benchmarks.mini import mini_benchmark
    from babelir.evaluation.retrieval.loading import load_retriever
    from babelir.evaluation.scoring.runner import evaluate_benchmark
    from babelir.training.config import TrainConfig
    from babelir.training.trainer import (
        CoTrainer,
        finished_model,
        refuse_foreign_output,
        refuse_replacing_model,
    )

    start = time.perf_counter()
    out = Path(args.output)
    config = TrainConfig(
        backbone=args.backbone, steps=args.steps, batch_size=args.batch_size, aux_batch_size=args.batch_size,
        warmup_steps=max(1, args.steps // 10), checkpoint_every=max(1, args.steps // 2), seed=args.seed,
        language_weight=args.language_weight,
    ).validate()
    # a folder of the user's, or a finished demo of other settings: refused before the data is built, not after
    refuse_foreign_output(out)
    refuse_replacing_model(out, config, resume=True, overwrite=args.overwrite)
    languages = _languages(args.languages)  # checked before minutes of training, not after
    print("[1/5] building the embedded default data from the installed packages", flush=True)
    data = defaults.build_default_data()
    print(defaults.summary(data), flush=True)

    print(f"\n[2/5] co-training {config.backbone} for {config.steps} steps "
          f"(retrieval + {config.semantic_weight} x semantic + {config.language_weight} x language)", flush=True)
    trained_path = finished_model(out, config)
    if trained_path is None:
        # resumes an interrupted demo; a finished one of other settings is replaced only with --overwrite
        trained_path = CoTrainer(config, out).train(resume=True, overwrite=args.overwrite).model_path
    else:
        print(f"reusing {trained_path}, trained earlier with the same settings", flush=True)

    benches = [mini_benchmark(f"bible-xref-{lang}", args.queries, args.documents) for lang in languages]
    scores: dict[str, dict[str, float]] = {}
    runs = ((3, "base", args.backbone, "dense"), (4, "trained", str(trained_path), "dense"),
            (None, "trained + BM25", str(trained_path), f"hybrid:{SHIPPED_FUSION.spec}"))  # cached vectors + BM25
    for step, label, model, scoring in runs:
        if step is not None:
            print(f"\n[{step}/5] evaluating the {label} model zero-shot on NT cross references "
                  f"({args.queries} queries, {args.documents} verses per language)", flush=True)
        retriever = load_retriever(model, scoring=scoring)
        for bench in benches:
            result = evaluate_benchmark(retriever, bench, 32, None, show_progress())
            scores.setdefault(bench.meta.languages[0], {})[label] = result.main_score

    print("\n[5/5] the same verses of all these languages in one collection (the pool)", flush=True)
    pool_rows = demo_pool(benches, args.backbone, str(trained_path))
    table = demo_table(scores, config.parallel_languages)
    minutes = (time.perf_counter() - start) / 60
    print("\nZero-shot nDCG@10 x 100 on New Testament cross-reference retrieval "
          f"(training used English retrieval data only; parallel data: {', '.join(config.parallel_languages)}):\n")
    print(table)
    pool = pool_table(pool_rows)
    print(f"\nOne collection of all {len(languages)} languages ({len(languages)} x {args.documents} verses), "
          "each query against all of them; relevant = its cross references in every language (x 100):\n")
    print(pool)
    print(f"\n{minutes:.1f} min in all; model: {trained_path}; log: {out / 'train_log.jsonl'}")
    atomic_write_text(out / "demo_results.md", table + "\n\n" + pool + "\n")
    atomic_write_json(out / "demo_results.json", {"scores": scores, "pool": pool_rows, "config": config.to_dict(),
                                                  "languages": languages, "minutes": minutes})
    return 0


def _languages(value: str) -> list[str]:
    """``--languages``: the one language-code check, then the Bible text the benchmarks need."""
    from babelir.data.errors import DataError
    from babelir.data.languages import language_code
    from babelir.data.sources import bible

    codes = [language_code(code.strip(), "in --languages") for code in value.split(",") if code.strip()]
    missing = [code for code in codes if code not in bible.LANGUAGES]
    if missing or not codes:
        raise DataError(None, None, f"--languages: no Bible text for {', '.join(missing) or 'no language'}; "
                        f"choose from {', '.join(bible.LANGUAGES)}")
    return codes


def demo_table(scores: dict[str, dict[str, float]], parallel: Sequence[str]) -> str:
    """Base against trained per language (and the trained model fused with BM25, where scored)."""
    hybrid = any("trained + BM25" in row for row in scores.values())
    lines = ["| language | parallel data | base | trained | change |" + (" trained + BM25 |" if hybrid else ""),
             "|---|---|---:|---:|---:|" + ("---:|" if hybrid else "")]

    def cells(row: dict[str, float]) -> str:
        base, trained = row.get("base", float("nan")), row.get("trained", float("nan"))
        out = f"{100 * base:.1f} | {100 * trained:.1f} | {100 * (trained - base):+.1f} |"
        return out + (f" {100 * row.get('trained + BM25', float('nan')):.1f} |" if hybrid else "")

    for lang, row in scores.items():
        kind = "English (training)" if lang == "en" else ("yes" if lang in parallel else "none")
        lines.append(f"| {lang} | {kind} | {cells(row)}")
    others = [r for lang, r in scores.items() if lang != "en" and lang not in parallel]
    if others:
        mean = {key: sum(r.get(key, float("nan")) for r in others) / len(others) for key in others[0]}
        lines.append(f"| mean, no parallel data | | {cells(mean)}")
    return "\n".join(lines)



POOL_COLUMNS = (("nAP@20", "mAP@20 ÷min(R,20)"), ("own_language_share@10", "own language in top 10"),
                ("other_language_recall@100", "other-language recall@100"))


def demo_pool(benches: list, base: str, trained: str) -> dict[str, dict[str, float]]:
    """Pool the per-language benchmarks and score base, trained and trained + neutralization there."""
    from babelir.evaluation.benchmarks.pool import pool_meta, pool_of
    from babelir.evaluation.retrieval.loading import load_retriever
    from babelir.evaluation.scoring.runner import evaluate_benchmark

    langs = [b.meta.languages[0] for b in benches]
    pooled = pool_of(benches, pool_meta("demo-pool", langs, "babelir demo's languages in one collection"))
    rows: dict[str, dict[str, float]] = {}
    for label, model, scoring in (("base", base, "dense"), ("trained", trained, "dense"),
                                  ("trained + neutralization", trained, "neutral"),
                                  ("trained + neutralization + BM25", trained, f"neutral+hybrid:{SHIPPED_FUSION.spec}")):
        result = evaluate_benchmark(load_retriever(model, scoring=scoring), pooled, 32, None, show_progress())
        rows[label] = {key: float(result.extra.get(key, result.metrics.get(key, float("nan"))))
                       for key, _ in POOL_COLUMNS}
    return rows


def pool_table(rows: dict[str, dict[str, float]]) -> str:
    lines = ["| model | " + " | ".join(title for _, title in POOL_COLUMNS) + " |",
             "|---|" + "---:|" * len(POOL_COLUMNS)]
    for label, row in rows.items():
        lines.append(f"| {label} | " + " | ".join(f"{100 * row[key]:.1f}" for key, _ in POOL_COLUMNS) + " |")
    return "\n".join(lines)
