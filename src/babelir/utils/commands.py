"""The one way a command module adds its sub-command to ``babelir``.

It lives below every package (not in ``babelir.cli``) so that a command module never imports the layer
above it: ``cli`` imports the command modules, never the other way round.
"""

from __future__ import annotations

import argparse
from typing import NoReturn


def add_command(subparsers: argparse._SubParsersAction, name: str, summary: str, description: str) -> argparse.ArgumentParser:
    """One subcommand: ``summary`` is its line in ``babelir --help``; ``description`` (kept as written,
    examples included) heads its own ``--help``."""
    return subparsers.add_parser(
        name, help=summary, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors follow babelir's error contract: one line, exit status 2
    (``babelir: error: <input>: argument --port: ...; see 'babelir serve --help'``), instead of argparse's
    usage block above its message. ``--help`` is unchanged."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"babelir: error: <input>: {' '.join(message.split())}; see '{self.prog} --help'\n")
