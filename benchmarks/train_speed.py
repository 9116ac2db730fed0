"""Training throughput of ``babelir train`` against a plain sentence-transformers Trainer, in one run.

Both train the same backbone with the same batch (retrieval + parallel + non-parallel columns) and the
same loss (:class:`babelir.losses.CoTrainingLoss`), on the same texts. Also measured: the effect of
babelir's CPU defaults (frozen word embeddings, length-bucketed batches), each switched off in turn.

    python benchmarks/train_speed.py --backbone me5-small --steps 8 --batch-size 8

Prints one markdown table: examples/s (rows of all three streams per second) and seconds/step, the
first ``--warmup`` steps of each run excluded.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from babelir.training.config import TrainConfig
from babelir.training.trainer import CoTrainer
from babelir.utils.devices import processor_paths


def babelir_run(config: TrainConfig, warmup: int, workdir: Path) -> tuple[float, float]:
    trainer = CoTrainer(config, workdir)
    trainer.train()
    log = [json.loads(line) for line in (workdir / "train_log.jsonl").read_text().splitlines()][warmup:]
    seconds = [r["elapsed_s"] for r in log]
    per_step = (seconds[-1] - seconds[0]) / max(1, len(seconds) - 1) if len(seconds) > 1 else seconds[0]
    examples = config.batch_size + 3 * config.aux_batch_size  # query rows + pairs + non-parallel sentences
    return examples / per_step, per_step


def sentence_transformers_run(config: TrainConfig, warmup: int, workdir: Path, device: str = "cpu",
                              bf16: bool = False) -> tuple[float, float]:
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from transformers import PrinterCallback, TrainerCallback

    reference = CoTrainer(config, workdir / "ref")  # same model, loss and texts as babelir's run
    columns = [reference.columns(step) for step in range(config.steps)]
    names = reference.loss.column_names()
    rows = {name: [text for step in columns for text in step[i]] for i, name in enumerate(names)}
    model, loss = reference.model, reference.loss
    stamps: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            stamps.append(time.perf_counter())

    args = SentenceTransformerTrainingArguments(
        output_dir=str(workdir / "st"), max_steps=config.steps, per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate, warmup_steps=config.warmup_steps, weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm, save_strategy="no", report_to=[], logging_steps=1,
        seed=config.seed, use_cpu=device == "cpu", bf16=bf16, dataloader_drop_last=True, disable_tqdm=True,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=Dataset.from_dict(rows), loss=loss, callbacks=[Clock()]
    )
    trainer.remove_callback(PrinterCallback)  # keep the printed table clean of per-step log dicts
    trainer.train()
    gaps = [b - a for a, b in zip(stamps[warmup:], stamps[warmup + 1 :], strict=False)]
    per_step = statistics.mean(gaps)
    examples = config.batch_size + 3 * config.aux_batch_size
    return examples / per_step, per_step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", default="me5-small")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2, help="steps excluded from timing")
    parser.add_argument("--batch-size", type=int, default=8, help="rows per stream per step")
    parser.add_argument("--num-threads", type=int, default=0)
    args = parser.parse_args()
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    base = dict(backbone=args.backbone, steps=args.steps, batch_size=args.batch_size, aux_batch_size=args.batch_size,
                warmup_steps=1, checkpoint_every=0, progress=False, num_threads=args.num_threads)
    variants = [
        ("babelir train (defaults: frozen word embeddings, length bucketing)", "babelir", {}),
        ("babelir train, word embeddings trained", "babelir", {"freeze_word_embeddings": False}),
        ("babelir train, no length bucketing", "babelir", {"length_bucketing": False}),
        ("babelir train, --precision bf16 (autocast; fp32 logits)", "babelir", {"precision": "bf16"}),
        ("sentence-transformers Trainer (same model, batch, loss; frozen word embeddings)", "st", {}),
    ]
    print(f"# train_speed: backbone {args.backbone}, {args.steps} steps ({args.warmup} warm-up excluded), "
          f"batch {args.batch_size} per stream, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")
    print(f"# processor bf16/int8 paths: {processor_paths()} (bf16 without avx512_bf16/amx_bf16 is emulated)")
    print("\n| run | examples/s | s/step | x first row |\n|---|---|---|---|")
    first = None
    for label, kind, overrides in variants:
        config = TrainConfig(**{**base, **overrides}).validate()
        with tempfile.TemporaryDirectory() as tmp:
            runner = babelir_run if kind == "babelir" else sentence_transformers_run
            rate, per_step = runner(config, args.warmup, Path(tmp))
        first = first or rate
        print(f"| {label} | {rate:.2f} | {per_step:.2f} | {rate / first:.2f} |", flush=True)


if __name__ == "__main__":
    main()
