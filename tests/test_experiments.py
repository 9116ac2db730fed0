import pytest

from babelir.data.errors import DataError
from babelir.experiments import (
    check_expected,
    load_experiment,
    paired_permutation_test,
    report_markdown,
    result_key,
)

GOOD = """\
name: t
defaults: {backbone: tiny, steps: 2}
evaluation: {benchmarks: [bible-xref-en, bible-xref-sw], queries: 10, documents: 50}
groups: {no-parallel: [sw]}
compare_to: a
conditions:
  - {name: base, train: false}
  - {name: a, train: {semantic_weight: 0}}
  - {name: b, train: {}, expected: {bible-xref-sw-mini: 0.30}, tolerance: 0.01}
"""


def test_load_experiment_and_validate_settings(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text(GOOD)
    exp = load_experiment(path)
    assert [c.name for c in exp.conditions] == ["base", "a", "b"] and exp.conditions[0].train is None
    path.write_text(GOOD + "typo: 1\n")
    with pytest.raises(DataError, match=r"e\.yaml:10: unknown key 'typo'"):
        load_experiment(path)
    path.write_text(GOOD.replace("semantic_weight: 0", "semantic_weigth: 0"))
    with pytest.raises(DataError, match=r"e\.yaml:8: condition 'a': .*semantic_weigth"):
        load_experiment(path)
    path.write_text(GOOD.replace("{name: a,", "{name: a, b,"))
    with pytest.raises(DataError, match=r"e\.yaml:8: condition 2: unknown keys \['b'\] \(a name that contains a comma"):
        load_experiment(path)
    path.write_text(GOOD.replace("{name: base, train: false}", "{name: base, train: false, scoring: maxsim}"))
    assert load_experiment(path).conditions[0].scoring == "maxsim"
    path.write_text(GOOD.replace("{name: base, train: false}", "{name: base, train: false, scoring: colbert}"))
    with pytest.raises(DataError, match=r"e\.yaml:7: condition 'base': scoring must be one of auto, dense, maxsim"):
        load_experiment(path)


def test_extends_merges_mappings_and_replaces_the_rest(tmp_path):
    (tmp_path / "e.yaml").write_text(GOOD)
    child = tmp_path / "sub" / "child.yaml"
    child.parent.mkdir()
    child.write_text(
        "extends: ../e.yaml\nname: child\ndefaults: {steps: 5}\nevaluation: {queries: 20}\nseeds: [1, 2]\n"
        "conditions:\n  - {name: a, train: {semantic_weight: 0}}\n"
    )
    exp = load_experiment(child)
    assert exp.name == "child" and exp.description == ""
    assert exp.defaults == {"backbone": "tiny", "steps": 5}
    assert (exp.benchmarks, exp.queries, exp.documents) == (["bible-xref-en", "bible-xref-sw"], 20, 50)
    assert [c.name for c in exp.conditions] == ["a"] and exp.seeds == [1, 2] and exp.compare_to == "a"
    (tmp_path / "e.yaml").write_text(GOOD + "extends: sub/child.yaml\n")
    with pytest.raises(DataError, match="extends .* which extends this file again"):
        load_experiment(child)
    child.write_text("extends: missing.yaml\n")
    with pytest.raises(DataError, match=r"missing\.yaml: experiment file not found"):
        load_experiment(child)


def test_a_condition_can_name_its_own_reference(tmp_path):
    exp, results = experiment_with_results(tmp_path)
    exp.conditions[2].compare_to = "base"
    markdown = report_markdown(exp, results, "babelir experiment e.yaml")
    assert "| b (vs base) | no-parallel | +15.00 |" in markdown
    assert "| base | no-parallel | -10.00 |" in markdown
    path = tmp_path / "e.yaml"
    path.write_text(GOOD.replace("tolerance: 0.01}", "tolerance: 0.01, compare_to: nothing}"))
    with pytest.raises(DataError, match=r"e\.yaml:9: condition 'b': compare_to 'nothing' is not a condition"):
        load_experiment(path)


def test_paired_permutation_test():
    a = [0.1, 0.4, 0.3, 0.2, 0.5, 0.6, 0.2, 0.3, 0.1, 0.4] * 3
    assert paired_permutation_test(a, a) == 1.0
    assert paired_permutation_test(a, [x + 0.1 for x in a]) < 0.001
    noisy = [x + (0.05 if i % 2 else -0.05) for i, x in enumerate(a)]
    assert paired_permutation_test(a, noisy) > 0.5


def fake(scores):
    per_query = {b: {f"q{i}": s + (0.01 * (i % 3)) for i in range(12)} for b, s in scores.items()}
    return {"42": {"key": "k", "scores": scores, "per_query": per_query, "train": None}}


def experiment_with_results(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text(GOOD)
    results = {"conditions": {
        "base": fake({"bible-xref-en-mini": 0.2, "bible-xref-sw-mini": 0.1}),
        "a": fake({"bible-xref-en-mini": 0.3, "bible-xref-sw-mini": 0.2}),
        "b": fake({"bible-xref-en-mini": 0.3, "bible-xref-sw-mini": 0.25}),
    }}
    return load_experiment(path), results


def test_report_and_expected_scores(tmp_path):
    exp, results = experiment_with_results(tmp_path)
    markdown = report_markdown(exp, results, "babelir experiment e.yaml")
    assert "| b | 30.0 | 25.0 | 25.0 | - | - |" in markdown
    assert "| b | no-parallel | +5.00 |" in markdown
    assert check_expected(exp, results) == [("b", "bible-xref-sw-mini", 0.30, 0.25, False)]
    assert "FAIL" in markdown


def test_plot_writes_a_png(tmp_path):
    import matplotlib.image

    from babelir.experiments import plot_results

    exp, results = experiment_with_results(tmp_path)
    plot_results(exp, results, tmp_path / "e.png")
    assert (tmp_path / "e.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.image.imread(tmp_path / "e.png").shape[1] >= 700


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
