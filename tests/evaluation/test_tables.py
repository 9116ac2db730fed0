"""Tables read each benchmark's family declarations (label, pooling, extra metrics), never its name."""

from __future__ import annotations

from babelir.evaluation.scoring.runner import BenchmarkResult, Results
from babelir.evaluation.scoring.tables import benchmark_table, comparison_markdown, language_table


def result(name: str, family: str, languages: list[str], score: float, extra: dict | None = None) -> BenchmarkResult:
    return BenchmarkResult(
        name=name, family=family, languages=languages, main_metric="nDCG@10", main_score=score,
        metrics={"nDCG@10": score, "AP@20": score / 2}, supported=True, meta={"variant": "small"},
        timings={"total_s": 1.0}, extra=extra or {},
    )  # fmt: skip


POOL_EXTRA = {
    "own_language_share@20": 0.5, "relevance_share": 0.25, "ceiling": {"AP@20": 0.75},
    "by_query_language": {"de": {"nDCG@10": 0.4, "own_language_share@20": 0.6}},
}  # fmt: skip


def results_of(*benchmarks: BenchmarkResult) -> dict:
    """Saved results, as the tables read them."""
    return Results({"name": "m"}, {b.name: b for b in benchmarks}, {}, {}, "now", 1.0).to_dict()


def test_per_language_columns_come_from_family_declarations() -> None:
    results = results_of(
        result("bible-bitext-sw", "bible-bitext", ["sw", "en"], 0.3),
        result("bible-xref-pool", "bible-xref-pool", ["en", "de"], 0.2, POOL_EXTRA),
        result("mine", "a-family-nobody-declared", ["sw"], 0.9),
    )
    table = language_table(results)
    assert table.splitlines()[0] == "| language | bitext→en nDCG@10 | pool nDCG@10 | pool own-language share of top 20 |"
    assert "| sw | 30.0 |  |  |" in table and "| de |  | 40.0 | 60.0 |" in table and "90.0" not in table
    assert "| own-lang@10 | own-lang@20 | relevance share | other-lang R@100 | mAP@20 ceiling |" in benchmark_table(
        results
    )  # pool extras
    assert "own-lang@20" not in benchmark_table(results_of(result("x", "bible-xref", ["en"], 0.1)))


def test_comparison_reads_saved_results_by_family() -> None:
    saved = results_of(
        result("bible-xref-pool", "bible-xref-pool", ["en", "de"], 0.2, POOL_EXTRA),
        result("wiki-fr", "wiki", ["fr"], 0.5),
    )
    text = comparison_markdown([saved], labels=["m"])
    assert "#### pool own-language share of top 20 (x100)" in text and "#### wiki nDCG@10 (x100)" in text
    assert "#### bible-xref-pool overall (x100)" in text and "| m |  | 10.0 | 75.0 | 20.0 | 50.0 | 25.0 |" in text


def test_dev_and_test_splits_of_one_benchmark_keep_their_own_columns() -> None:
    def split(name: str, which: str, score: float) -> BenchmarkResult:
        res = result(name, "bible-xref", ["sw"], score)
        res.meta = {"variant": "small", "split": which, "params": {"split_of": "bible-xref-sw"}}
        return res

    results = results_of(split("bible-xref-sw-dev", "dev", 0.2), split("bible-xref-sw-test", "test", 0.3),
                         result("bible-xref-sw-mini", "bible-xref", ["sw"], 0.25))
    table = language_table(results)
    header = table.splitlines()[0]
    assert header.count("nDCG@10") == 3 and " dev nDCG@10" in header and " test nDCG@10" in header
    assert "| sw | 20.0 | 30.0 | 25.0 |" in table
    text = comparison_markdown([results], labels=["m"])
    assert text.count("#### ") >= 3 and "| sw | 30.0 |" in text and "| sw | 20.0 |" in text
