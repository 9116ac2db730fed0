"""Named seeds are independent across names and stable across versions."""

from __future__ import annotations

from babelir.utils.seeding import derive_seed


def test_same_names_same_seed_other_names_other_seed() -> None:
    assert derive_seed(0, "parallel") == derive_seed(0, "parallel")
    assert derive_seed(0, "parallel") != derive_seed(0, "nonparallel")
    assert derive_seed(0, "parallel") != derive_seed(1, "parallel")
    assert derive_seed(0, "parallel", "de") != derive_seed(0, "parallel", "fr")


def test_value_is_pinned() -> None:
    # The default data's train/evaluation splits depend on this value: a change would silently move
    # sentences between splits and invalidate every cached benchmark and reported number.
    assert derive_seed(0, "parallel") == 12045983884547132692
    assert 0 <= derive_seed(42, "nonparallel") < 2**64
