"""Experiments: YAML files of training conditions, run, tested for significance and reported.

By concern: :mod:`~babelir.experiments.spec` (files, ``extends``, presets, resolved settings),
:mod:`~babelir.experiments.run` (training and evaluation, results keyed by settings),
:mod:`~babelir.experiments.stats` (means over seeds, expected scores, the cluster bootstrap and cluster-level
paired test, Holm, non-inferiority),
:mod:`~babelir.experiments.report` (markdown and the bar chart) and
:mod:`~babelir.experiments.command` (``babelir experiment``; its help describes the file format).
"""

from babelir.experiments.report import benchmark_labels, plot_results, report_markdown
from babelir.experiments.run import model_dir, result_key, run_experiment
from babelir.experiments.spec import Condition, Experiment, load_experiment, read_presets, training_config
from babelir.experiments.stats import (
    Interval,
    check_expected,
    cluster_bootstrap,
    cluster_permutation_test,
    compare,
    holm,
    mean_per_query,
    mean_scores,
    non_inferior,
    paired_permutation_test,
)

__all__ = [
    "Condition",
    "Experiment",
    "Interval",
    "benchmark_labels",
    "check_expected",
    "cluster_bootstrap",
    "cluster_permutation_test",
    "compare",
    "holm",
    "load_experiment",
    "mean_per_query",
    "mean_scores",
    "model_dir",
    "non_inferior",
    "paired_permutation_test",
    "plot_results",
    "read_presets",
    "report_markdown",
    "result_key",
    "run_experiment",
    "training_config",
]
