"""Two gloo processes on CPU: gathered losses, DDP training and --resume equal the single-process run.

Why these checks: a distributed contrastive loss can look right (it trains) while its gradient is wrong
(e.g. a gather that keeps only the local slice's gradient), so values *and* gradients are compared with
the single-process loss on the same global batch; and a 2-rank ``torchrun`` training run must end with
the weights of the 1-process run, since ``batch_size`` is the global batch.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

from babelir.losses import (
    LanguageContrastiveLoss,
    LateInteractionInfoNCELoss,
    RetrievalInfoNCELoss,
    SemanticContrastiveLoss,
)
from babelir.training.distributed import DistributedContext, launched_by_torchrun

from .test_trainer import assert_same_weights, small_config, write_data

WORLD = 2
ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def _init(rank: int, rendezvous: str) -> None:
    os.environ.update(ENV)
    torch.set_num_threads(1)
    torch.distributed.init_process_group(
        "gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=WORLD
    )


def _finish() -> None:
    # a barrier first: a rank that leaves early can tear down the FileStore under the other one
    torch.distributed.barrier()
    torch.distributed.destroy_process_group()


def _spawn(worker: Any, tmp_path: Path, *args: Any) -> None:
    mp.spawn(worker, args=(str(tmp_path / "rendezvous"), str(tmp_path), *args), nprocs=WORLD, join=True)


# ------------------------------------------------------------------ losses: values and gradients
class Projection(nn.Module):
    """A stand-in encoder (one linear map) so the test isolates the losses' cross-rank maths."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(12, 8)

    def forward(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"sentence_embedding": self.linear(features["x"])}  # per token for (n, length, 12) inputs


def _inputs() -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    ir, aux = 6, 8  # global batches: 3 / 4 rows per rank
    sizes = {"query": ir, "positive": ir, "negative": ir, "source": aux, "target": aux, "other": aux}
    columns = {name: torch.randn(n, 12, generator=gen) for name, n in sizes.items()}
    # token columns for late interaction: rank 0's rows (the first 3) are shorter, so each rank pads
    # to a different length before the cross-rank gather
    for name in ("query", "positive", "negative"):
        lengths = torch.randint(1, 4, (ir // 2,), generator=gen).tolist() + torch.randint(
            1, 7, (ir // 2,), generator=gen).tolist()
        columns[f"tokens-{name}"] = torch.randn(ir, 6, 12, generator=gen)
        columns[f"mask-{name}"] = torch.tensor([[1.0] * n + [0.0] * (6 - n) for n in lengths])
    return columns


def _trim(columns: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Cut each token column to its longest row, as a tokenizer pads a batch."""
    out = dict(columns)
    for name in ("query", "positive", "negative"):
        longest = int(columns[f"mask-{name}"].sum(1).max())
        out[f"tokens-{name}"] = columns[f"tokens-{name}"][:, :longest]
        out[f"mask-{name}"] = columns[f"mask-{name}"][:, :longest]
    return out


CASES = ("retrieval", "semantic", "language-uniform", "language-rank", "late-interaction")


def _case_loss(case: str, embed: Any, columns: dict[str, torch.Tensor], gather: bool) -> torch.Tensor:
    e = {name: embed({"x": x}) for name, x in columns.items() if not name.startswith("mask-")}
    if case == "late-interaction":
        loss = LateInteractionInfoNCELoss(nn.Identity(), 0.1, gather_across_devices=gather)
        tokens = {n: (e[f"tokens-{n}"], columns[f"mask-{n}"]) for n in ("query", "positive", "negative")}
        return loss.compute_from_tokens(tokens["query"], [tokens["positive"], tokens["negative"]])
    if case == "retrieval":
        loss = RetrievalInfoNCELoss(nn.Identity(), 0.1, gather_across_devices=gather)
        return loss.compute_from_embeddings(e["query"], e["positive"], [e["negative"]])
    if case == "semantic":
        loss = SemanticContrastiveLoss(nn.Identity(), 0.1, gather_across_devices=gather)
        return loss.compute_from_embeddings(e["source"], e["target"])
    variant = case.split("-")[1]
    loss = LanguageContrastiveLoss(nn.Identity(), 0.1, variant, gather_across_devices=gather)  # type: ignore
    return loss.compute_from_embeddings(e["source"], e["target"], e["other"])


def _loss_worker(rank: int, rendezvous: str, out: str) -> None:
    _init(rank, rendezvous)
    from torch.nn.parallel import DistributedDataParallel

    torch.manual_seed(0)
    model = Projection()
    ddp = DistributedDataParallel(model)
    dist = DistributedContext.current()
    columns = _inputs()
    local = _trim({name: dist.local_slice(x) for name, x in columns.items()})
    results = {}
    for case in CASES:
        # reference: one process, the whole global batch, no gathering (the process group is not used)
        reference = _case_loss(case, lambda f: model(f)["sentence_embedding"], columns, gather=False)
        ref_grad = torch.autograd.grad(reference, list(model.parameters()))
        # distributed: this rank's slice, negatives gathered from both ranks, DDP averages gradients
        model.zero_grad(set_to_none=True)
        loss = _case_loss(case, lambda f: ddp(f)["sentence_embedding"], local, gather=True)
        loss.backward()
        results[case] = {
            "reference": reference.detach(),
            "distributed": dist.mean(loss.detach()),
            "ref_grad": [g.detach() for g in ref_grad],
            "grad": [p.grad.detach().clone() for p in model.parameters()],
        }
        model.zero_grad(set_to_none=True)
    results["local-only"] = _local_only_error(rank, model, ddp, columns, local)
    torch.save(results, Path(out) / f"losses-{rank}.pt")
    _finish()


def _local_only_error(rank: int, model: nn.Module, ddp: nn.Module, columns: dict, local: dict) -> float:
    """The retrieval gradient's error with a gather that keeps only the local slice's gradient (the
    usual CLIP-port bug): it must be large, or the comparison above could not catch that bug."""
    import babelir.losses.retrieval as retrieval

    def local_only(tensor: torch.Tensor) -> torch.Tensor:
        parts = [torch.zeros_like(tensor) for _ in range(WORLD)]
        torch.distributed.all_gather(parts, tensor.detach())
        parts[rank] = tensor
        return torch.cat(parts)

    reference = _case_loss("retrieval", lambda f: model(f)["sentence_embedding"], columns, gather=False)
    ref_grad = torch.autograd.grad(reference, list(model.parameters()))
    retrieval.gather_with_grad, original = local_only, retrieval.gather_with_grad
    try:
        _case_loss("retrieval", lambda f: ddp(f)["sentence_embedding"], local, gather=True).backward()
    finally:
        retrieval.gather_with_grad = original
    return max(float((p.grad - g).abs().max()) for p, g in zip(model.parameters(), ref_grad, strict=True))


def test_gathered_losses_and_gradients_equal_single_process_on_global_batch(tmp_path):
    _spawn(_loss_worker, tmp_path)
    for rank in range(WORLD):
        results = torch.load(tmp_path / f"losses-{rank}.pt", weights_only=True)
        for case in CASES:
            r = results[case]
            torch.testing.assert_close(r["distributed"], r["reference"], rtol=1e-5, atol=1e-6, msg=case)
            for got, want in zip(r["grad"], r["ref_grad"], strict=True):
                assert want.abs().max() > 1e-4, case  # the comparison is not vacuous
                torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6, msg=f"{case} gradient")
        assert results["local-only"] > 1e-3  # a gradient without the other ranks' terms is caught


# ------------------------------------------------------------------ training
def no_dropout_backbone(folder: Path) -> Path:
    """The tiny backbone without dropout: 1 process and 2 processes draw different dropout masks, so
    only a deterministic forward can be compared weight for weight."""
    from babelir.backbones import resolve_backbone

    target = folder / "tiny-no-dropout"
    if not target.exists():
        shutil.copytree(resolve_backbone("tiny"), target)
        config = json.loads((target / "config.json").read_text())
        config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
        (target / "config.json").write_text(json.dumps(config))
    return target


TRAIN_FLAGS = ["--steps", "6", "--batch-size", "8", "--aux-batch-size", "8", "--learning-rate", "5e-4",
               "--warmup-steps", "1", "--checkpoint-every", "3", "--no-progress", "--num-threads", "1",
               "--seed", "7", "--semantic-weight", "1", "--no-prune-checkpoints"]  # every loss on: all three must match across ranks


def torchrun(args: list[str], nproc: int = WORLD) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
           "-m", "babelir", "train", *args]
    proc = subprocess.run(cmd, env={**env, **ENV}, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    return proc


def data_flags(data: dict[str, list[str]]) -> list[str]:
    return [f"--{name}" if i == 0 else path for name in ("retrieval", "parallel", "nonparallel")
            for i, path in enumerate(["", *data[name]])]


def read_log(run: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]


def test_two_rank_torchrun_training_equals_single_process(tmp_path):
    from babelir.training.trainer import CoTrainer

    data = write_data(tmp_path / "data")
    backbone = str(no_dropout_backbone(tmp_path))
    single = CoTrainer(
        small_config(data, backbone=backbone, steps=6, checkpoint_every=3, semantic_weight=1.0), tmp_path / "single"
    ).train()
    flags = ["--backbone", backbone, *TRAIN_FLAGS, *data_flags(data)]
    proc = torchrun([*flags, "--output", str(tmp_path / "two")])
    assert proc.stdout.count("model saved to") == 1  # rank 0 alone reports
    assert_same_weights(single.model_path, tmp_path / "two" / "model")
    # rank 0 alone writes the log (one line per step) and it holds the global-batch losses
    one, two = read_log(tmp_path / "single"), read_log(tmp_path / "two")
    assert [r["step"] for r in two] == list(range(1, 7))
    for a, b in zip(one, two, strict=True):
        for key in ("loss", "retrieval", "semantic", "language", "lr"):
            assert b[key] == pytest.approx(a[key], rel=1e-5, abs=1e-6), (key, a["step"])
    assert (tmp_path / "two" / "checkpoints" / "step-0000003" / "trainable.safetensors").is_file()
    rng_file = tmp_path / "two" / "checkpoints" / "step-0000003" / "rng.pt"
    ranks = torch.load(rng_file, weights_only=True)["ranks"]
    assert len(ranks) == WORLD and not torch.equal(ranks[0]["torch"], ranks[1]["torch"])


def test_two_rank_training_with_gradient_caching_equals_single_process_without(tmp_path):
    """Gradient caching composes with gathered negatives: 2 ranks re-encoding mini-batches of 2 rows (the
    loss on the gathered batch, its gradients pushed back through DDP's no_sync) end where 1 uncached
    process does, weight for weight and loss for loss."""
    from babelir.training.trainer import CoTrainer

    data = write_data(tmp_path / "data")
    backbone = str(no_dropout_backbone(tmp_path))
    single = CoTrainer(
        small_config(data, backbone=backbone, steps=6, checkpoint_every=3, semantic_weight=1.0), tmp_path / "single"
    ).train()
    torchrun(["--backbone", backbone, *TRAIN_FLAGS, *data_flags(data), "--mini-batch-size", "2",
              "--output", str(tmp_path / "two")])
    assert_same_weights(single.model_path, tmp_path / "two" / "model")
    for a, b in zip(read_log(tmp_path / "single"), read_log(tmp_path / "two"), strict=True):
        for key in ("loss", "retrieval", "semantic", "language"):
            assert b[key] == pytest.approx(a[key], rel=1e-5, abs=1e-6), (key, a["step"])


def _resume_worker(rank: int, rendezvous: str, out: str, data: dict[str, list[str]]) -> None:
    """A full 2-rank run, then a second run that starts from the full run's step-3 checkpoint."""
    _init(rank, rendezvous)
    from babelir.training.trainer import CoTrainer

    root = Path(out)
    config = small_config(data, steps=6, checkpoint_every=3, prune_checkpoints=False)  # tiny backbone: dropout on
    CoTrainer(config, root / "full").train()
    if rank == 0:
        ckpt = root / "full" / "checkpoints" / "step-0000003"
        shutil.copytree(ckpt, root / "resumed" / "checkpoints" / ckpt.name)
    torch.distributed.barrier()
    CoTrainer(config, root / "resumed").train(resume=True)
    _finish()


def test_resume_of_a_two_rank_run_is_exact(tmp_path):
    data = write_data(tmp_path / "data")
    _spawn(_resume_worker, tmp_path, data)
    assert_same_weights(tmp_path / "full" / "model", tmp_path / "resumed" / "model")
    assert [r["step"] for r in read_log(tmp_path / "resumed")] == [4, 5, 6]  # steps after the checkpoint


def test_batch_must_divide_over_ranks_and_launcher_detection(tmp_path):
    from babelir.data.errors import DataError
    from babelir.training.trainer import CoTrainer

    data = write_data(tmp_path / "data")
    fake = DistributedContext(rank=0, world_size=3)
    with pytest.raises(DataError, match="batch_size=8 is the global batch"):
        CoTrainer(small_config(data), tmp_path / "run", dist=fake)
    assert fake.local_slice(list(range(9))) == [0, 1, 2]
    assert DistributedContext(rank=2, world_size=3).local_slice(list(range(9))) == [6, 7, 8]
    assert launched_by_torchrun({"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "h",
                                 "MASTER_PORT": "1"})
    assert not launched_by_torchrun({})
