"""Who a model is: its fingerprint, its training record, its prompts and the kind of retriever it is.

One owner, low in the layers (it imports only :mod:`babelir.utils`), so that training (which writes the
record), evaluation (which keys its embedding cache on the fingerprint and picks the scoring from the
record), index (which records the fingerprint in its manifest and warns when the query model differs)
and the ONNX export cache all agree on what "the same model" means.

The fingerprint follows one rule: every file of the model directory by name and content, except
``README.md`` and hidden files. Why skip the README: the model card is rewritten (a new line of
metadata, a fixed typo) without changing a single weight, and an unchanged model must keep its cached
embeddings, its ONNX export and its indexes. What does change the embeddings (weights, tokenizer,
pooling, prompts in ``config_sentence_transformers.json``, max length) lives in the other files.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

from babelir.utils.atomic import atomic_write_text
from babelir.utils.errors import ModelError
from babelir.utils.ownership import file_sha256

Role = Literal["query", "document"]
ROLES: tuple[Role, ...] = ("query", "document")

TRAINING_RECORD = "babelir_training.json"  # how a model folder was trained (config, losses, data, time)
_RECORD_FIX = "copy the model folder again (babelir train writes this file with the model)"
RETRIEVER_KINDS = ("dense", "late-interaction")  # what `retriever:` in a training config may say

_UNFINGERPRINTED = {"README.md"}  # the model card changes without changing the embeddings
_FILE_HASHES: dict[tuple[str, int, int], str] = {}


def _file_hash(path: Path) -> str:
    """sha256 of one file, memoised per process while its size and modification time are unchanged
    (me5-small's 470 MB take ~1 s to hash; evaluation and indexing ask for the same model often)."""
    stat = path.stat()
    memo = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if memo not in _FILE_HASHES:
        _FILE_HASHES[memo] = file_sha256(path)
    return _FILE_HASHES[memo]


def model_fingerprint(path: str | os.PathLike) -> str:
    """sha256 over the files of a model directory (relative names and contents), README and hidden files
    excepted: the same model copied elsewhere has the same fingerprint, a retrained one a new one."""
    root = Path(path)
    if not root.is_dir():
        raise NotADirectoryError(f"{root}: not a model directory")
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        parts = file.relative_to(root).parts
        if file.name in _UNFINGERPRINTED or any(part.startswith(".") for part in parts):
            continue
        digest.update("/".join(parts).encode() + b"\0" + _file_hash(file).encode() + b"\n")
    return digest.hexdigest()


def state_fingerprint(model: Any) -> str:
    """sha256 of a model's parameters and buffers, for models that live only in memory (mid-training)."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().to("cpu").contiguous()
        digest.update(name.encode() + str(tuple(t.shape)).encode() + str(t.dtype).encode())
        if t.dtype == torch.bfloat16:
            t = t.float()
        digest.update(t.numpy().tobytes())
    return digest.hexdigest()


def check_role(role: object) -> Role:
    """``role`` itself when it is ``query`` or ``document``, else a ValueError saying what to pass."""
    if role not in ROLES:
        raise ValueError(f"role {role!r}: pass 'query' or 'document'")
    return role  # type: ignore[return-value]


def check_texts(texts: object, what: str = "texts") -> list[str]:
    """``texts`` as a list of strings, else a TypeError saying what to pass: a single string would be
    iterated character by character, a number or None would fail deep inside the tokenizer."""
    if isinstance(texts, str | bytes):
        raise TypeError(f"{what} must be a list of strings, not one {type(texts).__name__}; pass [{what[:-1]}]")
    try:
        items = list(texts)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"{what} must be a list of strings, not {type(texts).__name__}") from None
    for i, text in enumerate(items):
        if not isinstance(text, str):
            raise TypeError(f"{what}[{i}] is {type(text).__name__}, not a string")
    return items


def prompt_for(model: Any, role: Role) -> str | None:
    """The prompt ``model`` prepends for ``role`` (``query: `` / ``passage: `` for e5), None if it has none.

    Prompts travel in the model directory (``config_sentence_transformers.json``) and are read by
    sentence-transformers into ``model.prompts``; babelir's ONNX encoder carries the same mapping.
    """
    prompts = getattr(model, "prompts", None) or {}
    return prompts.get(role) or None


def read_training_record(folder: str | os.PathLike) -> dict[str, Any] | None:
    """The training record of a model folder written by ``babelir train``, or None for other models.

    A record that exists but cannot be read is an error (ValueError naming the file): silently treating
    the model as untrained would score a late-interaction model the wrong way.
    """
    record = Path(folder) / TRAINING_RECORD
    if not record.is_file():
        return None
    try:
        content = json.loads(record.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelError(record, None, f"not a readable babelir training record ({err}); {_RECORD_FIX}") from None
    if not isinstance(content, dict):
        raise ModelError(
            record, None, f"not a readable babelir training record (expected a JSON object); {_RECORD_FIX}"
        )
    return content


def write_training_record(folder: str | os.PathLike, record: dict[str, Any]) -> Path:
    """Write ``record`` as the folder's training record (atomically); returns its path."""
    path = Path(folder) / TRAINING_RECORD
    atomic_write_text(path, json.dumps(record, indent=2))
    return path


def trained_retriever(folder: str | os.PathLike) -> str:
    """``dense`` or ``late-interaction``: how a babelir model folder was trained (``dense`` otherwise)."""
    record = read_training_record(folder) or {}
    config = record.get("config") or {}
    return str(config.get("retriever", "dense"))


def update_card_results(card: Path, model_name: str, results: list[dict[str, Any]]) -> None:
    """Replace the ``model-index`` of ``card`` (a model's README.md) with ``results``: one dict per
    benchmark (``name``, ``split``, ``metric``, ``value``, ``languages``), as ``huggingface_hub`` writes
    and parses it; the rest of the card is kept."""
    from huggingface_hub import EvalResult, ModelCard

    from babelir.utils.atomic import atomic_write_text

    loaded = ModelCard.load(card) if card.is_file() else ModelCard("---\n---\n")
    loaded.data.model_name = model_name
    loaded.data.eval_results = [
        EvalResult(task_type="retrieval", task_name="Retrieval", dataset_type=row["name"], dataset_name=row["name"],
                   dataset_split=row.get("split"), metric_type=row["metric"], metric_name=row["metric"],
                   metric_value=round(float(row["value"]), 4))
        for row in results
    ]
    atomic_write_text(card, str(loaded))
