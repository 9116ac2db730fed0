"""How much a babelir process prints besides its results: one switch each for the whole process.

Why one switch: progress bars are drawn in several packages (the trainer's step bar, evaluation's encoding
bars, ``babelir index`` progress lines), and third-party libraries draw their own (transformers'
"Loading weights" bar, huggingface_hub downloads) and log notes a user cannot act on (a BERT without a
pooler is "MISSING" one). ``babelir -q`` must silence babelir's progress everywhere and ``--verbose``
must bring the libraries' output back, without each command threading flags through every layer.

* :func:`configure` is called once by ``babelir.cli.main`` from ``-q/--quiet`` and ``--verbose``;
  library users may call it too, or set ``BABELIR_QUIET=1`` / ``BABELIR_VERBOSE=1`` (read at import).
* :func:`show_progress` is what babelir's own progress code asks (``tqdm(..., disable=not
  show_progress(wanted))``).
* :func:`tame_third_party` is called right after transformers / sentence-transformers are imported
  (``babelir.encoding.load_model``): it touches only modules already imported, so calling it never
  imports torch.
"""

from __future__ import annotations

import logging
import os
import sys

QUIET_ENV = "BABELIR_QUIET"
VERBOSE_ENV = "BABELIR_VERBOSE"
# read by transformers and huggingface_hub when they are first imported (set before any import)
_QUIET_LIBRARY_ENV = {
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}
_LIBRARY_LOGGERS = ("transformers", "sentence_transformers", "huggingface_hub")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


_quiet = _env_flag(QUIET_ENV)
_verbose = _env_flag(VERBOSE_ENV)


def configure(quiet: bool = False, verbose: bool = False) -> None:
    """Set both switches for this process (each call replaces the previous settings).

    Unless ``verbose``, the libraries' own environment switches are set as defaults (a user's explicit
    setting wins) so that they start quiet when they are imported later.
    """
    global _quiet, _verbose
    _quiet, _verbose = bool(quiet), bool(verbose)
    if not _verbose:
        for name, value in _QUIET_LIBRARY_ENV.items():
            os.environ.setdefault(name, value)
    tame_third_party()


def quiet() -> bool:
    """True under ``-q``: babelir draws no progress bars and prints no progress lines."""
    return _quiet


def verbose() -> bool:
    """True under ``--verbose``: third-party progress bars and log messages are shown."""
    return _verbose


def show_progress(wanted: bool = True) -> bool:
    """Whether a progress bar the caller ``wanted`` (its own ``--no-progress``-style setting) is drawn."""
    return bool(wanted) and not _quiet


def tame_third_party() -> None:
    """Apply ``--verbose`` (or its absence) to transformers, huggingface_hub and their loggers.

    Only modules already in ``sys.modules`` are touched: this is cheap to call anywhere and never
    imports a library (nor, through it, torch).
    """
    transformers_logging = sys.modules.get("transformers.utils.logging")
    if transformers_logging is not None:
        if _verbose:
            transformers_logging.set_verbosity_warning()
            transformers_logging.enable_progress_bar()
        else:
            transformers_logging.set_verbosity_error()
            transformers_logging.disable_progress_bar()
    hub_utils = sys.modules.get("huggingface_hub.utils")
    if hub_utils is not None:
        (hub_utils.enable_progress_bars if _verbose else hub_utils.disable_progress_bars)()
    for name in _LIBRARY_LOGGERS:
        if name in sys.modules:
            logging.getLogger(name).setLevel(logging.WARNING if _verbose else logging.ERROR)
