"""Retrieval metrics through ir-measures with the pytrec_eval backend, plus the pooled-language shares.

Why a maintained library: trec_eval's definitions (ties, cutoffs, AP normalisation) are what papers
report, and re-implementing them invites silent drift. Two facts about the library matter here:

* pytrec_eval has no reciprocal rank with a cutoff, and ir-measures 0.4.3's pytrec_eval provider
  mishandles ``RR@k``: asked alone it ignores the cutoff (a first relevant document at rank 15 gives
  ``RR@10 = 1/15``), asked together with another RR cutoff one of them comes back as 0.0. babelir
  therefore computes ``RR@k`` as pytrec_eval's ``RR`` on the run cut to its top k in trec_eval's own
  order (score descending, ties by document id descending), and asks for one measure per call; tests
  pin both against a hand computation.
* ``AP@20`` (trec_eval ``map_cut_20``) divides by the number of relevant documents R, not by
  ``min(R, 20)``: with many relevant documents (the pooled benchmark has ~74 per query) its ceiling is
  far below 1 (0.54 there, averaged over queries). babelir therefore also offers ``nAP@20``, the
  same sum of precisions divided by ``min(R, 20)`` (computed exactly from ir-measures' per-query AP@20
  as ``AP@20 * R / min(R, 20)``), whose perfect score is 1; :func:`ideal_scores` evaluates the
  perfect ranking so reports can print the ceiling of either.

Qrels and runs are plain dicts (``qid -> docid -> grade`` and ``qid -> docid -> score``) so that they
are easy to build, test and write in TREC format.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

import ir_measures

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Mapping[str, float]]

# The names babelir reports, in ir-measures syntax (MRR@k is ir-measures' RR@k; mAP@20 is AP@20;
# accuracy@1 of bitext retrieval is Success@1, i.e. "the top document is relevant").
RETRIEVAL_MEASURES: tuple[str, ...] = ("nDCG@10", "RR@10", "RR@100", "R@100", "AP@20")
BITEXT_MEASURES: tuple[str, ...] = ("Success@1", "RR@10")
# every measure a benchmark may name as its main one (nAP@20: see the module docstring)
REPORTED_MEASURES: tuple[str, ...] = (*RETRIEVAL_MEASURES, "Success@1", "nAP@20")
# Friendly aliases accepted anywhere a measure name is.
ALIASES: dict[str, str] = {
    "MRR@10": "RR@10",
    "MRR@100": "RR@100",
    "mAP@20": "AP@20",
    "MAP@20": "AP@20",
    "Recall@100": "R@100",
    "accuracy@1": "Success@1",
    "Acc@1": "Success@1",
    "nmAP@20": "nAP@20",
}
# How tables label the measures (the conventional names of the field).
DISPLAY: dict[str, str] = {
    "RR@10": "MRR@10",
    "RR@100": "MRR@100",
    "AP@20": "mAP@20",
    "R@100": "Recall@100",
    "Success@1": "Acc@1",
    "nAP@20": "nmAP@20",
}


def canonical(name: str) -> str:
    """The ir-measures spelling of a measure name (accepts the usual aliases)."""
    return ALIASES.get(name, name)


def display(name: str) -> str:
    return DISPLAY.get(canonical(name), name)


def evaluate_run(qrels: Qrels, run: Run, measures: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per-query values: ``measure -> qid -> value`` for every query in ``qrels``.

    Queries with judgements but nothing retrieved score 0 (trec_eval would drop them, which inflates
    the mean); queries without any relevant document are left out (no measure is defined for them).
    """
    judged = {
        q: {d: int(g) for d, g in docs.items()}
        for q, docs in qrels.items()
        if any(g > 0 for g in docs.values())
    }
    run_d = {q: {d: float(s) for d, s in run.get(q, {}).items()} for q in judged}
    per_query: dict[str, dict[str, float]] = {}
    for name in measures:
        cutoff = None
        if canonical(name).startswith("nAP@"):
            cutoff = int(canonical(name)[4:])
            measure = ir_measures.parse_measure(f"AP@{cutoff}")
        else:
            measure = ir_measures.parse_measure(canonical(name))
        values = {q: 0.0 for q in judged}
        scored_run = run_d
        if measure.NAME == "RR" and isinstance(measure["cutoff"], int):
            # see the module docstring: cut the run ourselves, then ask for the cutoff-free RR
            scored_run = {q: dict(trec_order(docs)[: measure["cutoff"]]) for q, docs in run_d.items()}
            measure = ir_measures.parse_measure("RR")
        # one call per measure: see the module docstring
        for metric in ir_measures.pytrec_eval.iter_calc([measure], judged, scored_run):
            if metric.query_id in values:
                values[metric.query_id] = float(metric.value)
        if cutoff is not None:
            for q in values:
                n_rel = sum(1 for g in judged[q].values() if g > 0)
                values[q] *= n_rel / min(n_rel, cutoff)
        per_query[name] = values
    return per_query


def aggregate(
    per_query: Mapping[str, Mapping[str, float]], qids: Iterable[str] | None = None
) -> dict[str, float]:
    """Mean of each measure over ``qids`` (default: all queries)."""
    out: dict[str, float] = {}
    for name, values in per_query.items():
        keys = list(values) if qids is None else [q for q in qids if q in values]
        out[name] = sum(values[q] for q in keys) / len(keys) if keys else float("nan")
    return out


def ideal_run(qrels: Qrels, depth: int = 100) -> dict[str, dict[str, float]]:
    """The perfect ranking: relevant documents by grade (then id), as a run."""
    run: dict[str, dict[str, float]] = {}
    for qid, docs in qrels.items():
        ranked = sorted(((g, d) for d, g in docs.items() if g > 0), key=lambda t: (-t[0], t[1]))[:depth]
        run[qid] = {d: float(len(ranked) - i) for i, (_, d) in enumerate(ranked)}
    return run


def ideal_scores(qrels: Qrels, measures: Sequence[str]) -> dict[str, float]:
    """What a perfect ranking would score (e.g. the AP@20 ceiling when R > 20)."""
    return aggregate(evaluate_run(qrels, ideal_run(qrels), measures))


def trec_order(docs: Mapping[str, float]) -> list[tuple[str, float]]:
    """``(docid, score)`` in the order trec_eval ranks them: score descending, ties by docid descending."""
    return sorted(docs.items(), key=lambda t: (t[1], t[0]), reverse=True)


def ranked_lists(run: Run, depth: int | None = None) -> dict[str, list[str]]:
    """Documents per query in trec_eval's rank order (so shares and metrics see the same top k)."""
    return {qid: [d for d, _ in trec_order(docs)[:depth]] for qid, docs in run.items()}


def document_language_share(run: Run, doc_language: Callable[[str], str], depth: int = 20) -> dict[str, float]:
    """Share of each document language among all top-``depth`` entries of ``run`` (sorted by language).

    A hub language (one the model prefers whatever the query's language) shows up far above 1/L.
    """
    counts = Counter(doc_language(d) for docs in ranked_lists(run, depth).values() for d in docs)
    total = sum(counts.values()) or 1
    return {lang: n / total for lang, n in sorted(counts.items())}


def own_language_share(
    run: Run,
    query_language: Mapping[str, str],
    doc_language: Mapping[str, str],
    qrels: Qrels,
    depth: int = 20,
) -> dict[str, dict[str, float]]:
    """LAReQA-style language bias of a pooled multilingual ranking, per query.

    ``observed``: share of the top ``depth`` documents written in the query's own language.
    ``relevance``: share of the query's relevant documents written in its own language, i.e. the share a
    ranking driven by relevance alone would put there (1/L when every language holds the same
    relevant verses). ``observed`` far above ``relevance`` means the model prefers its own language.
    """
    observed: dict[str, float] = {}
    relevance: dict[str, float] = {}
    lists = ranked_lists(run, depth)
    for qid, docs in qrels.items():
        rel = [d for d, g in docs.items() if g > 0]
        if not rel:
            continue
        lang = query_language[qid]
        relevance[qid] = sum(doc_language[d] == lang for d in rel) / len(rel)
        top = lists.get(qid, [])
        observed[qid] = sum(doc_language[d] == lang for d in top) / len(top) if top else 0.0
    return {"observed": observed, "relevance": relevance}


def other_language_recall(
    run: Run,
    query_language: Mapping[str, str],
    doc_language: Mapping[str, str],
    qrels: Qrels,
    depth: int = 100,
) -> dict[str, float]:
    """Per query, the share of its relevant documents written in *other* languages that the top
    ``depth`` holds: what a language-agnostic retriever adds over a monolingual one in a pool."""
    out: dict[str, float] = {}
    lists = ranked_lists(run, depth)
    for qid, docs in qrels.items():
        lang = query_language[qid]
        others = {d for d, g in docs.items() if g > 0 and doc_language[d] != lang}
        if others:
            out[qid] = len(others.intersection(lists.get(qid, []))) / len(others)
    return out
