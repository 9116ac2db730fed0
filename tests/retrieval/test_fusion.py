"""Lexical + dense fusion (babelir.retrieval.fusion): settings, convex, RRF and the slots mode."""

from __future__ import annotations

import pytest

from babelir.retrieval.fusion import FusionSettings, fuse, fuse_lists

DENSE = {"a": 0.9, "b": 0.8, "c": 0.5}
LEXICAL = {"c": 12.0, "d": 6.0, "a": 2.0}


@pytest.mark.parametrize("spec", ["convex@0.3", "convex@0:slots", "rrf@60", "rrf@10:slots", "convex@1"])
def test_spec_round_trip(spec):
    assert FusionSettings.parse(spec).spec == spec


def test_parse_defaults_and_refusals():
    assert FusionSettings.parse("convex") == FusionSettings()
    assert FusionSettings.parse("rrf").rrf_k == 60
    for bad in ("convex@1.5", "sum@0.3", "convex@0.3:lang", "rrf@0.5", "", "convex@x"):
        with pytest.raises(ValueError, match="fusion"):
            FusionSettings.parse(bad)


def test_convex_by_hand():
    # dense' a 1, b 0.75, c 0; lexical' c 1, d 0.4, a 0 -> fused at W = 0.5: a .5, b .375, c .5, d .2
    fused = dict(fuse_lists(DENSE, LEXICAL, FusionSettings(weight=0.5)))
    assert fused == pytest.approx({"a": 0.5, "b": 0.375, "c": 0.5, "d": 0.2})
    # the tie of a and c is broken by the dense rank
    assert [key for key, _ in fuse(DENSE, LEXICAL, FusionSettings(weight=0.5), k=4)] == ["a", "c", "b", "d"]


def test_convex_ends_are_the_two_lists():
    assert [key for key, _ in fuse(DENSE, LEXICAL, FusionSettings(weight=0.0), k=3)] == ["a", "b", "c"]
    assert [key for key, _ in fuse(DENSE, LEXICAL, FusionSettings(weight=1.0), k=3)] == ["c", "d", "a"]


def test_rrf_by_hand():
    fused = dict(fuse_lists(DENSE, LEXICAL, FusionSettings("rrf", rrf_k=1)))
    # ranks: a 1 (dense) + 3 (lexical); b 2; c 3 + 1; d 2 (lexical)
    assert fused == pytest.approx({"a": 1 / 2 + 1 / 4, "b": 1 / 3, "c": 1 / 4 + 1 / 2, "d": 1 / 3})


LANG = {"de1": "de", "de2": "de", "de3": "de", "en1": "en", "zh1": "zh"}


def test_slots_keep_the_dense_language_mix():
    dense = {"de1": 0.9, "en1": 0.85, "de2": 0.8, "zh1": 0.7}
    lexical = {"de3": 9.0, "de2": 5.0, "en1": 4.0}  # an English hit of BM25 is not let in
    out = fuse(dense, lexical, FusionSettings(weight=0.9, mode="slots"), k=4, language_of=LANG.get,
               query_language="de")
    keys = [key for key, _ in out]
    assert [LANG[key] for key in keys] == ["de", "en", "de", "zh"]  # the dense ranks' languages
    assert keys[0] == "de3"  # lexical moved the German slots
    assert [s for _, s in out] == sorted((s for _, s in out), reverse=True)
    # mode all lets BM25 pull German up instead
    naive = [key for key, _ in fuse(dense, lexical, FusionSettings(weight=0.9), k=4)]
    assert [LANG[key] for key in naive][:3] == ["de", "de", "de"]


def test_slots_in_one_language_equal_all_and_unknown_language_is_dense():
    settings = FusionSettings(weight=0.4)
    slots = FusionSettings(weight=0.4, mode="slots")
    dense = {"de1": 0.9, "de2": 0.5}
    lexical = {"de2": 3.0, "de3": 1.0}
    one = fuse(dense, lexical, slots, k=2, language_of=LANG.get, query_language="de")
    assert [key for key, _ in one] == [key for key, _ in fuse(dense, lexical, settings, k=2)]
    assert fuse(dense, lexical, slots, k=2, language_of=LANG.get, query_language=None) == list(dense.items())
