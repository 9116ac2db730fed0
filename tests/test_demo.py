"""The demo's table: which languages count as having parallel data, and the no-parallel mean."""

from babelir.demo import demo_table


def test_demo_table_marks_parallel_languages_and_averages_only_the_others():
    scores = {"en": {"base": 0.30, "trained": 0.33}, "de": {"base": 0.20, "trained": 0.30},
              "sw": {"base": 0.10, "trained": 0.12}, "ko": {"base": 0.20, "trained": 0.26}}
    lines = demo_table(scores, ["de", "fr"]).splitlines()
    assert lines[2] == "| en | English (training) | 30.0 | 33.0 | +3.0 |"
    assert lines[3] == "| de | yes | 20.0 | 30.0 | +10.0 |"
    assert lines[4] == "| sw | none | 10.0 | 12.0 | +2.0 |"
    assert lines[-1] == "| mean, no parallel data | | 15.0 | 19.0 | +4.0 |"  # sw and ko, not de or en
