"""Metrics through ir-measures/pytrec_eval against an independent hand computation."""

from __future__ import annotations

import math

import pytest

from babelir.evaluation.scoring.metrics import (
    aggregate,
    evaluate_run,
    ideal_scores,
    other_language_recall,
    own_language_share,
    ranked_lists,
)

QRELS = {
    "q1": {"d1": 1, "d3": 2, "d5": 1},  # graded; d5 is never retrieved
    "q2": {"d9": 1},  # its only relevant document sits at rank 12
    "q3": {"d2": 1},  # nothing retrieved at all: must count as 0, not be dropped
    "q4": {"d1": 0},  # no relevant document: no measure is defined, so the query is left out
}
RUN = {
    "q1": {"d1": 0.9, "d2": 0.8, "d3": 0.7, "d4": 0.6},
    "q2": {**{f"x{i}": 1.0 - i / 100 for i in range(1, 12)}, "d9": 0.5},
    "q4": {"d1": 1.0},
}


def _hand() -> dict[str, float]:
    """The same numbers computed from the definitions, without any library."""
    log2 = math.log2
    # q1: d1 (grade 1) at rank 1, d3 (grade 2) at rank 3; trec_eval's nDCG gain is the grade itself
    dcg = 1 / log2(2) + 2 / log2(4)
    idcg = 2 / log2(2) + 1 / log2(3) + 1 / log2(4)
    q1 = {
        "nDCG@10": dcg / idcg,
        "RR@10": 1.0,
        "RR@100": 1.0,
        "R@100": 2 / 3,
        "AP@20": (1 / 1 + 2 / 3) / 3,
        "Success@1": 1.0,
    }
    q2 = {
        "nDCG@10": 0.0,
        "RR@10": 0.0,
        "RR@100": 1 / 12,
        "R@100": 1.0,
        "AP@20": (1 / 12) / 1,
        "Success@1": 0.0,
    }
    q3 = dict.fromkeys(q1, 0.0)
    return {m: (q1[m] + q2[m] + q3[m]) / 3 for m in q1}


def test_measures_match_hand_computation() -> None:
    measures = ["nDCG@10", "RR@10", "RR@100", "R@100", "AP@20", "Success@1"]
    per_query = evaluate_run(QRELS, RUN, measures)
    assert set(per_query["nDCG@10"]) == {"q1", "q2", "q3"}
    got = aggregate(per_query)
    for name, value in _hand().items():
        assert got[name] == pytest.approx(value, abs=1e-9), name


def test_rr_cutoff_is_applied_alone_and_together() -> None:
    """ir-measures' pytrec_eval provider ignores RR's cutoff alone and zeroes one of two cutoffs."""
    qrels = {"q": {"d15": 1}}
    run = {"q": {f"d{i}": 100.0 - i for i in range(1, 31)}}
    assert aggregate(evaluate_run(qrels, run, ["RR@10"]))["RR@10"] == 0.0
    both = aggregate(evaluate_run(qrels, run, ["RR@10", "RR@100", "MRR@100"]))
    assert both == {"RR@10": 0.0, "RR@100": pytest.approx(1 / 15), "MRR@100": pytest.approx(1 / 15)}


def test_ties_follow_trec_eval_order() -> None:
    # trec_eval breaks score ties by document id, descending: c, b, a
    qrels = {"q": {"a": 1}}
    run = {"q": {"a": 1.0, "b": 1.0, "c": 1.0}}
    got = aggregate(evaluate_run(qrels, run, ["RR@10", "RR@100", "Success@1"]))
    assert got == {"RR@10": pytest.approx(1 / 3), "RR@100": pytest.approx(1 / 3), "Success@1": 0.0}
    assert ranked_lists(run) == {"q": ["c", "b", "a"]}


def test_normalised_ap_divides_by_min_r_and_cutoff() -> None:
    qrels = {"q": {f"r{i}": 1 for i in range(25)}}
    run = {"q": {f"r{i}": 100.0 - i for i in range(25)}}  # the first 20 are all relevant
    got = aggregate(evaluate_run(qrels, run, ["AP@20", "nAP@20"]))
    assert got["AP@20"] == pytest.approx(20 / 25)  # trec_eval divides by R = 25
    assert got["nAP@20"] == pytest.approx(1.0)  # babelir's normalised variant divides by min(R, 20)
    assert ideal_scores(qrels, ["AP@20", "nAP@20"]) == {
        "AP@20": pytest.approx(0.8),
        "nAP@20": pytest.approx(1.0),
    }


def test_own_language_share() -> None:
    qrels = {"en:1": {"en:2": 1, "de:2": 1, "fr:2": 1, "ja:2": 1}}
    run = {"en:1": {"en:2": 0.9, "en:3": 0.8, "de:2": 0.7, "fr:9": 0.1}}
    qlang = {"en:1": "en"}
    dlang = {d: d.split(":")[0] for d in ["en:2", "en:3", "de:2", "fr:2", "ja:2", "fr:9"]}
    shares = own_language_share(run, qlang, dlang, qrels, depth=3)
    assert shares["observed"]["en:1"] == pytest.approx(2 / 3)  # top 3: en, en, de
    assert shares["relevance"]["en:1"] == pytest.approx(1 / 4)  # 1 of 4 relevant is English


def test_other_language_recall_counts_only_relevant_documents_in_other_languages() -> None:
    qrels = {"en:1": {"en:2": 1, "de:2": 1, "fr:2": 1, "ja:2": 1}, "de:5": {"de:6": 1}}
    run = {"en:1": {"en:2": 0.9, "de:2": 0.8, "en:3": 0.7, "fr:2": 0.1}, "de:5": {"de:6": 1.0}}
    dlang = {d: d.split(":")[0] for docs in (*qrels.values(), *run.values()) for d in docs}
    recall = other_language_recall(run, {"en:1": "en", "de:5": "de"}, dlang, qrels, depth=3)
    assert recall == {"en:1": pytest.approx(1 / 3)}  # de:2 of (de, fr, ja) in the top 3; de:5 has no others
