"""Share of each document language in all top-20 lists of a ``bible-xref-pool`` TREC run file.

    python benchmarks/pool_language_share.py RUN_FILE [--top 5]
"""

import argparse

from babelir.data.trec import read_run
from babelir.evaluation.scoring.metrics import document_language_share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run")
    parser.add_argument("--top", type=int, default=5, help="languages to print")
    args = parser.parse_args()
    shares = document_language_share(read_run(args.run), lambda doc: doc.split(":")[0], depth=20)
    top = sorted(shares.items(), key=lambda item: -item[1])[: args.top]
    print(", ".join(f"{lang} {100 * share:.1f}" for lang, share in top))


if __name__ == "__main__":
    main()
