"""Reports of saved experiment results: the markdown table (with the command at the top, the paired
significance tests, with clustered intervals, and the expected-score checks) and a PNG bar chart.

Columns are labelled from each benchmark's metadata (the language its queries are in; a pooled
benchmark's family label), never by taking its name apart.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from babelir.experiments.checks import run_checks
from babelir.experiments.comparisons import comparison_rows, reported
from babelir.experiments.spec import Experiment
from babelir.experiments.stats import check_expected, mean_scores
from babelir.utils.atomic import atomic_open

CHART_SOFTWARE = "babelir experiment"  # the PNG text chunk that marks a chart as babelir's own


def benchmark_labels(exp: Experiment, benches: list[str]) -> dict[str, str]:
    """``scored benchmark -> column label``: its query language from its metadata record, or its family's
    label when it pools languages (``pool``); a benchmark without a built-in record keeps its name."""
    from babelir.evaluation.benchmarks import get_meta

    registry = exp.scored_benchmarks()
    labels = {}
    for bench in benches:
        try:
            meta = get_meta(registry.get(bench, bench), sizes=False)
        except KeyError:  # a user's BEIR folder, or a benchmark the file no longer lists
            labels[bench] = bench
            continue
        labels[bench] = meta.scored_language or meta.family_info.label or bench
    return labels


def _significance_lines(exp: Experiment, results: dict[str, Any], labels: dict[str, str]) -> list[str]:
    """The comparisons table: the first test (queries as units, as earlier reports quote it), then the mean
    difference's cluster-bootstrap interval, the cluster-level p and that p Holm-corrected over the table."""
    rows = comparison_rows(exp, results, labels)
    if not rows:
        return []
    against = f"`{exp.compare_to}` (unless a row names another condition)" if exp.compare_to else "the condition each row names"
    lines = ["", f"Paired permutation test against {against} over queries (per-query scores averaged over seeds; "
             "10,000 sign flips; p); then, resampling query clusters (a query with its translations) and seeds: "
             f"the 95% bootstrap interval of Δ, p of sign flips over clusters, and that p Holm-corrected over the "
             f"{len(rows)} row{'s' if len(rows) != 1 else ''}:", "",
             "| condition | group | Δ x100 | p | 95% interval x100 | p clusters | p Holm |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        label = row.condition if row.reference == exp.compare_to else f"{row.condition} (vs {row.reference})"
        lines.append(f"| {label} | {row.group} | {row.delta:+.2f} | {row.p_units:.4f} | [{row.low:+.2f}, {row.high:+.2f}] | "
                     f"{row.clustered.p_clusters:.4f} | {row.p_holm:.4f} |")
    return lines


def _seeds_line(exp: Experiment, results: dict[str, Any], conds: list[str]) -> str:
    """The seeds the table averages: those with results (a file's seeds may not all have run yet)."""
    ran = sorted({int(seed) for name in conds for seed in results["conditions"][name]})
    return str(ran) if ran == sorted(exp.seeds) else f"{ran} (so far; the file names {exp.seeds})"


def _reused_note(results: dict[str, Any], conds: list[str]) -> str:
    """Which rows another experiment's file measured (the same settings, evaluation and seeds)."""
    sources: dict[str, list[str]] = {}
    for name in conds:
        for source in dict.fromkeys(s.get("reused_from") for s in results["conditions"][name].values()):
            if source:
                sources.setdefault(source, []).append(name)
    return "".join(f" Measured by {source} (same settings, evaluation and seeds): {', '.join(names)}."
                   for source, names in sources.items())


def report_markdown(exp: Experiment, results: dict[str, Any], command: str) -> str:
    conds, benches = reported(exp, results)
    if not conds:
        return ""
    labels = benchmark_labels(exp, benches)
    headers = ["condition", *(labels[b] for b in benches), *(f"mean {g}" for g in exp.groups), "train s", "examples/s"]
    lines = [f"### {exp.name}", "", exp.description.strip(), "", f"Command: `{command}`", "",
             f"Main metric x100 (nDCG@10 unless the benchmark says otherwise), mean over seeds {_seeds_line(exp, results, conds)}; "
             f"benchmarks: {', '.join(benches)}.{_reused_note(results, conds)}", "",
             "| " + " | ".join(headers) + " |", "|---|" + "---:|" * (len(headers) - 1)]
    for name in conds:
        cond_results = results["conditions"][name]
        means = mean_scores(cond_results)
        row = [name] + [f"{100 * means[b]:.1f}" for b in benches]
        for members in exp.groups.values():
            vals = [means[b] for b in benches if labels[b] in members]
            row.append(f"{100 * statistics.mean(vals):.1f}" if vals else "")
        trains = [s["train"] for s in cond_results.values() if s.get("train")]
        row.append(f"{statistics.mean(t['seconds'] for t in trains):.0f}" if trains else "-")
        row.append(f"{statistics.mean(t['examples_per_s'] for t in trains):.1f}" if trains else "-")
        lines.append("| " + " | ".join(row) + " |")
    lines += _significance_lines(exp, results, labels)
    lines += _gradient_lines(results, conds)
    checks = check_expected(exp, results)
    if checks:
        lines += ["", "| condition | benchmark | expected | measured | |", "|---|---|---:|---:|---|"]
        for cond, bench, expected, got, ok in checks:
            lines.append(f"| {cond} | {bench} | {expected:.4f} | {got:.4f} | {'OK' if ok else 'FAIL'} |")
    directional = run_checks(exp.checks, results)
    if directional:
        lines += ["", "Directional checks (condition minus reference, mean over seeds):", "",
                  "| check | measured difference | |", "|---|---:|---|"]
        for check, delta, ok in directional:
            shown = "missing" if delta is None else f"{delta:+.4f}"
            lines.append(f"| {check.describe()} | {shown} | {'OK' if ok else 'FAIL'} |")
    return "\n".join(lines) + "\n"


def _gradient_lines(results: dict[str, Any], conds: list[str]) -> list[str]:
    """A table of the runs trained with ``--gradient-diagnostics-every``: each loss's mean gradient norm
    (weighted, as it enters the update), and the mean cosine between each two, in each half of training."""
    rows = []
    for name in conds:
        runs = [s["train"]["gradients"] for s in results["conditions"][name].values()
                if s.get("train") and s["train"].get("gradients")]
        if not runs:
            continue
        norms = {loss: statistics.mean(r["grad_norm"][loss]["all"] for r in runs if loss in r["grad_norm"])
                 for loss in dict.fromkeys(k for r in runs for k in r["grad_norm"])}
        total = sum(norms.values())
        cells = [f"{loss} {value:.2f} ({100 * value / total:.0f}%)" for loss, value in norms.items()]
        cosines = []
        for pair in dict.fromkeys(k for r in runs for k in r["grad_cosine"]):
            halves = [statistics.mean(v for r in runs if (v := r["grad_cosine"][pair].get(half)) is not None)
                      for half in ("first_half", "second_half")]
            cosines.append(f"{pair} {halves[0]:+.3f} / {halves[1]:+.3f}")
        rows.append(f"| {name} | {len(runs)} | {'; '.join(cells)} | {'; '.join(cosines) or '-'} |")
    if not rows:
        return []
    return ["", "Gradients of the runs trained with `--gradient-diagnostics-every` (`babelir.training.diagnostics`): "
            "each loss's gradient norm as it enters the update (weighted; its share of the summed norms), mean "
            "over the diagnosed steps and seeds; the cosine between two losses' gradients in the first / "
            "second half of training (negative: they pull the weights apart):", "",
            "| condition | seeds | gradient norm (share) | cosine first / second half |", "|---|---:|---|---|", *rows]


def plot_results(exp: Experiment, results: dict[str, Any], path: Path) -> None:
    """Grouped bars: the main metric per language (and per group mean) for each condition, with the
    spread over seeds as error bars; written atomically as PNG (Agg backend: no display needed)."""
    import numpy as np

    from babelir.utils.extras import require

    matplotlib = require("matplotlib", "plots", "the experiment bar chart")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    conds, benches = reported(exp, results)
    if not conds:
        return
    labels = benchmark_labels(exp, benches)
    columns = [(labels[b], [b]) for b in benches]
    columns += [(f"mean\n{g}", [b for b in benches if labels[b] in m]) for g, m in exp.groups.items()]
    columns = [(label, members) for label, members in columns if members]  # a group none of the benchmarks is in
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
        fig.savefig(handle, format="png", metadata={"Software": CHART_SOFTWARE})  # who wrote it: see command.py
    plt.close(fig)
