"""What ``babelir tune-fusion`` pays to score its grid: once per fusion against once per candidate depth.

``babelir tune-fusion`` scores dense alone and ~20 fusions on the same queries. Searching each fusion
through ``Index.search_encoded`` (the baseline printed here) repeats the faiss search and the BM25 search
for every fusion; :func:`babelir.index.hybrid.search_each_fusion` (what tune-fusion runs) computes both
candidate lists once per depth and only fuses per setting. Both are timed in one run on the same encoded
queries (encoding, the same for both, is left out), after a warm-up search, twice each in the order
baseline, shortcut, shortcut, baseline (the faster of each pair is printed), and their rankings are
checked to be equal.

Queries: the first eight words of ``--queries`` documents drawn from the index itself (seeded).

    python benchmarks/tune_fusion_speed.py --index indexes/john --queries 300
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as benchmarks/search_speed.py: no spinning threads

import argparse
import platform
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", required=True, help="an index folder built with babelir index --lexical")
    parser.add_argument("--queries", type=int, default=300, help="how many queries (default: %(default)s)")
    parser.add_argument("--k", type=int, default=100, help="hits per query, as tune-fusion (default: %(default)s)")
    args = parser.parse_args()

    from babelir.experiments.tune_fusion import candidates
    from babelir.index.hybrid import search_each_fusion
    from babelir.index.search import Index

    index = Index.load(args.index)
    rows = np.random.default_rng(0).choice(len(index), min(args.queries, len(index)), replace=False)
    texts = [" ".join(doc[2].split()[:8]) for doc in index.store.get(int(r) for r in rows).values()]
    vectors = index.encode_queries(texts, 64)
    fusions = [None, *candidates(len([lang for lang in index.languages() if lang]) > 1)]
    print(f"# {len(texts)} queries, {len(fusions)} settings (dense alone + {len(fusions) - 1} fusions), "
          f"k={args.k}, {len(index)} documents; {platform.machine()}, {os.cpu_count()} cores")

    def baseline() -> dict:
        return {(f.spec if f else "none"): index.search_encoded(texts, vectors, args.k, fusion=f) for f in fusions}

    def shortcut() -> dict:
        return dict(search_each_fusion(index, texts, vectors, args.k, fusions))

    index.search_encoded(texts[:8], vectors[:8], args.k, fusion=fusions[-1])  # loads the lexical part, the
    # language identifier and the document store's pages before either is timed
    times: dict[str, list[float]] = {"baseline": [], "shortcut": []}
    for name, run in [("baseline", baseline), ("shortcut", shortcut), ("shortcut", shortcut), ("baseline", baseline)]:
        start = time.perf_counter()
        results = run()
        times[name].append(time.perf_counter() - start)
        if name == "baseline":
            each = results
        else:
            grid = results
    baseline_s, grid_s = min(times["baseline"]), min(times["shortcut"])

    def ranking(results):
        return [[hit.id for hit in result.hits] for result in results]

    same = all(ranking(each[spec]) == ranking(grid[spec]) for spec in each)
    print(f"{'search each fusion (baseline)':<34} {baseline_s:8.2f} s")
    print(f"{'search_each_fusion (tune-fusion)':<34} {grid_s:8.2f} s")
    print(f"# speed-up {baseline_s / grid_s:.2f}x; same rankings: {same}")


if __name__ == "__main__":
    main()
