"""``babelir train`` and ``babelir demo``."""

from __future__ import annotations

import argparse

from babelir.training.config_sources import add_config_arguments, resolve_config
from babelir.utils.commands import add_command

TRAIN_HELP = """\
Fine-tune a multilingual dual encoder on English retrieval data while the semantic and language
contrastive losses keep it language-agnostic (Hu et al., Findings of ACL 2023).

With no data flags, trains on the embedded default built from installed packages: English retrieval
pairs (Wikipedia vital articles, Old Testament cross references), Old Testament parallel verses
(English <-> --parallel-languages) and non-parallel verses in 22 languages. Nothing from the New
Testament or held-out articles is used, so `babelir evaluate` stays zero-shot.

Output: OUTPUT/model (a sentence-transformers directory), OUTPUT/train_log.jsonl (every loss, learning
rate, examples/s per step), OUTPUT/checkpoints (atomic; continue with --resume; deleted once the model
is saved, unless --no-prune-checkpoints), OUTPUT/config.yaml. --resume of a finished run returns its
model; a finished model is replaced only with --overwrite, and OUTPUT must be new, empty or a run folder
babelir wrote. A loss or gradient that is not finite stops the run at that step (exit 2), checkpointed.

Several processes or machines: start it with torchrun. --batch-size and --aux-batch-size stay the
global batch (split evenly over the processes; in-batch negatives come from the whole global batch), so
N processes train the same model as one; only rank 0 writes files. Several machines need --output on a
shared file system for --resume. See docs/scaling.md.

examples:
  babelir train --output runs/default
  babelir train --config configs/default.yaml --output runs/x --semantic-weight 0.5
  babelir train --config configs/default.yaml --output runs/x --resume
  torchrun --standalone --nproc-per-node 2 -m babelir train --config configs/default.yaml --output runs/x
  torchrun --nnodes 2 --nproc-per-node 8 --rdzv-backend c10d --rdzv-endpoint HOST:29400 --rdzv-id run1 \
      -m babelir train --config configs/default.yaml --output /shared/runs/x
"""


# printed by babelir.cli after Ctrl-C: checkpoints are atomic, so the last one is always usable
RESUME_HINT = "rerun the same command with --resume to continue from the last checkpoint in --output"


def register(subparsers: argparse._SubParsersAction) -> None:
    train = add_command(
        subparsers,
        "train",
        "co-train a retriever with the semantic and language contrastive losses",
        TRAIN_HELP,
    )
    train.add_argument("--config", metavar="FILE", help="YAML or TOML file of settings, or the name of one that "
                       "ships with babelir: default, pool, smoke, paper-scale (flags override it)")
    train.add_argument("--output", required=True, metavar="DIR", help="run folder (model, log, checkpoints)")
    train.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --output")
    train.add_argument("--overwrite", action="store_true",
                       help="train again in a run folder that holds a finished model, replacing it (without it, "
                       "such a folder is refused; babelir only ever writes into its own run folders)")
    add_config_arguments(train)
    train.set_defaults(func=run_train, resume_hint=RESUME_HINT)



def run_train(args: argparse.Namespace) -> int:
    from babelir.training.api import train
    from babelir.training.distributed import init_distributed, shutdown_distributed

    config = resolve_config(args.config, args)  # errors (DataError: FILE:LINE) are printed by babelir.cli
    dist = init_distributed()  # a no-op unless torchrun started more than one process
    try:
        result = train(config, args.output, resume=args.resume, dist=dist, overwrite=args.overwrite)
    finally:
        shutdown_distributed()
    if dist.is_main:
        seconds = f"{result.seconds:.0f} s of training"
        print(f"model saved to {result.model_path} ({result.steps} steps, {seconds})")
    return 0
