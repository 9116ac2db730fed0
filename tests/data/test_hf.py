"""babelir.data.hf: records -> datasets with the columns, in the order, each loss takes."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from babelir.data.defaults import build_default_data
from babelir.data.hf import language_dataset, parallel_dataset, retrieval_dataset
from babelir.data.readers import ParallelPair, RetrievalExample, Sentence
from babelir.utils.extras import MissingExtraError

PAIRS = [ParallelPair(f"the word {i}", f"das Wort {i}", "en", "de") for i in range(5)]
SENTENCES = [Sentence(f"sentence {lang} {i}", lang) for lang in ("en", "fr") for i in range(3)]


def test_retrieval_columns_with_and_without_negatives():
    examples = [RetrievalExample(f"q{i}", f"p{i}", (f"n{i}a", f"n{i}b")) for i in range(3)]
    plain = retrieval_dataset(examples)
    assert plain.column_names == ["query", "positive"]
    assert plain["query"] == ["q0", "q1", "q2"] and plain["positive"] == ["p0", "p1", "p2"]
    hard = retrieval_dataset(examples, num_negatives=2)
    assert hard.column_names == ["query", "positive", "negative_1", "negative_2"]
    assert hard[1] == {"query": "q1", "positive": "p1", "negative_1": "n1a", "negative_2": "n1b"}
    assert retrieval_dataset(examples, num_negatives=1).column_names[-1] == "negative_1"


def test_retrieval_refuses_an_example_with_too_few_negatives():
    examples = [RetrievalExample("q", "p", ("n",)), RetrievalExample("q2", "p2")]
    with pytest.raises(ValueError, match="retrieval example 2 has 0 negatives"):
        retrieval_dataset(examples, num_negatives=1)


def test_parallel_columns_keep_pair_order():
    ds = parallel_dataset(iter(PAIRS))  # a reader's iterator is fine
    assert ds.column_names == ["source", "translation"]
    assert ds["source"] == [p.source for p in PAIRS] and ds["translation"] == [p.target for p in PAIRS]


def test_language_rows_pair_each_translation_with_a_nonparallel_sentence():
    ds = language_dataset(PAIRS, SENTENCES, seed=3)
    assert ds.column_names == ["source", "translation", "nonparallel"]
    assert ds["source"] == [p.source for p in PAIRS] and ds["translation"] == [p.target for p in PAIRS]
    texts = {s.text for s in SENTENCES}
    assert set(ds["nonparallel"]) <= texts and len(set(ds["nonparallel"])) == 5  # 6 sentences, 5 pairs: no repeat
    assert language_dataset(PAIRS, SENTENCES, seed=3)["nonparallel"] == ds["nonparallel"]  # seeded
    # fewer sentences than pairs: they repeat, evenly
    counts = Counter(language_dataset(PAIRS * 4, SENTENCES[:2])["nonparallel"])
    assert sorted(counts.values()) == [10, 10]


def test_language_same_language_picks_the_source_language():
    ds = language_dataset(PAIRS, SENTENCES, same_language=True)
    assert all(text.startswith("sentence en") for text in ds["nonparallel"])
    with pytest.raises(ValueError, match="language 'de'"):
        language_dataset([ParallelPair("a", "b", "de", "en")], SENTENCES, same_language=True)
    with pytest.raises(ValueError, match="no non-parallel sentences"):
        language_dataset(PAIRS, [])


def test_columns_match_what_the_losses_accept():
    """The column count of each dataset is the column count its loss's forward takes."""
    import torch

    from babelir.losses import LanguageContrastiveLoss, RetrievalInfoNCELoss, SemanticContrastiveLoss

    class Fixed(torch.nn.Module):  # one random vector per text: enough to check the column contract
        def forward(self, features):
            return {"sentence_embedding": features["x"]}

    model = Fixed()
    datasets = {
        RetrievalInfoNCELoss(model): retrieval_dataset([RetrievalExample("q", "p", ("n",))] * 4, num_negatives=1),
        SemanticContrastiveLoss(model): parallel_dataset(PAIRS),
        LanguageContrastiveLoss(model): language_dataset(PAIRS, SENTENCES),
    }
    for loss, ds in datasets.items():
        features = [{"x": torch.randn(len(ds), 8)} for _ in ds.column_names]
        assert torch.isfinite(loss(features))
        with pytest.raises(ValueError, match="column"):
            loss(features[:1])


def test_default_data_turns_into_datasets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BABELIR_CACHE", str(tmp_path))
    data = build_default_data(
        parallel_languages=("de",), parallel_pairs_per_language=20, nonparallel_languages=("en", "fr"),
        nonparallel_per_language=10, heldout_wiki_articles=500,
    )
    ir = retrieval_dataset(data.retrieval_examples(["bible-xref"]))
    assert len(ir) == data.retrieval_counts["bible-xref"] > 0
    lang = language_dataset(data.parallel_pairs(), data.sentences())
    assert len(lang) == 20 and set(lang["nonparallel"]) <= {s.text for s in data.sentences()}


def test_missing_datasets_names_the_extra(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # import datasets -> ModuleNotFoundError
    with pytest.raises(MissingExtraError, match=r"babelir\[train-st\]"):
        parallel_dataset(PAIRS)
