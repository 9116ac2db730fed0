"""The GPU check: a big contrastive batch in bf16 through gradient caching, against sentence-transformers'
Trainer with the same model, batch and loss, in one run of a few minutes on one GPU.

1. ``babelir train``'s trainer (CoTrainer): ``--backbone`` (me5-small), ``--batch`` rows per stream (512:
   retrieval queries and passages, parallel pairs, non-parallel sentences), retrieval + semantic + language
   losses (weights 1), ``--precision bf16``, gradient caching with ``--mini`` rows a forward; checks that every
   loss falls (mean of the last five steps below the first five) and prints examples/s and peak GPU memory.
2. sentence-transformers' Trainer on the same texts with the same loss (:class:`babelir.losses.CoTrainingLoss`),
   bf16, no caching: examples/s and peak GPU memory.

    python benchmarks/gpu_check.py                       # one GPU
    python benchmarks/gpu_check.py --device cpu --backbone tiny --batch 16 --mini 4 --steps 12   # a smoke run

Prints one markdown table; exit status 1 when a loss did not fall. Results go to reports/performance.md
only when measured on a GPU.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_speed import sentence_transformers_run  # noqa: E402

from babelir.training.config import TrainConfig  # noqa: E402
from babelir.training.trainer import CoTrainer  # noqa: E402

LOSSES = ("retrieval", "semantic", "language")


def peak_memory(device: str) -> str:
    if device.startswith("cuda"):
        return f"{torch.cuda.max_memory_allocated() / 2**30:.1f} GiB"
    import resource

    return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.1f} GiB RSS"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", default="me5-small")
    parser.add_argument("--batch", type=int, default=512, help="rows per stream (default: %(default)s)")
    parser.add_argument("--mini", type=int, default=64, help="gradient-caching mini-batch (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--precision", default="bf16")
    args = parser.parse_args()
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else platform.processor() or platform.machine()
    config = TrainConfig(
        backbone=args.backbone, steps=args.steps, batch_size=args.batch, aux_batch_size=args.batch,
        mini_batch_size=args.mini, precision=args.precision, semantic_weight=1.0, language_weight=1.0,
        warmup_steps=max(1, args.steps // 10), learning_rate=5e-5, checkpoint_every=0, progress=False,
        device=args.device,
    ).validate()
    print(f"# gpu_check: {args.backbone}, {args.batch} rows per stream, {args.steps} steps, {args.precision}, "
          f"{name}, torch {torch.__version__}")
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        CoTrainer(config, Path(tmp) / "babelir").train()
        log = [json.loads(x) for x in (Path(tmp) / "babelir" / "train_log.jsonl").read_text().splitlines()]
        for key in LOSSES:
            first, last = (statistics.mean(r[key] for r in part) for part in (log[:5], log[-5:]))
            print(f"- {key}: {first:.4f} -> {last:.4f} ({'falls' if last < first else 'DOES NOT FALL'})")
            if last >= first:
                failed.append(key)
        rate = statistics.mean(r["examples_per_s"] for r in log[2:] or log)
        rows = [(f"babelir train, gradient caching (mini-batch {args.mini})", rate, peak_memory(args.device),
                 time.perf_counter() - start)]
        if args.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        plain = TrainConfig(**{**config.to_dict(), "mini_batch_size": 0}).validate()
        st_rate, _ = sentence_transformers_run(plain, 2, Path(tmp), device=args.device,
                                               bf16=args.precision == "bf16")
        rows.append(("sentence-transformers Trainer (same model, batch, loss; no caching)", st_rate,
                     peak_memory(args.device), time.perf_counter() - start))
    print("\n| run | examples/s | peak memory | wall s |\n|---|---:|---:|---:|")
    for label, value, memory, wall in rows:
        print(f"| {label} | {value:.1f} | {memory} | {wall:.0f} |")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
