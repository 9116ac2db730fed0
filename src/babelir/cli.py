"""``babelir <command>``: argument parsing only; every command lives in its own module.

Each command module exposes ``register(subparsers)`` that adds its parser and sets ``func``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from babelir.utils.extras import MissingExtraError

COMMAND_MODULES = (
    "babelir.training.command",  # train
    "babelir.demo",  # demo
    "babelir.experiments.command",  # experiment
    "babelir.encoding.command",  # encode
    "babelir.evaluation.command",  # evaluate, bias
    "babelir.index.command",  # index, search
    "babelir.serve.command",  # serve
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="babelir",
        description="Train, evaluate, index and serve language-agnostic multilingual retrievers.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'babelir COMMAND --help' for the options of each command.",
    )
    parser.add_argument("--version", action="version", version=f"babelir {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:  # a module that fails to import fails here, loudly: no command goes missing
        importlib.import_module(name).register(subparsers)
    return parser


def _version() -> str:
    from babelir import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    # Spinning OpenMP threads collapse multi-threaded torch on shared hosts (reports/performance.md);
    # passive waiting costs little on an idle machine. Set before torch loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except MissingExtraError as err:  # an optional extra the command needs: one line naming the install
        print(f"babelir: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
