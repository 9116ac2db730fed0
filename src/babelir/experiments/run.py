"""Running an experiment: train what is missing (finished runs are reused, interrupted ones resume), evaluate.

Saved results and trained models are keyed by the resolved training settings, so two experiments that
share a condition (e.g. retrieval-only) share one trained model and one measurement: a result another
experiment's file holds under the same key (same settings, evaluation and seed) is taken, not re-run.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babelir.experiments.spec import Condition, Experiment, training_config
from babelir.training.config import PLACEMENT_FIELDS
from babelir.training.diagnostics import summarise_diagnostics
from babelir.utils.cache import content_hash

# the loss components a training log records (unweighted), summarised per run
LOSS_NAMES = ("retrieval", "semantic", "language", "simcse", "distillation", "erasure")

if TYPE_CHECKING:
    from babelir.training.config import TrainConfig


def _benchmarks(exp: Experiment) -> list:
    from babelir.evaluation.benchmarks import load_benchmark
    from babelir.evaluation.benchmarks.mini import mini_benchmark

    if exp.mini:
        return [mini_benchmark(name, exp.queries, exp.documents) for name in exp.benchmarks]
    return [load_benchmark(name) for name in exp.benchmarks]


def result_key(exp: Experiment, cond: Condition, seed: int) -> str:
    """What one saved result measured: the resolved training settings (so a changed ``TrainConfig``
    default is never served stale results), the evaluation and the seed; not expected scores or
    descriptions, which do not change the measurement."""
    trained = training_config(exp, cond, seed).identity() if cond.train is not None else None
    # where a run computes and what it logs (--device, gradient diagnostics) do not change what it measures
    defaults = {k: v for k, v in exp.defaults.items() if k not in PLACEMENT_FIELDS}
    what = [trained or cond.train, cond.backbone, defaults, exp.benchmarks, exp.queries, exp.documents, seed]
    if cond.scoring != "auto":  # only when set: an untrained condition's key stays as before the option
        what.append(cond.scoring)
    return content_hash(what)


def model_dir(runs_dir: Path, config: TrainConfig) -> Path:
    """Where a model with these settings is trained: keyed by the settings alone, shared across experiments."""
    return runs_dir / "models" / content_hash(config.identity())


def _train(
    exp: Experiment, cond: Condition, seed: int, runs_dir: Path, device: str = "auto"
) -> tuple[str, dict[str, Any]]:
    """Train (or reuse) the model of one condition and summarise its training log."""
    from babelir.training.trainer import CoTrainer, finished_model

    config = training_config(exp, cond, seed)
    config.device = device  # where, not what: not part of the settings that name the model folder
    out = model_dir(runs_dir, config)
    if finished_model(out, config) is None:
        CoTrainer(config, out).train(resume=True)
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    info = {
        "config": config.to_dict(),
        "seconds": log[-1]["elapsed_s"],
        "examples_per_s": statistics.mean(r["examples_per_s"] for r in log[1:] or log),
        "final": {k: v for k, v in log[-1].items() if k in LOSS_NAMES},
        "first": {k: v for k, v in log[0].items() if k in LOSS_NAMES},
    }
    if (gradients := summarise_diagnostics(log)) is not None:  # runs with --gradient-diagnostics-every
        info["gradients"] = gradients
    return str(out / "model"), info


def run_experiment(
    exp: Experiment,
    runs_dir: Path,
    only: list[str] | None = None,
    log=print,
    previous: dict | None = None,
    on_result=None,
    device: str = "auto",
    shared: dict[str, tuple[str, dict[str, Any]]] | None = None,
    seeds_only: list[int] | None = None,
) -> dict[str, Any]:
    """Train and evaluate every condition x seed not already in ``previous`` (``seeds_only``: of those
    seeds alone, e.g. every condition's first seed before any second one); ``on_result(results)``
    runs after each one (the command saves the JSON there, so a crash loses at most one condition).
    ``device`` (``auto``, ``cpu``, ``cuda``, ``cuda:N``) is where training and encoding run. ``shared``
    maps a result key to (the file, the result) of other experiments: the same measurement, taken as it is."""
    from babelir.data.trec import read_run
    from babelir.evaluation.retrieval.loading import load_retriever
    from babelir.evaluation.scoring.metrics import evaluate_run
    from babelir.evaluation.scoring.runner import evaluate_benchmark

    benches: list = []  # loaded on first use: an experiment whose results all exist reads no benchmark
    results: dict[str, Any] = {"conditions": {}}
    if previous:
        results["conditions"].update(previous.get("conditions", {}))
    for cond in exp.conditions:
        if only and cond.name not in only:
            continue
        seeds = exp.seeds if cond.train is not None else exp.seeds[:1]
        for seed in seeds:
            if seeds_only is not None and seed not in seeds_only and cond.train is not None:
                continue
            key = result_key(exp, cond, seed)
            done = results["conditions"].get(cond.name, {}).get(str(seed))
            if done and done.get("key") == key:
                log(f"{cond.name} seed {seed}: reusing earlier results")
                continue
            if shared and key in shared:
                source, record = shared[key]
                results["conditions"].setdefault(cond.name, {})[str(seed)] = {**record, "reused_from": source}
                log(f"{cond.name} seed {seed}: reusing the same measurement from {source}")
                if on_result is not None:
                    on_result(results)
                continue
            benches = benches or _benchmarks(exp)
            out = runs_dir / exp.name / cond.name / f"seed-{seed}"
            start = time.perf_counter()
            if cond.train is None:
                model, train_info = cond.backbone or exp.defaults.get("backbone", "me5-small"), None
            else:
                log(f"{cond.name} seed {seed}: training")
                model, train_info = _train(exp, cond, seed, runs_dir, device)
            log(f"{cond.name} seed {seed}: evaluating {model}")
            retriever = load_retriever(model, scoring=cond.scoring, device=device)
            scores, per_query, extras = {}, {}, {}
            for bench in benches:
                res = evaluate_benchmark(retriever, bench, 32, out / "runs", False)
                scores[bench.name] = res.main_score
                # the pooled summaries (own-language shares, other-language recall): reported beside the score
                extras[bench.name] = {k: v for k, v in res.extra.items() if isinstance(v, float)}
                run = read_run(res.run_file)
                per_query[bench.name] = evaluate_run(bench.qrels, run, [res.main_metric])[res.main_metric]
            results["conditions"].setdefault(cond.name, {})[str(seed)] = {
                "key": key, "model": model, "scores": scores, "per_query": per_query, "train": train_info,
                **({"extras": extras} if any(extras.values()) else {}),
                "seconds": time.perf_counter() - start,
            }
            log(f"{cond.name} seed {seed}: " + ", ".join(f"{b} {s:.4f}" for b, s in scores.items()))
            if on_result is not None:
                on_result(results)
    return results
