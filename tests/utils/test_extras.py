"""``require``: optional modules import, or fail with the extra to install."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from babelir.utils.extras import EXTRAS, MissingExtraError, install_hint, require


def test_installed_module_is_returned() -> None:
    assert require("json", extra="serve") is sys.modules["json"]


def test_missing_module_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # importing it now fails as if it were not installed
    with pytest.raises(MissingExtraError, match=r'ONNX needs .*\'onnxruntime\'.*pip install "babelir\[onnx\]"'):
        require("onnxruntime", extra="onnx", purpose="ONNX")


def test_missing_parent_package_is_translated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "matplotlib.pyplot", raising=False)  # imported by an earlier test
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingExtraError, match=r"babelir\[plots\]") as info:
        require("matplotlib.pyplot", extra="plots")
    assert isinstance(info.value, ImportError)  # callers that catch ImportError keep working


def test_import_error_inside_an_installed_package_propagates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken_extra_pkg.py").write_text("import a_module_that_does_not_exist_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as info:
        require("broken_extra_pkg", extra="serve")
    assert not isinstance(info.value, MissingExtraError)  # a real bug, not a missing extra


def test_unknown_extra_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown extra"):
        require("json", extra="server")


def test_every_extra_is_declared_in_pyproject() -> None:
    """The hints name extras that exist (tests/test_packaging.py checks pyproject's side)."""
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    declared = pyproject["project"]["optional-dependencies"]
    assert set(EXTRAS) <= set(declared)
    assert install_hint("onnx") == 'pip install "babelir[onnx]"'
