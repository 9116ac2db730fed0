"""Peak memory of loading and iterating a big retrieval file: Python lists (small files) against
memory-mapped columns (``babelir.data.columnar``, files of 64 MiB and more), in one run.

Generates ``--rows`` JSONL rows (query ~8 words, positive ~60 words, like MS MARCO), then in a fresh
process each: reads them as training does and touches every row (the length pass of length bucketing).
The columns variant builds its table first in another process (once per file, as training does) and
then measures loading and iterating. Prints peak RSS and seconds beside the list baseline.

    python benchmarks/data_memory.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import subprocess
import sys
import tempfile
from pathlib import Path

MEASURE = """
import json, os, resource, sys, time
from babelir.data.readers import RetrievalExample, read_retrieval
from babelir.data.columnar import cached_columns
path, mode = sys.argv[1], sys.argv[2]
start = time.perf_counter()
if mode == "lists":
    rows = list(read_retrieval(path))
else:
    rows = cached_columns(path, "retrieval", lambda: read_retrieval(path), RetrievalExample)
total = sum(len(r.query) + len(r.positive) for r in rows)
print(json.dumps({"rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "seconds": time.perf_counter() - start, "rows": len(rows), "chars": total}))
"""

WORDS = ["river", "mountain", "bread", "king", "light", "music", "stone", "city", "ship", "garden", "winter", "letter", "horse", "market", "island", "doctor", "forest", "bridge", "moon", "school", "water", "history", "science", "language", "country", "music", "people"]


def generate(path: Path, rows: int) -> None:
    rng = random.Random(0)
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(rows):
            query = " ".join(rng.choices(WORDS, k=8))
            positive = " ".join(rng.choices(WORDS, k=60))
            handle.write(json.dumps({"query": f"{query} {i}", "positive": f"{positive} {i}"}) + "\n")


def measure(path: Path, mode: str, env: dict) -> dict:
    proc = subprocess.run([sys.executable, "-c", MEASURE, str(path), mode], capture_output=True, text=True,
                          check=True, env=env)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    import os

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.jsonl"
        generate(path, args.rows)
        env = dict(os.environ, BABELIR_CACHE=str(Path(tmp) / "cache"))
        size = path.stat().st_size
        print(f"# data_memory: {args.rows:,} retrieval rows, {size / 2**20:.0f} MiB JSONL, "
              f"{platform.processor() or platform.machine()}; peak RSS of a fresh process")
        lists = measure(path, "lists", env)
        measure(path, "columns", env)  # builds the table once (what the first training run does)
        columns = measure(path, "columns", env)
        print("\n| rows held as | peak RSS MiB | x lists | s (load + one pass) |\n|---|---:|---:|---:|")
        for name, result in (("Python lists (today's path for small files)", lists),
                             ("memory-mapped columns (files >= 64 MiB)", columns)):
            print(f"| {name} | {result['rss'] / 2**20:.0f} | {result['rss'] / lists['rss']:.2f} | "
                  f"{result['seconds']:.1f} |")


if __name__ == "__main__":
    main()
