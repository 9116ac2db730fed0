"""``babelir <command>``: argument parsing and the one error path; every command lives in its own module.

Each command module exposes ``register(subparsers)`` that adds its parser and sets ``func`` (and, for a
resumable command, ``resume_hint``: what to run after Ctrl-C).

Every expected failure ends here as one line on stderr, ``babelir: error: FILE[:LINE]: what is wrong and
what to do``, and exit status 2: babelir's own errors (:class:`~babelir.utils.errors.BabelirError`, data,
model, index and checkpoint errors), a missing optional extra and operating-system errors (a missing
input, an unwritable output). Ctrl-C says whether the run can be continued and exits 130. Anything else
is a bug: one line asks for ``--debug``, which re-raises every failure with its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from babelir.utils import verbosity
from babelir.utils.commands import OneLineParser
from babelir.utils.errors import BabelirError, describe_os_error
from babelir.utils.extras import MissingExtraError

COMMAND_MODULES = (
    "babelir.training.command",  # train
    "babelir.demo",  # demo
    "babelir.experiments.command",  # experiment
    "babelir.experiments.tune_fusion",  # tune-fusion
    "babelir.encoding.command",  # encode
    "babelir.evaluation.command",  # evaluate, bias
    "babelir.index.command",  # index, search
    "babelir.index.export",  # export
    "babelir.data.convert",  # convert
    "babelir.serve.command",  # serve
    "babelir.mining.command",  # mine
)

EXIT_ERROR = 2  # an expected failure (bad input, damaged file, I/O), as argparse uses for bad flags
EXIT_BUG = 1  # an unexpected exception: a bug to report
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C


def _add_global_flags(parser: argparse.ArgumentParser, after_command: bool = False) -> None:
    """``--debug``, ``-q/--quiet`` and ``--verbose``; after a command they default to SUPPRESS so a
    sub-parser never resets a flag given before the command."""
    default = argparse.SUPPRESS if after_command else False
    group = parser.add_argument_group("global options (before or after the command)")
    group.add_argument("--debug", action="store_true", default=default,
                       help="show the Python traceback of a failure instead of the one-line error")
    group.add_argument("-q", "--quiet", action="store_true", default=default,
                       help="no progress bars or progress lines (results and errors are still printed)")
    group.add_argument("--verbose", action="store_true", default=default,
                       help="also show the progress bars and log messages of transformers, "
                       "sentence-transformers and huggingface_hub (e.g. while model weights load)")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(  # its sub-commands' parsers take its class
        prog="babelir",
        description="Train, evaluate, index and serve language-agnostic multilingual retrievers.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'babelir COMMAND --help' for the options of each command.",
    )
    parser.add_argument("--version", action="version", version=f"babelir {_version()}")
    _add_global_flags(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:  # a module that fails to import fails here, loudly: no command goes missing
        importlib.import_module(name).register(subparsers)
    for command in subparsers.choices.values():
        _add_global_flags(command, after_command=True)
        nested = getattr(command, "merge_parser", None)  # `babelir index merge` parses on its own
        if isinstance(nested, argparse.ArgumentParser):
            _add_global_flags(nested, after_command=True)
    return parser


def _version() -> str:
    from babelir import __version__

    return __version__


def _one_line(text: str) -> str:
    """Messages of third-party exceptions may span lines; the error contract is one line."""
    return " ".join(text.split())


def _interrupted(args: argparse.Namespace) -> str:
    hint = getattr(args, "resume_hint", None)
    return f"babelir: interrupted; {hint}" if hint else "babelir: interrupted"


def main(argv: list[str] | None = None) -> int:
    # Spinning OpenMP threads collapse multi-threaded torch on shared hosts (reports/performance.md);
    # passive waiting costs little on an idle machine. Set before torch loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_ERROR
    verbosity.configure(quiet=getattr(args, "quiet", False), verbose=getattr(args, "verbose", False))
    debug = getattr(args, "debug", False)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        if debug:
            raise
        print(_interrupted(args), file=sys.stderr)
        return EXIT_INTERRUPTED
    except (BabelirError, MissingExtraError) as err:  # a MissingExtraError names the pip install command
        if debug:
            raise
        print(f"babelir: error: {_one_line(str(err))}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as err:  # a missing input, an unwritable output, a full disk: the OS names the file
        if debug:
            raise
        print(f"babelir: error: {_one_line(describe_os_error(err))}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as err:
        if debug:
            raise
        print(
            f"babelir: error: unexpected {type(err).__name__}: {_one_line(str(err))} (a bug in babelir: "
            "rerun with --debug for the traceback and report it)",
            file=sys.stderr,
        )
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
