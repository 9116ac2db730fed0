"""The split of the default data: held-out English articles nested by size, a partition, one owner."""

from __future__ import annotations

from babelir.data import default_files, defaults
from babelir.data.default_files import heldout_wiki_keys, training_wiki_keys
from babelir.data.sources import wiki


def test_heldout_split_is_nested_and_a_partition() -> None:
    assert heldout_wiki_keys(100, 0) < heldout_wiki_keys(500, 0)
    assert heldout_wiki_keys(500, 0) != heldout_wiki_keys(500, 1)
    everything = {a.key for a in wiki.load_articles("en")}
    assert training_wiki_keys(500, 0) | heldout_wiki_keys(500, 0) == everything
    assert not training_wiki_keys(500, 0) & heldout_wiki_keys(500, 0)


def test_defaults_hands_out_the_same_split() -> None:
    # evaluation reads the held-out keys from babelir.data.defaults: the very functions that make the split
    assert defaults.heldout_wiki_keys is default_files.heldout_wiki_keys
    assert defaults.training_wiki_keys is default_files.training_wiki_keys
    assert (defaults.HELDOUT_WIKI_ARTICLES, defaults.DEFAULT_SEED) == (500, 0)
