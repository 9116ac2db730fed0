"""``babelir train`` and ``babelir demo``."""

from __future__ import annotations

import argparse
import sys

from babelir.data.errors import DataError
from babelir.training.config import add_config_arguments, build_config

TRAIN_HELP = """\
Fine-tune a multilingual dual encoder on English retrieval data while the semantic and language
contrastive losses keep it language-agnostic (Hu et al., Findings of ACL 2023).

With no data flags, trains on the embedded default built from installed packages: English retrieval
pairs (Wikipedia vital articles, Old Testament cross references), Old Testament parallel verses
(English <-> --parallel-languages) and non-parallel verses in 22 languages. Nothing from the New
Testament or held-out articles is used, so `babelir evaluate` stays zero-shot.

Output: OUTPUT/model (a sentence-transformers directory), OUTPUT/train_log.jsonl (every loss, learning
rate, examples/s per step), OUTPUT/checkpoints (atomic; continue with --resume), OUTPUT/config.yaml.

examples:
  babelir train --output runs/default
  babelir train --config configs/default.yaml --output runs/x --semantic-weight 0.5
  babelir train --config configs/default.yaml --output runs/x --resume
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train",
        help="co-train a retriever with the semantic and language contrastive losses",
        description=TRAIN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("--config", metavar="FILE", help="YAML or TOML file of settings (flags override it)")
    train.add_argument("--output", required=True, metavar="DIR", help="run folder (model, log, checkpoints)")
    train.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --output")
    add_config_arguments(train)
    train.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    from babelir.training.trainer import train

    try:
        config = build_config(args.config, args)
        result = train(config, args.output, resume=args.resume)
    except DataError as err:
        print(f"babelir train: error: {err}", file=sys.stderr)
        return 2
    print(f"model saved to {result.model_path} ({result.steps} steps, {result.seconds:.0f} s of training)")
    return 0
