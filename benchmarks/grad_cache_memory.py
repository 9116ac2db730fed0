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
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

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


def run(backbone: str, rows: int, mini: int, device: str) -> dict | None:
    """One step in a fresh process; ``None`` when the OS killed it (out of memory: the figure is "more than
    the machine has")."""
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run([sys.executable, "-c", STEP, backbone, str(rows), str(mini), device, out],
                              capture_output=True, text=True)
    if proc.returncode == -signal.SIGKILL:
        return None
    if proc.returncode:
        raise SystemExit(f"the {'plain' if not mini else f'mini-batch {mini}'} step failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def memory_total() -> str:
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
        kib = next(int(line.split()[1]) for line in lines if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        return "?"
    return f"{kib / 2**20:.1f} GiB"


def row(label: str, result: dict | None, plain: dict | None) -> str:
    if result is None:
        return f"| {label} | killed: out of memory (the machine has {memory_total()}) | - | - |"
    ratio = f"{result['peak_bytes'] / plain['peak_bytes']:.2f}" if plain else "-"
    return f"| {label} | {result['peak_bytes'] / 2**20:.0f} | {ratio} | {result['seconds']:.1f} |"


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
    print(row("plain", plain, plain), flush=True)
    for mini in args.mini:
        print(row(f"--mini-batch-size {mini}", run(args.backbone, args.rows, mini, args.device), plain), flush=True)


if __name__ == "__main__":
    main()
