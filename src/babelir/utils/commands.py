"""The one way a command module adds its sub-command to ``babelir``.

It lives below every room (not in ``babelir.cli``) so that a command module never imports the layer
above it: ``cli`` imports the command modules, never the other way round.
"""

from __future__ import annotations

import argparse


def add_command(subparsers: argparse._SubParsersAction, name: str, summary: str, description: str) -> argparse.ArgumentParser:
    """One subcommand: ``summary`` is its line in ``babelir --help``; ``description`` (kept as written,
    examples included) heads its own ``--help``."""
    return subparsers.add_parser(
        name, help=summary, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
