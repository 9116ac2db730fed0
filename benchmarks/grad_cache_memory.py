"""Peak memory of one big contrastive training step, with and without gradient caching, in one run.

Each variant runs in its own process (peak resident memory is per process and never goes down): one
``babelir train`` step of ``--rows`` rows per stream (retrieval + parallel + non-parallel: 5 columns of
texts) on the embedded default data, plain and with ``--mini-batch-size`` for each given size. Prints peak
RSS (CPU) or peak allocated GPU memory (``--device cuda``), seconds per step, and the ratio to the plain
step; the cached step's gradients equal the plain one's (tests/training/test_grad_cache.py).

    python benchmarks/grad_cache_memory.py --backbone me5-small --rows 256 --mini 32 8
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile

STEP = """
import json, resource, sys, time, torch
from babelir.training.config import TrainConfig
from babelir.training.trainer import CoTrainer
backbone, rows, mini, device, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
config = TrainConfig(backbone=backbone, steps=1, batch_size=rows, aux_batch_size=rows, warmup_steps=0,
                     checkpoint_every=0, progress=False, mini_batch_size=mini, device=device).validate()
trainer = CoTrainer(config, out)
if device.startswith("cuda"):
    torch.cuda.reset_peak_memory_stats()
start = time.perf_counter()
trainer.train()
seconds = time.perf_counter() - start
peak = (torch.cuda.max_memory_allocated() if device.startswith("cuda")
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
print(json.dumps({"peak_bytes": peak, "seconds": seconds}))
"""


def run(backbone: str, rows: int, mini: int, device: str) -> dict:
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run([sys.executable, "-c", STEP, backbone, str(rows), str(mini), device, out],
                              capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", default="me5-small")
    parser.add_argument("--rows", type=int, default=256, help="rows per stream in the step")
    parser.add_argument("--mini", type=int, nargs="+", default=[32], help="mini-batch sizes to compare")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    what = "peak allocated GPU memory" if args.device.startswith("cuda") else "peak RSS of the process"
    print(f"# grad_cache_memory: {args.backbone}, one step of {args.rows} rows per stream, {args.device}, "
          f"{platform.processor() or platform.machine()}; {what}")
    print("\n| step | peak MiB | x plain | s/step |\n|---|---:|---:|---:|")
    plain = run(args.backbone, args.rows, 0, args.device)
    print(f"| plain | {plain['peak_bytes'] / 2**20:.0f} | 1.00 | {plain['seconds']:.1f} |", flush=True)
    for mini in args.mini:
        cached = run(args.backbone, args.rows, mini, args.device)
        print(f"| --mini-batch-size {mini} | {cached['peak_bytes'] / 2**20:.0f} | "
              f"{cached['peak_bytes'] / plain['peak_bytes']:.2f} | {cached['seconds']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
