"""Write (or, with --check, verify) the claims tables of README.md and reports/claims.md.

Every table between ``<!-- claims-table: NAME -->`` and ``<!-- end claims-table -->`` comes from
``reports/claims.yaml`` and the saved results of the experiments it names
(:mod:`babelir.experiments.claims`). ``--check`` changes nothing and exits 1 naming each table that
differs from what the data give (CI runs it).

    python scripts/claims_tables.py [--check] [--claims reports/claims.yaml] [FILE ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babelir.experiments.claims import check, load_claims, refresh
from babelir.utils.errors import BabelirError

TARGETS = ("README.md", "reports/claims.md")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", default=list(TARGETS), help="Markdown files with marked tables")
    parser.add_argument("--claims", default="reports/claims.yaml", help="the claims file")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a table differs")
    args = parser.parse_args(argv)
    targets = [Path(f) for f in args.files]
    try:
        claims = load_claims(args.claims)
        changes = (check if args.check else refresh)(claims, targets)
    except BabelirError as exc:
        print(f"claims_tables: {exc}", file=sys.stderr)
        return 2
    for target, names in changes.items():
        if names and args.check:
            print(f"{target}: generated tables differ from {args.claims} and the saved results: {', '.join(names)}; "
                  "run python scripts/claims_tables.py", file=sys.stderr)
        elif names:
            print(f"{target}: rewrote {', '.join(names)}")
    return 1 if args.check and any(changes.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
