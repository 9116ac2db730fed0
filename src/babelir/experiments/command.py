"""Experiment files: conditions (training settings) -> zero-shot scores, reproducible from one command.

Pyserini-style: a YAML file lists conditions, each a set of training settings on top of shared
defaults (or ``train: false`` to evaluate a backbone as it is), optional expected scores with a
tolerance, and the evaluation benchmarks. ``babelir experiment FILE`` trains what is missing (finished
runs are reused; interrupted ones resume), evaluates, writes JSON, markdown (with the command at the
top) and a PNG bar chart of the scores, and exits non-zero when an expected score is missed, so CI can
run a short file as a regression. ``--report-only`` rebuilds the markdown and the chart from the JSON.
A condition that another results file beside the output measured with the same settings, evaluation and
seed (e.g. the retrieval-only runs two claims files share) is taken from there, not run again.

A condition is written once: ``presets: presets.yaml`` names a file of shared conditions (taken with
``preset: NAME``) and settings blocks (taken with ``use: [NAME, ...]``); ``extends: OTHER.yaml`` starts
from another experiment file. ``compare_to`` names the reference of the significance table (each row: the
difference, its 95% cluster-bootstrap interval, the Holm-corrected p); a condition may name its own, or a
list of them (one block of rows each, e.g. ``compare_to: [demo settings, defaults]`` for BM25).

Example (``configs/experiments/regression.yaml``, shortened)::

    name: regression
    presets: presets.yaml
    defaults: {backbone: me5-small-L4, steps: 30, batch_size: 8, aux_batch_size: 8}
    evaluation: {benchmarks: [bible-xref-en, bible-xref-sw], queries: 60, documents: 300}
    groups: {no-parallel: [sw]}
    compare_to: retrieval-only
    conditions:
      - {name: base, train: false}
      - {preset: retrieval-only}
      - {name: co-training, train: {}, expected: {bible-xref-sw-mini: 0.21}, tolerance: 0.01}
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from babelir.data.errors import DataError
from babelir.experiments.checks import run_checks
from babelir.experiments.report import CHART_SOFTWARE, plot_results, report_markdown
from babelir.experiments.run import run_experiment
from babelir.experiments.spec import load_experiment
from babelir.experiments.stats import check_expected
from babelir.utils.atomic import atomic_write_json, atomic_write_text
from babelir.utils.commands import add_command
from babelir.utils.devices import add_device_argument, resolve_device
from babelir.utils.extras import MissingExtraError


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
    parser.add_argument("--seeds", help="comma-separated subset of the file's seeds to train and evaluate now "
                        "(e.g. every condition's first seed before the second); the rest stay for a later run")
    parser.add_argument("--report-only", action="store_true", help="rebuild the markdown from the JSON")
    add_device_argument(parser)
    parser.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    exp = load_experiment(args.file)  # DataError FILE:LINE, printed by babelir.cli
    output = Path(args.output or f"reports/experiments/{exp.name}.json")
    if output.suffix != ".json":  # the markdown and the chart go beside it as .md and .png
        raise DataError(output, None, "--output must name a .json file (the report goes beside it as .md and .png)")
    previous = _previous_results(output)
    _check_report_files(output, previous)
    command = "babelir experiment " + shlex.quote(str(args.file))
    if args.report_only:
        if previous is None:
            raise DataError(output, None, "no results yet; run the experiment without --report-only first")
        results = previous
    else:
        only = [c.strip() for c in args.conditions.split(",")] if args.conditions else None
        unknown = sorted(set(only or ()) - {c.name for c in exp.conditions})
        if unknown:  # a typo (or a name cut at a comma) would otherwise run nothing and say nothing
            raise DataError(args.file, None, f"--conditions: no condition named {', '.join(map(repr, unknown))}; "
                            f"conditions: {', '.join(c.name for c in exp.conditions)}")

        def save(partial: dict[str, Any]) -> None:
            atomic_write_json(output, partial)

        seeds_only = None
        if getattr(args, "seeds", None):
            try:
                seeds_only = [int(s) for s in args.seeds.split(",") if s.strip()]
            except ValueError:
                raise DataError(args.file, None, f"--seeds {args.seeds!r}: give seeds as integers, e.g. 42,43") from None
            missing = sorted(set(seeds_only) - set(exp.seeds))
            if missing:
                raise DataError(args.file, None, f"--seeds: {', '.join(map(str, missing))} not among the file's "
                                f"seeds ({', '.join(map(str, exp.seeds))})")
        device = resolve_device(args.device)  # a CUDA request without a GPU stops here, before any training
        shared = _shared_results(output)
        results = run_experiment(exp, Path(args.runs_dir), only, previous=previous, on_result=save, device=device,
                                 shared=shared, seeds_only=seeds_only)
        save(results)
    markdown = report_markdown(exp, results, command)
    atomic_write_text(output.with_suffix(".md"), markdown)
    try:
        plot_results(exp, results, output.with_suffix(".png"))
    except MissingExtraError as err:  # the results and the markdown are written: the chart is optional
        print(f"babelir: warning: no bar chart: {err}", file=sys.stderr)
    print(markdown)
    failed = [row for row in check_expected(exp, results) if not row[4]]
    failed += [row for row in run_checks(exp.checks, results) if not row[2]]
    return 1 if failed else 0


def _previous_results(output: Path) -> dict[str, Any] | None:
    """The results JSON of an earlier run (reused, so finished conditions are not run again), if any."""
    if not output.is_file():
        return None
    try:
        results = json.loads(output.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataError(output, getattr(err, "lineno", None), f"damaged results file ({err}); move it away "
                        "(or give another --output) and the experiment writes it again") from None
    if not (isinstance(results, dict) and isinstance(results.get("conditions"), dict)):
        raise DataError(output, None, "is not a results file of babelir experiment (no 'conditions' mapping); "
                        "it is left as it is: give another --output")
    return results


def _shared_results(output: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every result the other experiments' files beside ``output`` hold, by result key: a condition that
    another file measured with the same settings, evaluation and seed is not trained and evaluated again.
    Files that are not readable babelir results are passed over: they are other files, not this run's."""
    shared: dict[str, tuple[str, dict[str, Any]]] = {}
    for path in sorted(output.parent.glob("*.json")):
        if path.resolve() == output.resolve():
            continue
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # ValueError: bad JSON or UTF-8
            continue
        conditions = results.get("conditions") if isinstance(results, dict) else None
        for seeds in (conditions.values() if isinstance(conditions, dict) else ()):
            for record in (seeds.values() if isinstance(seeds, dict) else ()):
                if isinstance(record, dict) and isinstance(record.get("key"), str) and "per_query" in record:
                    shared.setdefault(record["key"], (path.name, record))
    return shared


def _check_report_files(output: Path, previous: dict[str, Any] | None) -> None:
    """Refuse to replace a markdown or PNG file beside ``output`` that babelir did not write: it is babelir's
    when the results JSON beside it is (an earlier run wrote all three), or when it carries babelir's mark
    (the markdown's command line, the chart's PNG text chunk)."""
    if previous is not None:
        return
    for path, mark in ((output.with_suffix(".md"), b"Command: `babelir experiment"),
                       (output.with_suffix(".png"), CHART_SOFTWARE.encode())):
        if path.exists() and not (path.is_file() and mark in path.read_bytes()[:1 << 16]):
            raise DataError(path, None, "exists and babelir experiment did not write it; it is left as it is: give "
                            "another --output (the report is written beside it as .md and .png)")
