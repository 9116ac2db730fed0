"""Training-free removal of language identity from a dense model's embeddings, at search time.

Two families of scoring:

* ``neutral[:METHOD][@QUERY_STATISTICS]`` measures what ``babelir index`` deploys: the statistics of
  :mod:`babelir.encoding.neutral` fitted on the benchmark's own corpus (documents; a sample of them in
  the query role), each query's language *identified* as a server would (:mod:`babelir.data.langid`,
  among the corpus's languages), queries of an unknown language searched as they are.
  :class:`CorpusNeutralRetriever`; ``neutral`` alone is the shipped default.
* ``centered`` / ``lir:R`` (the older, reference-sentence form below, :class:`LanguageNeutralRetriever`),
  statistics from Old Testament verses of each language, never from the benchmark's texts:

* ``centered``: per-language mean centering (Libovický, Rosa and Fraser 2020, "On the Language
  Neutrality of Pre-trained Multilingual Representations", Findings of EMNLP): subtract the mean
  embedding of the text's language, then re-normalise.
* ``lir:R``: language information removal (Yang et al. 2021, "A Simple and Effective Method To Eliminate
  the Self Language Bias in Multilingual Representations", EMNLP): project out the top ``R`` singular
  directions of the language's embedding matrix (its "language subspace"), then re-normalise.

Statistics are per language *and role*: queries and documents carry different prompts
(``query: ``/``passage: ``), so each side is corrected with the statistics of reference sentences
encoded the same way. Reference sentences: a seeded sample of Old Testament verses of the language
(the Bible benchmarks evaluate on the New Testament, so no evaluated text is a reference). A benchmark
must say each text's language (every Bible benchmark does); other benchmarks are refused in one line.
"""

from __future__ import annotations

import random
import re
from typing import Any

import numpy as np

from babelir.data.errors import DataError
from babelir.encoding.neutral import NeutralSettings, fit_neutralizer
from babelir.evaluation.retrieval.retrievers import DenseRetriever
from babelir.utils.seeding import derive_seed

REFERENCE_SENTENCES = 500
_LIR = re.compile(r"lir:([1-9][0-9]?)")


def is_neutral_scoring(scoring: str) -> bool:
    """``centered`` or ``lir:R`` (R in 1..99), or ``neutral[:...]``."""
    return (scoring == "centered" or _LIR.fullmatch(scoring) is not None or is_corpus_neutral(scoring)
            or is_score_normalized(scoring))


def is_score_normalized(scoring: str) -> bool:
    """``znorm``: per-language score normalisation (:class:`LanguageNormalizedRetriever`)."""
    return scoring == "znorm"


def is_corpus_neutral(scoring: str) -> bool:
    """``neutral``, ``neutral:METHOD`` or ``neutral:METHOD@QUERY_STATISTICS`` (statistics from the corpus)."""
    return scoring == "neutral" or scoring.startswith("neutral:")


def corpus_neutral_settings(scoring: str) -> NeutralSettings:
    """The settings a ``neutral...`` scoring names (``neutral`` alone: the shipped default)."""
    try:
        return NeutralSettings.parse(scoring.partition(":")[2]) if scoring != "neutral" else NeutralSettings()
    except ValueError as err:
        raise DataError(None, None, f"--scoring {scoring}: {err}") from None


def reference_texts(language: str, n: int = REFERENCE_SENTENCES, seed: int = 0) -> list[str]:
    """``n`` Old Testament verses of ``language`` (its default translation), a fixed seeded sample."""
    from babelir.data.sources import bible

    try:
        verses = bible.load_verses(language, bible.OLD_TESTAMENT)
    except KeyError as err:
        raise DataError(None, None, f"no reference sentences for language {language!r}: {err.args[0]}") from None
    ids = sorted(verses)
    sample = random.Random(derive_seed(seed, f"language-neutral-{language}")).sample(ids, min(n, len(ids)))
    return [verses[vid] for vid in sample]


def remove_language(embeddings: np.ndarray, reference: np.ndarray, scoring: str) -> np.ndarray:
    """``embeddings`` (n, d) with the language statistics of ``reference`` (m, d) removed, L2-normalised."""
    if scoring == "centered":
        out = embeddings - reference.mean(axis=0, keepdims=True)
    else:
        rank = int(scoring.split(":")[1])
        # rows of vt: right singular vectors, the directions the language's embeddings vary (and sit) along
        _, _, vt = np.linalg.svd(reference.astype(np.float64), full_matrices=False)
        basis = vt[:rank]
        out = embeddings - (embeddings @ basis.T) @ basis
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return (out / np.maximum(norms, 1e-12)).astype(np.float32)


class LanguageNeutralRetriever(DenseRetriever):
    """A :class:`DenseRetriever` whose query and document vectors lose their language statistics first."""

    def __init__(self, encoder, scoring: str, cache_root=None, use_cache: bool = True):
        if not is_neutral_scoring(scoring):
            raise DataError(None, None, f"language-neutral scoring must be 'centered' or 'lir:R', got {scoring!r}")
        super().__init__(encoder, cache_root, use_cache)
        self.scoring = scoring
        self._reference: dict[tuple[str, str], np.ndarray] = {}

    def reference(self, language: str, role: str, batch_size: int) -> np.ndarray:
        key = (language, role)
        if key not in self._reference:
            self._reference[key], _ = self.embed(reference_texts(language), role, batch_size)
        return self._reference[key]

    def _neutral(self, embeddings: np.ndarray, languages: list[str | None], role: str, bench, batch_size: int):
        if any(lang is None for lang in languages):
            raise DataError(bench.path or bench.name, None, f"scoring {self.scoring!r} needs each text's language, "
                            "which this benchmark does not record; use --scoring dense")
        out = np.empty_like(embeddings)
        for language in sorted(set(languages)):
            rows = [i for i, lang in enumerate(languages) if lang == language]
            out[rows] = remove_language(embeddings[rows], self.reference(language, role, batch_size), self.scoring)
        return out

    def adjust(self, bench, qids: list[str], dids: list[str], q_emb: np.ndarray, d_emb: np.ndarray,
               batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        q_emb = self._neutral(q_emb, [bench.query_language(q) for q in qids], bench.meta.query_role, bench, batch_size)
        d_emb = self._neutral(d_emb, [bench.doc_language(d) for d in dids], bench.meta.document_role, bench, batch_size)
        return q_emb, d_emb

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "type": "dense-language-neutral", "scoring": self.scoring,
                "reference_sentences": REFERENCE_SENTENCES}


class CorpusNeutralRetriever(DenseRetriever):
    """Dense retrieval after the language neutralization ``babelir index`` fits and ``search`` applies.

    Documents' languages come from the benchmark where it records them, else from the identifier (as
    an index of a corpus without a language field); queries' languages are always identified, so the
    score is what a server answering unlabelled queries gets. ``self.identification`` keeps, per
    benchmark, how many queries were identified correctly, wrongly or not at all.
    """

    def __init__(self, encoder, scoring: str, cache_root=None, use_cache: bool = True,
                 settings: NeutralSettings | None = None):
        super().__init__(encoder, cache_root, use_cache)
        self.scoring = scoring
        self.settings = settings or corpus_neutral_settings(scoring)  # settings: e.g. a small corpus's minimum
        self.identification: dict[str, dict[str, int]] = {}

    def adjust(self, bench, qids: list[str], dids: list[str], q_emb: np.ndarray, d_emb: np.ndarray,
               batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        from babelir.data.langid import LanguageIdentifier

        doc_langs = [bench.doc_language(d) for d in dids]
        if any(lang is None for lang in doc_langs):
            found = LanguageIdentifier().identify_many([bench.corpus[d] for d in dids])
            doc_langs = [lang or found[i] for i, lang in enumerate(doc_langs)]
        neutralizer = fit_neutralizer(
            self.settings, d_emb, doc_langs, lambda rows: [bench.corpus[dids[r]] for r in rows], dids,
            lambda texts, role: self.embed(texts, role, batch_size)[0],
        )
        q_langs: list[str | None] = [None] * len(qids)
        if neutralizer.needs_language:
            q_langs = neutralizer.identify([bench.queries[q] for q in qids])
            truth = [bench.query_language(q) for q in qids]
            self.identification[bench.name] = {
                "right": sum(g is not None and g == t for g, t in zip(q_langs, truth, strict=True)),
                "wrong": sum(g is not None and t is not None and g != t for g, t in zip(q_langs, truth, strict=True)),
                "unknown": sum(g is None for g in q_langs),
            }
        q_out, _ = neutralizer.apply(q_emb, q_langs, "query")
        d_out, _ = neutralizer.apply(d_emb, doc_langs, "document")
        return q_out, d_out

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "type": "dense-language-neutral", "scoring": self.scoring,
                "neutralization": self.settings.to_dict(), "query_language_identification": self.identification}


class LanguageNormalizedRetriever(DenseRetriever):
    """Per-language score normalisation: a query's cosine scores against each language's documents are
    standardised within that language (z-scores, over all of its documents) before the languages are
    merged into one ranking, so no language wins by sitting closer to the query as a whole (the
    score-level counterpart of centering; cf. the per-language calibration of Roy et al. 2020's LAReQA
    analysis). Exact search only: it needs every document's score, which an ANN index does not give,
    so it is measured here, in ``babelir evaluate --scoring znorm``, and not offered by ``babelir index``.
    """

    def rank(self, bench, qids: list[str], dids: list[str], q_emb: np.ndarray, d_emb: np.ndarray, k: int) -> dict:
        from babelir.evaluation.retrieval.search import rank_scores

        langs = [bench.doc_language(d) for d in dids]
        if any(lang is None for lang in langs):
            raise DataError(bench.path or bench.name, None, "scoring 'znorm' needs each document's language")
        columns = [np.array([i for i, lg in enumerate(langs) if lg == lang]) for lang in sorted(set(langs))]
        run: dict[str, dict[str, float]] = {}
        for first in range(0, len(qids), 256):
            scores = q_emb[first : first + 256] @ d_emb.T
            for cols in columns:
                part = scores[:, cols]
                scores[:, cols] = (part - part.mean(axis=1, keepdims=True)) / np.maximum(part.std(axis=1, keepdims=True), 1e-6)
            run.update(rank_scores(scores, qids[first : first + 256], dids, k, bench.exclude))
        return run

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "type": "dense-language-normalized", "scoring": "znorm"}
