from pathlib import Path

import pytest
import yaml

from babelir.data.errors import DataError
from babelir.experiments import load_experiment, result_key, training_config

from .helpers import GOOD, ROOT

EXPERIMENTS = ROOT / "configs" / "experiments"


def test_load_experiment_and_validate_settings(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text(GOOD)
    exp = load_experiment(path)
    assert [c.name for c in exp.conditions] == ["base", "a", "b"] and exp.conditions[0].train is None
    assert exp.scored_benchmarks() == {"bible-xref-en-mini": "bible-xref-en", "bible-xref-sw-mini": "bible-xref-sw"}
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
    path.write_text(GOOD.replace("{name: base, train: false}", "{name: base, train: false, scoring: 'neutral:lir:0'}"))
    with pytest.raises(DataError, match=r"e\.yaml:7: condition 'base': --scoring neutral:lir:0: neutralization method"):
        load_experiment(path)
    path.write_text(GOOD.replace("{name: base, train: false}", "{name: base, train: false, scoring: 'neutral:leace'}"))
    assert load_experiment(path).conditions[0].scoring == "neutral:leace"
    path.write_text(GOOD.replace("{name: base, train: false}", "{train: false}"))
    with pytest.raises(DataError, match=r"e\.yaml:7: condition 1: a condition needs a name"):
        load_experiment(path)


def test_settings_are_read_as_their_types_like_a_config_file(tmp_path):
    """PyYAML reads 2e-5 as a string: it must reach the optimizer as a float, not fail after hours of
    earlier conditions; a wrong type is one line at the condition's line."""
    path = tmp_path / "e.yaml"
    path.write_text(GOOD.replace("{name: a, train: {semantic_weight: 0}}", "{name: a, train: {learning_rate: 2e-5}}"))
    exp = load_experiment(path)
    assert training_config(exp, exp.conditions[1], 42).learning_rate == 2e-5
    path.write_text(GOOD.replace("{name: a, train: {semantic_weight: 0}}", "{name: a, train: {steps: many}}"))
    with pytest.raises(DataError, match=r"e\.yaml:8: condition 'a': steps: expected an integer, got 'many'"):
        load_experiment(path)


@pytest.mark.parametrize(("old", "new", "problem"), [
    ("compare_to: a", "compare_to: a\nseeds: 42x", r":\d+: seeds must be an integer or a list of integers"),
    ("compare_to: a", "compare_to: [a, b]", r":5: compare_to must name one condition of this file, got \['a'"),
    ("compare_to: a", "compare_to: c", r":5: compare_to must name one condition of this file, got 'c'"),
    ("evaluation: {benchmarks: [bible-xref-en, bible-xref-sw], queries: 10, documents: 50}", "evaluation: [x]",
     r":3: evaluation must be a mapping"),
    ("defaults: {backbone: tiny, steps: 2}", "defaults: steps", r":2: defaults: expected a mapping"),
    ("expected: {bible-xref-sw-mini: 0.30}", "expected: {bible-xref-sw-mini: high}",
     r":9: condition 'b': expected score of bible-xref-sw-mini: expected a number"),
    ("expected: {bible-xref-sw-mini: 0.30}", "expected: [0.3]", r":9: condition 'b': expected must map"),
    ("groups: {no-parallel: [sw]}", "groups: [sw]", r":4: groups must map a group name to a list"),
    ("{name: a, train: {semantic_weight: 0}}", "{name: a, use: 5}", r":8: condition 'a': use must name"),
])  # fmt: skip
def test_wrong_shapes_are_one_line_naming_the_file_and_line(tmp_path, old, new, problem):
    path = tmp_path / "e.yaml"
    assert old in GOOD
    path.write_text(GOOD.replace(old, new))
    with pytest.raises(DataError, match=r"e\.yaml" + problem):
        load_experiment(path)


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_bytes(GOOD.encode("utf-8") + b"# caf\xe9\n")
    with pytest.raises(DataError, match=r"e\.yaml: not UTF-8 text"):
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


PRESETS = """\
settings:
  short: {steps: 3}
  light: {semantic_weight: 0.5, language_weight: 2}
conditions:
  base: {train: false, description: as it is}
  retrieval-only: {train: {semantic_weight: 0, language_weight: 0}}
  short light: {use: [short, light], train: {language_weight: 4}}
"""


def test_presets_give_named_conditions_and_settings_blocks(tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "presets.yaml").write_text(PRESETS)
    parent = tmp_path / "parent.yaml"
    parent.write_text(GOOD.replace("name: t\n", "name: t\npresets: shared/presets.yaml\n"))
    child = tmp_path / "sub" / "child.yaml"
    child.parent.mkdir()
    child.write_text(  # the presets path is the parent's, relative to the parent
        "extends: ../parent.yaml\nconditions:\n"
        "  - preset: base\n"
        "  - {preset: retrieval-only, name: ro, compare_to: base}\n"
        "  - {preset: short light, train: {semantic_weight: 0}}\n"
        "  - {name: own, use: light, train: {steps: 7}}\n"
    )
    exp = load_experiment(child)
    base, ro, short_light, own = exp.conditions
    assert (base.name, base.train, base.description) == ("base", None, "as it is")
    assert (ro.name, ro.train, ro.compare_to) == ("ro", {"semantic_weight": 0, "language_weight": 0}, ("base",))
    # blocks in order, then the preset's train, then the condition's own keys
    assert short_light.name == "short light"
    assert short_light.train == {"steps": 3, "semantic_weight": 0, "language_weight": 4}
    assert own.train == {"semantic_weight": 0.5, "language_weight": 2, "steps": 7}
    assert training_config(exp, own, 42).steps == 7


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        ("{preset: nothing}", r"condition 1: unknown preset 'nothing' \(known: base, retrieval-only, short light\)"),
        ("{name: x, use: [heavy]}", r"condition 'x': unknown settings block 'heavy' \(known: short, light\)"),
        ("{name: x, train: false, use: short}", "condition 'x': 'use' gives training settings to a condition with train: false"),
        ("{name: x, present: base}", r"condition 1: unknown keys \['present'\]"),
    ],
)  # fmt: skip
def test_preset_mistakes_name_the_file_and_line(tmp_path, condition, problem):
    (tmp_path / "presets.yaml").write_text(PRESETS)
    path = tmp_path / "e.yaml"
    path.write_text(GOOD.replace("name: t\n", "name: t\npresets: presets.yaml\n").split("conditions:")[0]
                    + f"conditions:\n  - {condition}\n")
    with pytest.raises(DataError, match=rf"e\.yaml:8: {problem}"):
        load_experiment(path)


def test_a_preset_without_a_presets_file_or_with_a_broken_one(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text(GOOD.split("conditions:")[0] + "conditions:\n  - {preset: base}\n")
    with pytest.raises(DataError, match=r"unknown preset 'base' \(known: none: e\.yaml names no presets file\)"):
        load_experiment(path)
    path.write_text(GOOD.replace("name: t\n", "name: t\npresets: p.yaml\n"))
    with pytest.raises(DataError, match=r"p\.yaml: presets file not found"):
        load_experiment(path)
    (tmp_path / "p.yaml").write_text("conditions:\n  a: {train: {}}\n  b: {name: b}\n")
    with pytest.raises(DataError, match=r"p\.yaml:3: preset 'b': its name is its key"):
        load_experiment(path)


# claims-breadth-prompt's conditions as they were written out before presets existed
BREADTH_PROMPT_WRITTEN_OUT = """\
extends: {parent}
seeds: [42, 43, 44]
conditions:
  - {{name: retrieval-only, train: {{semantic_weight: 0, language_weight: 0}}}}
  - name: 16 parallel languages (query prompt)
    train: {{semantic_weight: 0, language_weight: 10, parallel_languages: [{langs}], parallel_pairs_per_language: 625}}
  - name: 16 parallel languages, passage prompt
    train: {{semantic_weight: 0, language_weight: 10, aux_prompt: document, parallel_languages: [{langs}], parallel_pairs_per_language: 625}}
  - name: 16 parallel languages, alternating prompt
    train: {{semantic_weight: 0, language_weight: 10, aux_prompt: alternate, parallel_languages: [{langs}], parallel_pairs_per_language: 625}}
  - name: passage prompt (against query prompt, 16 languages)
    description: the 16-language passage-prompt model again (same settings, same trained model), tested against the query prompt
    train: {{semantic_weight: 0, language_weight: 10, aux_prompt: document, parallel_languages: [{langs}], parallel_pairs_per_language: 625}}
    compare_to: 16 parallel languages (query prompt)
  - name: 16 parallel languages, passage prompt, + semantic 0.1
    description: retrieval + both losses, as the issue's target states it (semantic weight 0.1, the least harmful weight on 5 languages)
    train: {{semantic_weight: 0.1, language_weight: 10, aux_prompt: document, parallel_languages: [{langs}], parallel_pairs_per_language: 625}}
"""


def test_a_preset_based_file_resolves_to_the_written_out_conditions_and_keys(tmp_path):
    """Saved results and trained models are keyed by the resolved settings: presets must not move them."""
    langs = "de, fr, es, ru, zh, it, pt, ja, tr, bn, ro, pl, fa, id, uk, tl"
    explicit_path = tmp_path / "claims-breadth-prompt.yaml"
    explicit_path.write_text(BREADTH_PROMPT_WRITTEN_OUT.format(parent=EXPERIMENTS / "claims-main.yaml", langs=langs))
    explicit = load_experiment(explicit_path)
    with_presets = load_experiment(EXPERIMENTS / "claims-breadth-prompt.yaml")
    assert with_presets.conditions == explicit.conditions
    assert with_presets.defaults == explicit.defaults and with_presets.benchmarks == explicit.benchmarks
    for seed in (42, 43, 44):
        for mine, theirs in zip(with_presets.conditions, explicit.conditions, strict=True):
            assert result_key(with_presets, mine, seed) == result_key(explicit, theirs, seed)


def test_every_experiment_file_loads_and_writes_the_16_languages_once():
    files = sorted(p for p in EXPERIMENTS.glob("*.yaml") if p.name != "presets.yaml")
    assert len(files) >= 16
    for path in files:
        assert load_experiment(path).conditions
    sixteen = "[de, fr, es, ru, zh, it, pt, ja, tr, bn, ro, pl, fa, id, uk, tl]"
    assert [p.name for p in EXPERIMENTS.glob("*.yaml") if sixteen in p.read_text()] == ["presets.yaml"]
    presets = yaml.safe_load((EXPERIMENTS / "presets.yaml").read_text())
    assert "retrieval-only" in presets["conditions"] and Path(EXPERIMENTS / "presets.yaml").is_file()


def test_a_file_names_dev_or_test_splits_without_sizes(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text(GOOD.replace("[bible-xref-en, bible-xref-sw], queries: 10, documents: 50",
                                 "[bible-xref-en-test, bible-xref-sw-test]"))
    exp = load_experiment(path)
    assert not exp.mini and exp.scored_benchmarks() == {"bible-xref-en-test": "bible-xref-en-test",
                                                        "bible-xref-sw-test": "bible-xref-sw-test"}
    path.write_text(GOOD.replace("[bible-xref-en, bible-xref-sw]", "[bible-xref-en, bible-xref-sw-dev]"))
    with pytest.raises(DataError, match=r"e\.yaml:3: bible-xref-sw-dev is a dev split, already sized: drop evaluation"):
        load_experiment(path)


def ci_experiment_files() -> list[Path]:
    """The experiment files CI runs: every ``configs/experiments/*.yaml`` a test or the CI script names."""
    import re

    sources = [*(ROOT / "tests").rglob("*.py"), ROOT / ".ci" / "run"]
    named = {m for path in sources for m in re.findall(r"configs/experiments/([\w.-]+\.yaml)", path.read_text())}
    return sorted(EXPERIMENTS / name for name in named if (EXPERIMENTS / name).is_file())


def test_ci_experiments_never_score_test_queries():
    """The regression guard runs on every change: it may use dev (-mini) queries, never a test split's."""
    from babelir.evaluation.benchmarks import get_meta
    from babelir.evaluation.benchmarks.mini import mini_benchmark
    from babelir.evaluation.benchmarks.splits import build_dev, split_of

    files = ci_experiment_files()
    assert EXPERIMENTS / "regression.yaml" in files
    for path in files:
        exp = load_experiment(path)
        for name in exp.benchmarks:
            assert not name.endswith("-test") and split_of(get_meta(name, sizes=False)) != "test", (path.name, name)
            if exp.mini:  # its subsample's queries are among the dev split's (the 100 configurations were chosen on)
                scored = mini_benchmark(name, exp.queries, exp.documents).queries
                assert set(scored) <= set(build_dev(name).queries), (path.name, name)
