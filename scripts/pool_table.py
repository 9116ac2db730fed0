"""The pool results table of the README and reports/claims.md, written from an experiment's saved results.

Reads ``reports/experiments/claims-pool-test.json`` (``babelir experiment
configs/experiments/claims-pool-test.yaml``) and prints one row per condition: the main metric on each pool
(mAP@20 / min(R, 20)), the own-language share of the top 10 and the recall of other-language relevant
documents in the top 100 (Bible pool), and the mean over the one-language Bible test benchmarks, each the
mean over the seeds that have results (the seeds are named).

    python scripts/pool_table.py [RESULTS.json]
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

POOLS = ("bible-xref-pool-test", "wiki-pool-test")
ONE_LANGUAGE = ("en", "de", "ru", "sw", "hi", "ko", "ar", "vi")


def _mean(runs: list[dict], get) -> float:
    """100 x the mean of ``get(run)`` over the runs that have it (nan when none does)."""
    values = [v for v in (get(r) for r in runs) if v is not None]
    return 100 * statistics.mean(values) if values else float("nan")


def rows(results: dict) -> list[str]:
    out = []
    for name, seeds in results["conditions"].items():
        runs = list(seeds.values())

        def mean(get, runs=runs) -> float:
            return _mean(runs, get)

        pools = [mean(lambda r, b=b: r["scores"].get(b)) for b in POOLS]
        own = mean(lambda r: r.get("extras", {}).get(POOLS[0], {}).get("own_language_share@10"))
        other = mean(lambda r: r.get("extras", {}).get(POOLS[0], {}).get("other_language_recall@100"))
        mono = mean(lambda r: statistics.mean(r["scores"][f"bible-xref-{lang}-test"] for lang in ONE_LANGUAGE))
        label = ", ".join(sorted(seeds, key=int))
        out.append(f"| {name} | {pools[0]:.1f} | {pools[1]:.1f} | {own:.1f} | {other:.1f} | {mono:.1f} | {label} |")
    return out


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "reports/experiments/claims-pool-test.json")
    results = json.loads(path.read_text(encoding="utf-8"))
    print("| model | Bible pool mAP@20÷min(R,20) | Wikipedia pool | own language in top 10 (Bible pool) | "
          "other-language recall@100 (Bible pool) | one-language Bible nDCG@10 (8 languages) | seeds |")
    print("|---|---:|---:|---:|---:|---:|---|")
    print("\n".join(rows(results)))


if __name__ == "__main__":
    main()
