"""babelir: language-agnostic multilingual retrieval with contrastive co-training.

Implements Hu et al., "Language Agnostic Multilingual Information Retrieval with Contrastive Learning"
(Findings of ACL 2023, arXiv 2210.06633) as a toolkit: backbones, data readers, losses, a trainer,
zero-shot evaluation, faiss indexing and an HTTP search service.

Python API (the README's "Python API" section)::

    from babelir import Index, TrainConfig, build_index, encode, evaluate, load_model, train

    result = train(TrainConfig(steps=100), "runs/mine")        # or a YAML file, a dict; keywords override
    print(evaluate(result.model_path, "bible-xref-*").to_markdown())
    vectors = encode(load_model(result.model_path), ["Wo ist der Fluss?"], role="query")

The names are imported on first use (module ``__getattr__``), so ``import babelir`` stays light: the
command line and ``python -c "import babelir"`` do not pay for torch before they need it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that owns it (imported when the name is first read)
_EXPORTS: dict[str, str] = {
    "TrainConfig": "babelir.training.config",
    "train": "babelir.training.api",
    "evaluate": "babelir.evaluation",
    "Index": "babelir.index",
    "build_index": "babelir.index",
    "encode": "babelir.encoding",
    "load_model": "babelir.encoding",
}

__all__ = ["Index", "TrainConfig", "__version__", "build_index", "encode", "evaluate", "load_model", "train"]

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ imports these
    from babelir.encoding import encode, load_model
    from babelir.evaluation import evaluate
    from babelir.index import Index, build_index
    from babelir.training.api import train
    from babelir.training.config import TrainConfig


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'babelir' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later reads skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
