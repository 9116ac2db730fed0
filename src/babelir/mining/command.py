"""``babelir mine``: hard negatives for ``babelir train --num-negatives N``, mined with babelir's own index.

Examples:
  babelir mine me5-small --output default-hard.jsonl   # the embedded default's rows, their positives as corpus
  babelir train --retrieval default-hard.jsonl --num-negatives 1 --output runs/hard
  babelir mine runs/default/model --retrieval train.jsonl --corpus passages.jsonl --output train-hard.jsonl
  babelir train --retrieval train-hard.jsonl --num-negatives 4 --output runs/hard

The corpus is indexed once into OUTPUT.index (resumable, in shards; --index names another folder). A
candidate is kept when it is not the positive and scores below --margin x the positive's own score
(NV-Retriever's relative margin): higher-scoring candidates are likely unlabelled positives. Rows left with
fewer than N are topped up with random passages unless --no-fill-random. When the corpus changed since
OUTPUT.index was built (a new training file, so new positives), --overwrite builds the index again.
"""

from __future__ import annotations

import argparse
import sys

from babelir.mining import DEFAULT_DEPTH, DEFAULT_MARGIN, DEFAULT_NEGATIVES
from babelir.utils.commands import add_command
from babelir.utils.devices import add_device_argument, resolve_device
from babelir.utils.verbosity import quiet


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "mine", "mine hard negatives for training with babelir's own index", __doc__)
    p.add_argument("model", metavar="MODEL", help="backbone name or model folder that scores the candidates")
    p.add_argument("--retrieval", metavar="FILE",
                   help="training examples (JSONL, TSV or BEIR folder; default: the embedded default's, "
                        "what babelir train uses without --retrieval)")
    p.add_argument("--corpus", metavar="CORPUS",
                   help="passages to mine from (JSONL/TSV with ids, as babelir index reads; default: the "
                        "distinct positives of the training examples, written to OUTPUT.corpus.jsonl)")
    p.add_argument("--output", required=True, metavar="FILE.jsonl", help="examples with their negatives")
    p.add_argument("--num-negatives", type=int, default=DEFAULT_NEGATIVES, metavar="N",
                   help="negatives a query (default: %(default)s)")
    p.add_argument("--depth", type=int, default=DEFAULT_DEPTH, metavar="K", help="candidates retrieved a query (default: %(default)s)")
    p.add_argument("--margin", type=float, default=DEFAULT_MARGIN, metavar="M",
                   help="keep candidates scoring below M x the positive's score (default: %(default)s)")
    p.add_argument("--fill-random", action=argparse.BooleanOptionalAction, default=True,
                   help="top up rows left with fewer than N hard negatives (the margin drops many) with random "
                        "passages, so every row trains with --num-negatives N (default: on)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random top-up passages (default: 0)")
    p.add_argument("--index", metavar="DIR", help="the corpus index folder (default: OUTPUT.index)")
    p.add_argument("--overwrite", action="store_true",
                   help="build the index folder again (it holds another corpus, e.g. after the training file "
                        "changed); it must be an index folder babelir wrote, replaced once the new one is built")
    p.add_argument("--batch-size", type=int, default=32, metavar="N", help="encoding batch size (default: 32)")
    add_device_argument(p)
    p.set_defaults(func=run_mine)


def run_mine(args: argparse.Namespace) -> int:
    from babelir.mining import mine_hard_negatives

    def say(message: str) -> None:
        if not quiet():
            print(message, file=sys.stderr, flush=True)

    stats = mine_hard_negatives(
        args.model, args.retrieval, args.corpus, args.output, num_negatives=args.num_negatives, depth=args.depth,
        margin=args.margin, index_dir=args.index, batch_size=args.batch_size, device=resolve_device(args.device),
        progress=say, fill=args.fill_random, seed=args.seed, overwrite_index=args.overwrite,
    )
    print(f"wrote {args.output}: {stats.summary(args.num_negatives)}")
    return 0
