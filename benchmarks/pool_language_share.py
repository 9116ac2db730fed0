"""Share of each document language in all top-20 lists of a ``bible-xref-pool`` TREC run file.

    python benchmarks/pool_language_share.py RUN_FILE [--top 5]
"""

import argparse
from collections import Counter

from babelir.data.trec import read_run
from babelir.evaluation.metrics import ranked_lists


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run")
    parser.add_argument("--top", type=int, default=5, help="languages to print")
    args = parser.parse_args()
    lists = ranked_lists(read_run(args.run), 20).values()
    counts = Counter(doc.split(":")[0] for docs in lists for doc in docs)
    total = sum(counts.values())
    print(", ".join(f"{lang} {100 * n / total:.1f}" for lang, n in counts.most_common(args.top)))


if __name__ == "__main__":
    main()
