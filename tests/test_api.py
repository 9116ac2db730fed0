"""``babelir``'s top-level names: each is the owning module's object, imported only when first read."""

from __future__ import annotations

import subprocess
import sys

import pytest

import babelir

HEAVY = ("torch", "sentence_transformers", "transformers", "datasets", "faiss", "numpy")


def test_import_babelir_stays_light():
    code = f"import sys, babelir; print([m for m in {HEAVY!r} if m in sys.modules]); print(babelir.__version__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["[]", babelir.__version__]


def test_public_names_are_the_owning_modules_objects():
    from babelir.encoding import encode, load_model
    from babelir.evaluation import evaluate
    from babelir.index import Index, build_index
    from babelir.index.search import Index as SearchIndex
    from babelir.training.api import train
    from babelir.training.config import TrainConfig

    assert babelir.TrainConfig is TrainConfig
    assert babelir.train is train
    assert babelir.evaluate is evaluate
    assert babelir.Index is Index is SearchIndex
    assert babelir.build_index is build_index
    assert babelir.encode is encode and babelir.load_model is load_model


def test_all_names_import_and_show_in_dir():
    namespace: dict = {}
    exec(f"from babelir import {', '.join(babelir.__all__)}", namespace)  # what `from babelir import X` does
    assert set(babelir.__all__) <= set(namespace) and set(babelir.__all__) <= set(dir(babelir))
    exec("from babelir import *", namespace)


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'trian'"):
        babelir.trian  # noqa: B018
    with pytest.raises(ImportError):
        exec("from babelir import trian", {})
