import pytest

from babelir.data.errors import DataError
from babelir.experiments import benchmark_labels, load_experiment, plot_results, report_markdown

from .helpers import GOOD, experiment_with_results


def test_report_and_expected_scores(tmp_path):
    exp, results = experiment_with_results(tmp_path)
    markdown = report_markdown(exp, results, "babelir experiment e.yaml")
    assert "| condition | en | sw | mean no-parallel | train s | examples/s |" in markdown
    assert "| b | 30.0 | 25.0 | 25.0 | - | - |" in markdown
    assert "| b | no-parallel | +5.00 |" in markdown
    assert "FAIL" in markdown


def test_comparisons_gain_the_clustered_interval_p_and_holm(tmp_path):
    exp, results = experiment_with_results(tmp_path)
    markdown = report_markdown(exp, results, "babelir experiment e.yaml")
    assert "| condition | group | Δ x100 | p | 95% interval x100 | p clusters | p Holm |" in markdown
    # b gains exactly 0.05 on every Swahili query: a zero-width interval; 12 clusters: exact p = 2 / 2**12,
    # times 4 comparisons (Holm)
    assert "| b | no-parallel | +5.00 | 0.0005 | [+5.00, +5.00] | 0.0005 | 0.0020 |" in markdown
    assert "| b | all | +2.50 | 0.0007 | [+2.50, +2.50] | 0.0005 | 0.0020 |" in markdown  # en +0, sw +5
    assert "Holm-corrected over the 4 rows" in markdown


def test_a_condition_can_name_its_own_reference(tmp_path):
    exp, results = experiment_with_results(tmp_path)
    exp.conditions[2].compare_to = ("base",)
    markdown = report_markdown(exp, results, "babelir experiment e.yaml")
    assert "| b (vs base) | no-parallel | +15.00 |" in markdown
    assert "| base | no-parallel | -10.00 |" in markdown
    path = tmp_path / "e.yaml"
    path.write_text(GOOD.replace("tolerance: 0.01}", "tolerance: 0.01, compare_to: nothing}"))
    with pytest.raises(DataError, match=r"e\.yaml:9: condition 'b': compare_to 'nothing' is not a condition"):
        load_experiment(path)


def test_a_condition_can_name_several_references(tmp_path):
    exp, results = experiment_with_results(tmp_path)
    path = tmp_path / "e.yaml"
    path.write_text(GOOD.replace("tolerance: 0.01}", "tolerance: 0.01, compare_to: [base, a, base]}"))
    exp.conditions[2].compare_to = load_experiment(path).conditions[2].compare_to
    assert exp.conditions[2].compare_to == ("base", "a")  # a name given twice is one block of rows
    markdown = report_markdown(exp, results, "babelir experiment e.yaml")
    assert "| b (vs base) | no-parallel | +15.00 |" in markdown and "| b | no-parallel | +5.00 |" in markdown
    assert "Holm-corrected over the 6 rows" in markdown  # base vs a, b vs base, b vs a: two groups each
    path.write_text(GOOD.replace("tolerance: 0.01}", "tolerance: 0.01, compare_to: [base, 3]}"))
    with pytest.raises(DataError, match=r"e\.yaml:9: condition 'b': compare_to must name a condition or list"):
        load_experiment(path)


def test_a_condition_name_given_twice_is_refused_with_its_line(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text(GOOD.replace("{name: b, train: {}", "{name: a, train: {}"))
    with pytest.raises(DataError, match=r"e\.yaml:9: condition 'a' is named twice \(first as condition 2\)"):
        load_experiment(path)


def test_columns_are_labelled_from_benchmark_metadata(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text(GOOD.replace("[bible-xref-en, bible-xref-sw]", "[bible-xref-pool, bible-bitext-sw, wiki-fr]"))
    exp = load_experiment(path)
    names = ["bible-xref-pool-mini", "bible-bitext-sw-mini", "wiki-fr-mini", "elsewhere-mini"]
    # pooled: its family's label; bitext: the query language, not the English pivot; unknown: the name
    assert benchmark_labels(exp, names) == dict(zip(names, ["pool", "sw", "fr", "elsewhere-mini"], strict=True))
    exp.queries = None  # whole benchmarks: scored under their own names
    assert benchmark_labels(exp, ["bible-xref-pool", "wiki-fr"]) == {"bible-xref-pool": "pool", "wiki-fr": "fr"}
    splits = ["bible-xref-sw-test", "bible-xref-pool-test", "bible-bitext-de-dev"]  # named in a file, no sizes
    assert benchmark_labels(exp, splits) == dict(zip(splits, ["sw", "pool", "de"], strict=True))


def test_plot_writes_a_png(tmp_path):
    import matplotlib.image

    exp, results = experiment_with_results(tmp_path)
    plot_results(exp, results, tmp_path / "e.png")
    assert (tmp_path / "e.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.image.imread(tmp_path / "e.png").shape[1] >= 700


def test_runs_with_gradient_diagnostics_get_their_table(tmp_path):
    exp, results = experiment_with_results(tmp_path)
    assert "Gradients of the runs" not in report_markdown(exp, results, "babelir experiment e.yaml")
    gradients = {"steps": [1, 10], "grad_norm": {"retrieval": {"all": 3.0}, "language": {"all": 1.0}},
                 "grad_cosine": {"retrieval~language": {"first_half": 0.25, "second_half": -0.125}}}
    results["conditions"]["b"]["42"]["train"] = {"seconds": 1.0, "examples_per_s": 2.0, "gradients": gradients}
    markdown = report_markdown(exp, results, "babelir experiment e.yaml")
    assert "| b | 1 | retrieval 3.00 (75%); language 1.00 (25%) | retrieval~language +0.250 / -0.125 |" in markdown


def test_the_seeds_line_names_the_seeds_with_results(tmp_path):
    exp, results = experiment_with_results(tmp_path)
    assert f"mean over seeds {exp.seeds};" in report_markdown(exp, results, "babelir experiment e.yaml")
    exp.seeds = [42, 43]  # the file asks for two; one has run so far
    assert "mean over seeds [42] (so far; the file names [42, 43]);" in report_markdown(exp, results, "e")
