"""babelir.encoding.neutral: what each method removes, what it leaves alone, and its file round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from babelir.data.errors import DataError
from babelir.encoding.neutral import LanguageNeutralizer, NeutralSettings, fit_neutralizer, query_sample

DIM = 16


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _collection(per_language: int = 60, seed: int = 0) -> tuple[np.ndarray, list[str], list[str]]:
    """Vectors that share a meaning component but sit around a language's own offset (as a multilingual
    encoder's do), in three languages."""
    rng = np.random.default_rng(seed)
    offsets = {lang: 3 * rng.normal(size=DIM) for lang in ("de", "en", "fr")}
    vectors, languages, ids = [], [], []
    for lang, offset in offsets.items():
        for i in range(per_language):
            vectors.append(rng.normal(size=DIM) + offset)
            languages.append(lang)
            ids.append(f"{lang}:{i}")
    return _unit(np.array(vectors)), languages, ids


def _fit(settings: NeutralSettings, vectors, languages, ids, seen: list | None = None) -> LanguageNeutralizer:
    def encode(texts: list[str], role: str) -> np.ndarray:
        assert role == "query"
        if seen is not None:
            seen.extend(texts)
        return vectors[[int(t) for t in texts]]  # "texts" are row numbers here: query vectors = document ones

    return fit_neutralizer(settings, vectors, languages, lambda rows: [str(r) for r in rows], ids, encode)


def test_centering_removes_each_languages_mean_and_renormalises() -> None:
    vectors, languages, ids = _collection()
    neutral = _fit(NeutralSettings(query_statistics="documents"), vectors, languages, ids)
    out, changed = neutral.apply(vectors, languages, "document")
    assert changed.all()
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    rows = [i for i, lang in enumerate(languages) if lang == "de"]
    expected = _unit(vectors[rows] - vectors[rows].mean(axis=0))
    assert np.allclose(out[rows], expected, atol=1e-5)
    # the languages' centroids, far apart before, now sit together
    before = np.linalg.norm(vectors[:60].mean(0) - vectors[60:120].mean(0))
    after = np.linalg.norm(out[:60].mean(0) - out[60:120].mean(0))
    assert after < before / 5


def test_lir_projects_out_the_languages_top_directions() -> None:
    vectors, languages, ids = _collection()
    neutral = _fit(NeutralSettings(method="lir:2", query_statistics="documents"), vectors, languages, ids)
    basis = neutral.stats[("en", "document")]
    assert basis.shape == (2, DIM)
    out, _ = neutral.apply(vectors, languages, "document")
    en = [i for i, lang in enumerate(languages) if lang == "en"]
    assert np.abs(out[en] @ basis.T).max() < 1e-5  # nothing left along the removed directions


def test_leace_leaves_no_linear_trace_of_the_language_and_needs_none() -> None:
    vectors, languages, ids = _collection(per_language=80)
    neutral = _fit(NeutralSettings(method="leace", query_statistics="documents"), vectors, languages, ids)
    assert not neutral.needs_language and neutral.covers(None)
    left, right, bias = neutral.leace  # type: ignore[misc]
    erased = vectors - ((vectors - bias) @ right.T) @ left.T  # before re-normalising: LEACE's own guarantee
    means = {lang: erased[[i for i, lg in enumerate(languages) if lg == lang]].mean(0) for lang in ("de", "en", "fr")}
    assert np.linalg.norm(means["de"] - means["en"]) < 1e-3 and np.linalg.norm(means["en"] - means["fr"]) < 1e-3
    out, changed = neutral.apply(vectors[:3], [None, None, None], "query")  # no language needed
    assert changed.all() and np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_unknown_languages_and_those_without_statistics_are_left_as_they_are() -> None:
    vectors, languages, ids = _collection()
    languages = ["sw" if i < 5 else lang for i, lang in enumerate(languages)]  # 5 Swahili rows: too few
    neutral = _fit(NeutralSettings(query_statistics="documents"), vectors, languages, ids)
    assert neutral.skipped == {"sw": 5} and "sw" not in neutral.languages
    assert not neutral.covers("sw") and not neutral.covers(None) and neutral.covers("de")
    out, changed = neutral.apply(vectors[:8], ["sw", None, "ko", "de", "de", "de", "de", "de"], "query")
    assert not changed[:3].any() and changed[3:].all()
    assert np.array_equal(out[:3], vectors[:3])


def test_no_language_with_enough_documents_is_one_error() -> None:
    vectors, _, ids = _collection(per_language=5)
    with pytest.raises(DataError, match="no language has the 20 documents"):
        _fit(NeutralSettings(), vectors, ["de"] * len(vectors), ids)


def test_the_query_side_comes_from_a_seeded_sample_of_documents_encoded_as_queries() -> None:
    vectors, languages, ids = _collection()
    seen: list[str] = []
    settings = NeutralSettings(query_sample=10)
    neutral = _fit(settings, vectors, languages, ids, seen)
    assert len(seen) == 30  # 10 per language, encoded in the query role
    sample = query_sample(ids, languages, settings, {"de", "en", "fr"})
    de = [vectors[r] for r in sample["de"]]
    assert np.allclose(neutral.stats[("de", "query")], np.mean(de, axis=0), atol=1e-6)
    assert not np.allclose(neutral.stats[("de", "query")], neutral.stats[("de", "document")])
    # the sample depends on the ids, not on the order the documents come in
    order = list(reversed(range(len(ids))))
    again = query_sample([ids[i] for i in order], [languages[i] for i in order], settings, {"de"})
    assert sorted(ids[order[r]] for r in again["de"]) == sorted(ids[r] for r in sample["de"])


def test_short_documents_as_queries_encode_the_first_words_only() -> None:
    from babelir.encoding.neutral import SHORT_WORDS, query_texts

    long = " ".join(f"w{i}" for i in range(40))
    assert query_texts([long], NeutralSettings(query_statistics="short-documents-as-queries")) == [
        " ".join(f"w{i}" for i in range(SHORT_WORDS))
    ]
    assert query_texts([long], NeutralSettings()) == [long]


@pytest.mark.parametrize("method", ["centered", "lir:2", "leace"])
def test_statistics_survive_their_file(tmp_path: Path, method: str) -> None:
    vectors, languages, ids = _collection()
    neutral = _fit(NeutralSettings(method=method), vectors, languages, ids)
    neutral.save(tmp_path / "neutral.npz")
    again = LanguageNeutralizer.load(tmp_path / "neutral.npz")
    assert again.settings == neutral.settings and again.counts == neutral.counts
    for role in ("query", "document"):
        assert np.array_equal(again.apply(vectors, languages, role)[0], neutral.apply(vectors, languages, role)[0])


def test_a_damaged_statistics_file_is_one_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "neutral.npz"
    path.write_bytes(b"not an npz")
    with pytest.raises(DataError, match=r"neutral\.npz.*damaged language statistics.*--no-neutralize"):
        LanguageNeutralizer.load(path)


@pytest.mark.parametrize("spec, problem", [
    ("centred", "must be centered, lir:R"), ("lir:0", "must be centered, lir:R"),
    ("centered@queries", "query statistics must be one of"),
])
def test_settings_are_checked(spec: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        NeutralSettings.parse(spec)
    assert NeutralSettings.parse("lir:3@documents") == NeutralSettings(method="lir:3", query_statistics="documents")
