from pathlib import Path

from babelir.experiments import load_experiment, model_dir, result_key, training_config

from .helpers import GOOD


def test_saved_results_are_keyed_by_the_resolved_settings(tmp_path):
    from babelir.training.config import TrainConfig

    path = tmp_path / "e.yaml"
    current = TrainConfig().language_weight
    path.write_text(GOOD.replace("{name: b, train: {}", f"{{name: b, train: {{language_weight: {current}}}"))
    explicit = load_experiment(path)
    path.write_text(GOOD)
    implicit = load_experiment(path)
    # `train: {}` means today's defaults: the same measurement as writing them out, ...
    assert result_key(implicit, implicit.conditions[2], 42) == result_key(explicit, explicit.conditions[2], 42)
    # ... and another value (e.g. an old default) is another measurement
    path.write_text(GOOD.replace("{name: b, train: {}", f"{{name: b, train: {{language_weight: {current + 9}}}"))
    other = load_experiment(path)
    assert result_key(other, other.conditions[2], 42) != result_key(implicit, implicit.conditions[2], 42)
    assert result_key(implicit, implicit.conditions[2], 43) != result_key(implicit, implicit.conditions[2], 42)


def test_a_trained_model_is_shared_by_conditions_with_the_same_settings(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text(GOOD + "  - {name: c, train: {semantic_weight: 0.0}}\n")
    exp = load_experiment(path)
    a, c = exp.conditions[1], exp.conditions[3]
    runs = Path("runs")
    assert model_dir(runs, training_config(exp, a, 42)) == model_dir(runs, training_config(exp, c, 42))
    assert model_dir(runs, training_config(exp, a, 42)) != model_dir(runs, training_config(exp, a, 43))
    assert training_config(exp, a, 43).seed == 43 and training_config(exp, a, 43).progress is False
