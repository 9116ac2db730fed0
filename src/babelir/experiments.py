"""Experiment files: conditions (training settings) -> zero-shot scores, reproducible from one command.

Pyserini-style: a YAML file lists conditions, each a set of training settings on top of shared
defaults (or ``train: false`` to evaluate a backbone as it is), optional expected scores with a
tolerance, and the evaluation benchmarks. ``babelir experiment FILE`` trains what is missing (finished
runs are reused; interrupted ones resume), evaluates, writes JSON, markdown (with the command at the
top) and a PNG bar chart of the scores, and exits non-zero when an expected score is missed — so CI can run a short file as a regression.

Example (``configs/experiments/regression.yaml``)::

    name: regression
    defaults: {backbone: me5-small-L4, steps: 30, batch_size: 8, aux_batch_size: 8}
    evaluation: {benchmarks: [bible-xref-en, bible-xref-sw], queries: 60, documents: 300}
    groups: {no-parallel: [sw]}
    compare_to: retrieval-only
    conditions:
      - {name: base, train: false}
      - {name: retrieval-only, train: {semantic_weight: 0, language_weight: 0}}
      - {name: co-training, train: {}, expected: {bible-xref-sw-mini: 0.20}, tolerance: 0.02}
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from babelir.utils.commands import add_command
from babelir.data.errors import DataError
from babelir.utils.atomic import atomic_open, atomic_write_json, atomic_write_text
from babelir.utils.cache import content_hash

if TYPE_CHECKING:
    from babelir.training.config import TrainConfig

EXPERIMENT_KEYS = {"name", "description", "extends", "defaults", "evaluation", "conditions", "seeds", "compare_to", "groups"}
CONDITION_KEYS = {"name", "train", "backbone", "expected", "tolerance", "description", "compare_to", "scoring"}


@dataclass
class Condition:
    name: str
    train: dict[str, Any] | None  # None: evaluate the backbone as it is
    backbone: str | None = None
    expected: dict[str, float] = field(default_factory=dict)
    tolerance: float = 0.01
    description: str = ""
    compare_to: str | None = None  # this condition's reference in the significance table (default: the file's)
    scoring: str = "auto"  # dense | maxsim | auto (maxsim for models trained with retriever: late-interaction)


@dataclass
class Experiment:
    name: str
    path: Path
    defaults: dict[str, Any]
    benchmarks: list[str]
    queries: int | None
    documents: int | None
    conditions: list[Condition]
    seeds: list[int]
    compare_to: str | None = None
    groups: dict[str, list[str]] = field(default_factory=dict)
    description: str = ""


def _read_experiment_file(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], dict[str, int]]:
    """The file's mapping with its ``extends`` chain applied, and the line of each of its own keys."""
    try:
        text = path.read_text(encoding="utf-8")
        raw = yaml.safe_load(text) or {}
    except FileNotFoundError:
        raise DataError(path, None, "experiment file not found") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise DataError(path, mark.line + 1 if mark else None, f"invalid YAML: {err}") from None
    lines = {}
    node = yaml.compose(text)
    if isinstance(node, yaml.MappingNode):
        lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
        for key, value in node.value:
            if key.value == "conditions" and isinstance(value, yaml.SequenceNode):
                lines.update({f"conditions[{i}]": item.start_mark.line + 1 for i, item in enumerate(value.value, 1)})
    if not isinstance(raw, dict):
        raise DataError(path, 1, "an experiment file must be a mapping of keys to values")
    for key in raw:
        if key not in EXPERIMENT_KEYS:
            raise DataError(path, lines.get(str(key)), f"unknown key {key!r} (known: {', '.join(sorted(EXPERIMENT_KEYS))})")
    if "extends" not in raw:
        return raw, lines
    parent_path = (path.parent / str(raw.pop("extends"))).resolve()
    if parent_path in seen or parent_path == path.resolve():
        raise DataError(path, lines.get("extends"), f"extends {parent_path.name}, which extends this file again")
    parent, _ = _read_experiment_file(parent_path, (*seen, path.resolve()))
    # mappings (defaults, evaluation, groups) merge key by key; anything else (conditions, seeds) replaces
    merged = dict(parent)
    merged.pop("name", None)
    merged.pop("description", None)
    for key, value in raw.items():
        merged[key] = {**parent[key], **value} if isinstance(value, dict) and isinstance(parent.get(key), dict) else value
    return merged, lines


def load_experiment(path: str | Path) -> Experiment:
    """Read an experiment file. ``extends: OTHER.yaml`` (relative to the file) starts from another file:
    its ``defaults``, ``evaluation`` and ``groups`` merge key by key, other keys replace the parent's."""
    path = Path(path)
    raw, lines = _read_experiment_file(path)
    evaluation = raw.get("evaluation") or {}
    if not evaluation.get("benchmarks"):
        raise DataError(path, lines.get("evaluation"), "evaluation.benchmarks must list at least one benchmark")
    def condition_line(number: int) -> int | None:
        return lines.get(f"conditions[{number}]", lines.get("conditions"))

    conditions = []
    for number, item in enumerate(raw.get("conditions") or [], 1):
        if not isinstance(item, dict):
            raise DataError(path, condition_line(number), f"condition {number}: expected a mapping, got {item!r}")
        unknown = set(item) - CONDITION_KEYS
        if unknown or "name" not in item:
            problem = f"unknown keys {sorted(unknown)}" if unknown else "a condition needs a name"
            if any(item[key] is None for key in unknown):
                problem += " (a name that contains a comma needs quotes in a {...} mapping)"
            raise DataError(path, condition_line(number), f"condition {number}: {problem}")
        train = item.get("train", {})
        conditions.append(Condition(
            name=str(item["name"]),
            train=None if train is False else dict(train or {}),
            backbone=item.get("backbone"),
            expected={str(k): float(v) for k, v in (item.get("expected") or {}).items()},
            tolerance=float(item.get("tolerance", 0.01)),
            description=str(item.get("description", "")),
            compare_to=item.get("compare_to"),
            scoring=str(item.get("scoring", "auto")),
        ))
    if not conditions:
        raise DataError(path, lines.get("conditions"), "an experiment needs at least one condition")
    from babelir.evaluation.models import SCORINGS

    names = [c.name for c in conditions]
    for number, cond in enumerate(conditions, 1):
        if cond.scoring not in SCORINGS:
            raise DataError(path, condition_line(number), f"condition {cond.name!r}: scoring must be one of {', '.join(SCORINGS)}, got {cond.scoring!r}")
        if cond.compare_to is not None and cond.compare_to not in names:
            raise DataError(path, condition_line(number), f"condition {cond.name!r}: compare_to {cond.compare_to!r} is not a condition")
    # validate every condition's settings now, not after an hour of training
    from babelir.training.config import TrainConfig

    defaults = dict(raw.get("defaults") or {})
    for number, cond in enumerate(conditions, 1):
        if cond.train is not None:
            try:
                TrainConfig(**{**defaults, **cond.train}).validate(str(path))
            except TypeError as err:
                raise DataError(path, condition_line(number), f"condition {cond.name!r}: {err}") from None
    return Experiment(
        name=str(raw.get("name") or path.stem),
        path=path,
        defaults=defaults,
        benchmarks=[str(b) for b in evaluation["benchmarks"]],
        queries=evaluation.get("queries"),
        documents=evaluation.get("documents"),
        conditions=conditions,
        seeds=[int(s) for s in (raw.get("seeds") or [42])],
        compare_to=raw.get("compare_to"),
        groups={str(k): [str(x) for x in v] for k, v in (raw.get("groups") or {}).items()},
        description=str(raw.get("description", "")),
    )


# ----------------------------------------------------------------------------------------------- running


def _benchmarks(exp: Experiment) -> list:
    from babelir.evaluation.benchmarks import load_benchmark
    from babelir.evaluation.benchmarks.mini import mini_benchmark

    if exp.queries and exp.documents:
        return [mini_benchmark(name, exp.queries, exp.documents) for name in exp.benchmarks]
    return [load_benchmark(name) for name in exp.benchmarks]


def result_key(exp: Experiment, cond: Condition, seed: int) -> str:
    """What one saved result measured: the resolved training settings (so a changed ``TrainConfig``
    default is never served stale results), the evaluation and the seed; not expected scores or
    descriptions, which do not change the measurement."""
    trained = _config(exp, cond, seed).identity() if cond.train is not None else None
    what = [trained or cond.train, cond.backbone, exp.defaults, exp.benchmarks, exp.queries, exp.documents, seed]
    if cond.scoring != "auto":  # only when set: an untrained condition's key stays as before the option
        what.append(cond.scoring)
    return content_hash(what)


def _config(exp: Experiment, cond: Condition, seed: int) -> TrainConfig:
    """The full training settings of one condition and seed (file defaults, then the condition's own)."""
    from babelir.training.config import TrainConfig

    config = TrainConfig(**{**exp.defaults, **(cond.train or {}), "seed": seed, "progress": False}).validate()
    if cond.backbone:
        config.backbone = cond.backbone
    return config


def _train(exp: Experiment, cond: Condition, seed: int, runs_dir: Path) -> tuple[str, dict[str, Any]]:
    """Train (or reuse) the model of one condition; runs are keyed by their settings, so two experiments
    that share a condition (e.g. retrieval-only) share one trained model."""
    from babelir.training.trainer import CoTrainer, finished_model

    config = _config(exp, cond, seed)
    out = runs_dir / "models" / content_hash(config.identity())
    if finished_model(out, config) is None:
        CoTrainer(config, out).train(resume=True)
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    info = {
        "config": config.to_dict(),
        "seconds": log[-1]["elapsed_s"],
        "examples_per_s": statistics.mean(r["examples_per_s"] for r in log[1:] or log),
        "final": {k: v for k, v in log[-1].items() if k in ("retrieval", "semantic", "language")},
        "first": {k: v for k, v in log[0].items() if k in ("retrieval", "semantic", "language")},
    }
    return str(out / "model"), info


def run_experiment(
    exp: Experiment,
    runs_dir: Path,
    only: list[str] | None = None,
    log=print,
    previous: dict | None = None,
    on_result=None,
) -> dict[str, Any]:
    """Train and evaluate every condition x seed not already in ``previous``; ``on_result(results)``
    runs after each one (the command saves the JSON there, so a crash loses at most one condition)."""
    from babelir.data.trec import read_run
    from babelir.evaluation.metrics import evaluate_run
    from babelir.evaluation.models import load_retriever
    from babelir.evaluation.runner import evaluate_benchmark

    benches = _benchmarks(exp)
    results: dict[str, Any] = {"conditions": {}}
    if previous:
        results["conditions"].update(previous.get("conditions", {}))
    for cond in exp.conditions:
        if only and cond.name not in only:
            continue
        seeds = exp.seeds if cond.train is not None else exp.seeds[:1]
        for seed in seeds:
            key = result_key(exp, cond, seed)
            done = results["conditions"].get(cond.name, {}).get(str(seed))
            if done and done.get("key") == key:
                log(f"{cond.name} seed {seed}: reusing earlier results")
                continue
            out = runs_dir / exp.name / cond.name / f"seed-{seed}"
            start = time.perf_counter()
            if cond.train is None:
                model, train_info = cond.backbone or exp.defaults.get("backbone", "me5-small"), None
            else:
                log(f"{cond.name} seed {seed}: training")
                model, train_info = _train(exp, cond, seed, runs_dir)
            log(f"{cond.name} seed {seed}: evaluating {model}")
            retriever = load_retriever(model, scoring=cond.scoring)
            scores, per_query = {}, {}
            for bench in benches:
                res = evaluate_benchmark(retriever, bench, 32, out / "runs", False)
                scores[bench.name] = res.main_score
                run = read_run(res.run_file)
                per_query[bench.name] = evaluate_run(bench.qrels, run, [res.main_metric])[res.main_metric]
            results["conditions"].setdefault(cond.name, {})[str(seed)] = {
                "key": key, "model": model, "scores": scores, "per_query": per_query, "train": train_info,
                "seconds": time.perf_counter() - start,
            }
            log(f"{cond.name} seed {seed}: " + ", ".join(f"{b} {s:.4f}" for b, s in scores.items()))
            if on_result is not None:
                on_result(results)
    return results


# ----------------------------------------------------------------------------------------------- analysis


def paired_permutation_test(a: list[float], b: list[float], rounds: int = 10000, seed: int = 0) -> float:
    """Two-sided p-value of mean(b - a) under random sign flips of the paired differences."""
    diff = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)
    if not len(diff) or not diff.any():
        return 1.0
    observed = abs(diff.mean())
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=(rounds, len(diff)))
    return float(((np.abs((signs * diff).mean(axis=1)) >= observed - 1e-12).sum() + 1) / (rounds + 1))


def _language(bench: str) -> str:
    return bench.removesuffix("-mini").rsplit("-", 1)[-1]


def _mean_scores(cond_results: dict[str, Any]) -> dict[str, float]:
    seeds = list(cond_results.values())
    return {b: statistics.mean(s["scores"][b] for s in seeds) for b in seeds[0]["scores"]}


def _mean_per_query(cond_results: dict[str, Any], benches: list[str]) -> dict[tuple[str, str], float]:
    seeds = list(cond_results.values())
    out = {}
    for b in benches:
        for q in seeds[0]["per_query"][b]:
            out[(b, q)] = statistics.mean(s["per_query"][b].get(q, 0.0) for s in seeds)
    return out


def check_expected(exp: Experiment, results: dict[str, Any]) -> list[tuple[str, str, float, float, bool]]:
    rows = []
    for cond in exp.conditions:
        if cond.name not in results["conditions"]:
            continue
        means = _mean_scores(results["conditions"][cond.name])
        for bench, expected in cond.expected.items():
            got = means.get(bench, float("nan"))
            rows.append((cond.name, bench, expected, got, abs(got - expected) <= cond.tolerance))
    return rows


def _reported(exp: Experiment, results: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The conditions with results (in the file's order) and the benchmarks they were scored on."""
    conds = [c.name for c in exp.conditions if c.name in results["conditions"]]
    benches = list(next(iter(results["conditions"][conds[0]].values()))["scores"]) if conds else []
    return conds, benches


def report_markdown(exp: Experiment, results: dict[str, Any], command: str) -> str:
    conds, benches = _reported(exp, results)
    if not conds:
        return ""
    langs = [_language(b) for b in benches]
    headers = ["condition", *langs, *(f"mean {g}" for g in exp.groups), "train s", "examples/s"]
    lines = [f"### {exp.name}", "", exp.description.strip(), "", f"Command: `{command}`", "",
             f"Main metric x100 (nDCG@10 unless the benchmark says otherwise), mean over seeds {exp.seeds}; "
             f"benchmarks: {', '.join(benches)}.", "",
             "| " + " | ".join(headers) + " |", "|---|" + "---:|" * (len(headers) - 1)]
    for name in conds:
        cond_results = results["conditions"][name]
        means = _mean_scores(cond_results)
        row = [name] + [f"{100 * means[b]:.1f}" for b in benches]
        for members in exp.groups.values():
            vals = [means[b] for b in benches if _language(b) in members]
            row.append(f"{100 * statistics.mean(vals):.1f}" if vals else "")
        trains = [s["train"] for s in cond_results.values() if s.get("train")]
        row.append(f"{statistics.mean(t['seconds'] for t in trains):.0f}" if trains else "-")
        row.append(f"{statistics.mean(t['examples_per_s'] for t in trains):.1f}" if trains else "-")
        lines.append("| " + " | ".join(row) + " |")
    references = {c.name: c.compare_to or exp.compare_to for c in exp.conditions if c.name in conds}
    references = {name: ref for name, ref in references.items() if ref in conds and ref != name}
    if references:
        against = f"`{exp.compare_to}` (unless a row names another condition)" if exp.compare_to else "the condition each row names"
        lines += ["", f"Paired permutation test against {against} "
                  "over queries (per-query scores averaged over seeds; 10,000 sign flips):", "",
                  "| condition | group | Δ x100 | p |", "|---|---|---:|---:|"]
        for name, reference in references.items():
            ref = _mean_per_query(results["conditions"][reference], benches)
            other = _mean_per_query(results["conditions"][name], benches)
            label = name if reference == exp.compare_to else f"{name} (vs {reference})"
            for group, members in {"all": langs, **exp.groups}.items():
                keys = [k for k in ref if _language(k[0]) in members and k in other]
                if not keys:
                    continue
                a, b = [ref[k] for k in keys], [other[k] for k in keys]
                delta = 100 * (statistics.mean(b) - statistics.mean(a))
                lines.append(f"| {label} | {group} | {delta:+.2f} | {paired_permutation_test(a, b):.4f} |")
    checks = check_expected(exp, results)
    if checks:
        lines += ["", "| condition | benchmark | expected | measured | |", "|---|---|---:|---:|---|"]
        for cond, bench, expected, got, ok in checks:
            lines.append(f"| {cond} | {bench} | {expected:.4f} | {got:.4f} | {'OK' if ok else 'FAIL'} |")
    return "\n".join(lines) + "\n"


def plot_results(exp: Experiment, results: dict[str, Any], path: Path) -> None:
    """Grouped bars: the main metric per language (and per group mean) for each condition, with the
    spread over seeds as error bars; written atomically as PNG (Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    conds, benches = _reported(exp, results)
    if not conds:
        return
    columns = [(_language(b), [b]) for b in benches]
    columns += [(f"mean\n{g}", [b for b in benches if _language(b) in m]) for g, m in exp.groups.items()]
    fig, ax = plt.subplots(figsize=(min(14.0, max(7.0, 0.6 * len(columns) * (1 + 0.25 * len(conds)))), 4.8), dpi=110)
    width = 0.8 / len(conds)
    x = np.arange(len(columns))
    for i, name in enumerate(conds):
        seeds = list(results["conditions"][name].values())
        per_seed = [[100 * statistics.mean(s["scores"][b] for b in members) for s in seeds] for _, members in columns]
        means = [statistics.mean(v) for v in per_seed]
        spread = [statistics.stdev(v) if len(v) > 1 else 0.0 for v in per_seed]
        ax.bar(x + (i - (len(conds) - 1) / 2) * width, means, width, label=name,
               yerr=spread if len(seeds) > 1 else None, capsize=2)
    ax.set_xticks(x, [label for label, _ in columns])
    low = min(100 * min(s["scores"].values()) for c in conds for s in results["conditions"][c].values())
    ax.set_ylim(max(0.0, low - 5), None)
    ax.set_ylabel("main metric x100 (nDCG@10)")
    spread_note = "; error bars ±1 sd over seeds" if len(exp.seeds) > 1 else ""
    ax.set_title(f"{exp.name} (seeds {exp.seeds}{spread_note})", fontsize=10)
    ax.legend(fontsize=7, ncol=min(4, len(conds)), loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False)
    fig.tight_layout()
    with atomic_open(path, "wb", encoding=None) as handle:
        fig.savefig(handle, format="png")
    plt.close(fig)


# ----------------------------------------------------------------------------------------------- command


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "experiment",
        "run an experiment file: train each condition, evaluate, check expected scores",
        __doc__,
    )
    parser.add_argument("file", help="experiment YAML file")
    parser.add_argument("--runs-dir", default="runs", help="where models and runs go (default: %(default)s)")
    parser.add_argument("--output", help="results JSON (default: reports/experiments/NAME.json)")
    parser.add_argument("--conditions", help="comma-separated subset of conditions to run")
    parser.add_argument("--report-only", action="store_true", help="rebuild the markdown from the JSON")
    parser.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    try:
        exp = load_experiment(args.file)
    except DataError as err:
        print(f"babelir experiment: error: {err}", file=sys.stderr)
        return 2
    output = Path(args.output or f"reports/experiments/{exp.name}.json")
    previous = json.loads(output.read_text()) if output.is_file() else None
    command = "babelir experiment " + shlex.quote(str(args.file))
    if args.report_only:
        if previous is None:
            print(f"babelir experiment: error: {output}: no results yet", file=sys.stderr)
            return 2
        results = previous
    else:
        only = [c.strip() for c in args.conditions.split(",")] if args.conditions else None

        def save(partial: dict[str, Any]) -> None:
            atomic_write_json(output, partial)

        results = run_experiment(exp, Path(args.runs_dir), only, previous=previous, on_result=save)
        save(results)
    markdown = report_markdown(exp, results, command)
    atomic_write_text(output.with_suffix(".md"), markdown)
    plot_results(exp, results, output.with_suffix(".png"))
    print(markdown)
    failed = [row for row in check_expected(exp, results) if not row[4]]
    return 1 if failed else 0
