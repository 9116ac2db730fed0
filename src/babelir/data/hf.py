"""babelir's training records as Hugging Face ``datasets``, for the sentence-transformers Trainer.

``babelir train`` reads its three streams itself. Someone who trains with ``SentenceTransformerTrainer``
instead needs a ``datasets.Dataset`` per loss, and that trainer hands every column, in order, to the
loss; so the column order here is the order each loss's ``forward`` takes:

=====================  =========================================  ======================================
function               columns                                     loss
=====================  =========================================  ======================================
``retrieval_dataset``  ``query, positive[, negative_1, ...]``      ``MultipleNegativesRankingLoss``,
                                                                   ``RetrievalInfoNCELoss``
``parallel_dataset``   ``source, translation``                     ``SemanticContrastiveLoss``
``language_dataset``   ``source, translation, nonparallel``        ``LanguageContrastiveLoss``
=====================  =========================================  ======================================

The records come from :mod:`babelir.data.readers` (a user's files) or from the embedded default
(:func:`babelir.data.defaults.build_default_data`), so both trainers read the same data with the same
errors. ``datasets`` is imported inside the functions only: it belongs to the ``train-st`` extra, not to
babelir's core install.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from babelir.data.readers import ParallelPair, RetrievalExample, Sentence
from babelir.utils.extras import require

if TYPE_CHECKING:
    from datasets import Dataset

RETRIEVAL_COLUMNS = ("query", "positive")
PARALLEL_COLUMNS = ("source", "translation")
LANGUAGE_COLUMNS = ("source", "translation", "nonparallel")


def _from_columns(columns: dict[str, list[str]]) -> Dataset:
    datasets = require("datasets", "train-st", "babelir.data.hf (datasets for the sentence-transformers Trainer)")
    return datasets.Dataset.from_dict(columns)


def retrieval_dataset(examples: Iterable[RetrievalExample], num_negatives: int = 0) -> Dataset:
    """Columns ``query, positive`` and ``negative_1 .. negative_<num_negatives>`` (hard negatives).

    Every row needs the same number of columns, so each example must carry at least ``num_negatives``
    negatives (extra ones are dropped); a shorter one is an error, not a silently shorter batch.
    """
    if num_negatives < 0:
        raise ValueError(f"num_negatives must not be negative, got {num_negatives}")
    negatives = [f"negative_{k + 1}" for k in range(num_negatives)]
    columns: dict[str, list[str]] = {name: [] for name in (*RETRIEVAL_COLUMNS, *negatives)}
    for number, example in enumerate(examples, 1):
        if len(example.negatives) < num_negatives:
            raise ValueError(
                f"retrieval example {number} has {len(example.negatives)} negatives, "
                f"num_negatives={num_negatives} needs that many"
            )
        columns["query"].append(example.query)
        columns["positive"].append(example.positive)
        for name, text in zip(negatives, example.negatives, strict=False):
            columns[name].append(text)
    return _from_columns(columns)


def parallel_dataset(pairs: Iterable[ParallelPair]) -> Dataset:
    """Columns ``source, translation``: one row per pair (the languages are not columns: the trainer
    would feed them to the loss as texts)."""
    columns: dict[str, list[str]] = {name: [] for name in PARALLEL_COLUMNS}
    for pair in pairs:
        columns["source"].append(pair.source)
        columns["translation"].append(pair.target)
    return _from_columns(columns)


def language_dataset(
    pairs: Iterable[ParallelPair],
    sentences: Iterable[Sentence],
    *,
    same_language: bool = False,
    seed: int = 0,
) -> Dataset:
    """Columns ``source, translation, nonparallel``: each pair with one non-parallel sentence.

    babelir's trainer draws the non-parallel sentences as a stream of their own; a Dataset row must
    hold all three texts, so each pair gets the next sentence of a seeded shuffle (repeated when there
    are fewer sentences than pairs). Within a batch every sentence still meets every pair, as in
    babelir's trainer. ``same_language=True`` picks sentences in the pair's source language, which
    ``LanguageContrastiveLoss(variant="rank")`` needs. The sentences must not be translations of the
    pairs (babelir's default data keeps them disjoint); nothing here can check that.
    """
    pairs = list(pairs)
    pools: dict[str, list[str]] = defaultdict(list)
    for sentence in sentences:
        pools[sentence.language if same_language else ""].append(sentence.text)
    rng = random.Random(seed)
    for pool in pools.values():
        rng.shuffle(pool)
    used: dict[str, int] = defaultdict(int)
    columns: dict[str, list[str]] = {name: [] for name in LANGUAGE_COLUMNS}
    for pair in pairs:
        key = pair.source_lang if same_language else ""
        pool = pools.get(key)
        if not pool:
            wanted = f" in language {key!r}" if same_language else ""
            raise ValueError(f"no non-parallel sentences{wanted} to pair with the parallel pairs")
        columns["source"].append(pair.source)
        columns["translation"].append(pair.target)
        columns["nonparallel"].append(pool[used[key] % len(pool)])
        used[key] += 1
    return _from_columns(columns)
