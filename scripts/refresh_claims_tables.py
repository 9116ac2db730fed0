"""Refresh the copied experiment tables of reports/dev-history.md (and any file given) from the experiment
reports they were made from (the verdict tables are generated differently: scripts/claims_tables.py).

Each ``<!-- table: babelir experiment configs/experiments/NAME.yaml --report-only -->`` marker is followed
by the tables of ``reports/experiments/NAME.md`` (scores, then the significance test); this rewrites them
from that file, so a number in claims.md is always the one its command prints. Run after
``babelir experiment ... --report-only``:

    python scripts/refresh_claims_tables.py [reports/dev-history.md]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babelir.utils.atomic import atomic_write_text

MARKER = re.compile(r"<!-- table: babelir experiment (\S+) --report-only -->")


def tables_of(report: Path) -> list[str]:
    lines = report.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| condition |"))
    return lines[start:]


def is_table_block(line: str) -> bool:
    return not line.strip() or line.startswith("|") or line.startswith("Paired permutation test")


def refresh(path: Path) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[str] = []
    i, count = 0, 0
    while i < len(lines):
        out.append(lines[i])
        match = MARKER.search(lines[i])
        i += 1
        if not match:
            continue
        report = Path("reports/experiments") / (Path(match.group(1)).stem + ".md")
        if not report.is_file():
            raise SystemExit(f"{path}:{i}: {report} not found (run the command in the marker first)")
        while i < len(lines) and is_table_block(lines[i]):
            i += 1
        out += [*tables_of(report), ""]
        count += 1
    atomic_write_text(path, "\n".join(out) + "\n")
    return count


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "reports/dev-history.md")
    print(f"{target}: {refresh(target)} tables refreshed")
