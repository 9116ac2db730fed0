"""The co-training loop: one batch of each stream per step, checkpoints, exact resume, JSONL log.

The losses are ordinary sentence-transformers losses (see :mod:`babelir.losses`); this loop adds what a
2-core CPU run and a long cluster run both need: deterministic batches (resume needs only the step),
atomic checkpoints, frozen word embeddings, length bucketing, and a log a plot can be made from.

Under ``torchrun`` (:mod:`babelir.training.distributed`) the same loop runs on every rank: each rank
trains on its slice of the global batch through DistributedDataParallel, the losses draw their in-batch
negatives from the global batch, and only rank 0 writes files. One process takes none of those paths.

Longer than 350 lines on purpose: the loop, its checkpoints and its divergence stop are one class
whose state must agree for resume to be exact.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from babelir.data.errors import DataError
from babelir.identity import ROLES, prompt_for, read_training_record
from babelir.losses import CoTrainingLoss
from babelir.training.checkpoint import (
    Checkpoint,
    has_checkpoints,
    holds_babelir_checkpoints,
    newest_settings,
    rank_rng_state,
    refuse_fresh_start,
    restore_rank_rng,
    resume_checkpoint,
    save_checkpoint,
)
from babelir.training.config import (
    TrainConfig,
    changed_on_resume,
    config_to_yaml,
    is_run_config,
    run_identity,
)
from babelir.training.data import TrainingData, load_training_data
from babelir.training.distributed import DistributedContext
from babelir.training.model import build_model, on_device, unused_parameters
from babelir.training.model_card import write_model_card
from babelir.training.precision import MixedPrecision
from babelir.training.steps import StepColumns
from babelir.utils.atomic import atomic_directory, atomic_open, atomic_write_text
from babelir.utils.devices import resolve_device
from babelir.utils.errors import CheckpointError, DivergedError, OutputError
from babelir.utils.ownership import check_folder, mark_folder, remove_leftovers
from babelir.utils.verbosity import show_progress

logger = logging.getLogger(__name__)

LOG_FILE = "train_log.jsonl"
MODEL_DIR = "model"
CHECKPOINT_DIR = "checkpoints"


@dataclass
class TrainResult:
    model_path: Path
    steps: int
    seconds: float
    last: dict[str, float]


def finished_model(output_dir: str | os.PathLike, config: TrainConfig) -> Path | None:
    """``OUTPUT/model`` if a run there finished with ``config``'s settings (those that change what it
    learns: where it computed and how it reported may differ), else None (train or resume)."""
    folder = Path(output_dir) / MODEL_DIR
    saved = (read_training_record(folder) or {}).get("config")
    if isinstance(saved, dict) and (run_identity(saved) == config.identity() or not changed_on_resume(saved, config)):
        return folder
    return None


# A test hook: the trainer SIGKILLs itself right after writing the checkpoint of this step (resume tests).
KILL_AFTER_CHECKPOINT = "BABELIR_KILL_AFTER_CHECKPOINT"


class CoTrainer:
    """Train ``config.backbone`` with :class:`~babelir.losses.CoTrainingLoss` into ``output_dir``.

    ``dist`` describes the torchrun job (default: the process group already initialised, if any).
    """

    def __init__(
        self,
        config: TrainConfig,
        output_dir: str | os.PathLike,
        data: TrainingData | None = None,
        dist: DistributedContext | None = None,
    ):
        self.config = config
        self.output_dir = Path(output_dir)
        self.dist = dist or DistributedContext.current()
        self._check_divisible()
        if config.gradient_diagnostics_every and self.dist.enabled:
            # torch.autograd.grad beside DDP's reducer hooks is not something DDP promises to handle
            raise DataError("--gradient-diagnostics-every", None, "runs in one process only; diagnose a "
                            "single-process run with the same settings (the diagnostics do not change the weights)")
        if config.num_threads:
            torch.set_num_threads(config.num_threads)
        # rank 0 keeps the single-process seed; other ranks get their own dropout streams (identical
        # streams would give every rank the same dropout masks). Weights come from rank 0 through DDP.
        torch.manual_seed(config.seed + self.dist.rank)
        # torchrun: the rank's own device (NCCL: its GPU); one process: --device (auto = a GPU if torch sees one)
        self.device = self.dist.device if self.dist.enabled else torch.device(resolve_device(config.device))
        self.amp = MixedPrecision(config.precision, self.device)
        self.scaler = self.amp.scaler
        with self.dist.local_main_first():
            self.data = data or load_training_data(config)
            self.model = build_model(config, self.device)
        self.ddp: torch.nn.Module | None = None
        embedder = token_embedder = None
        if self.dist.enabled:
            from torch.nn.parallel import DistributedDataParallel

            # parameters no forward reaches (e.g. a BERT pooler that mean pooling skips) make DDP stop at
            # step 2 ("expected to have finished reduction"); telling DDP to ignore them is exact and
            # cheaper than find_unused_parameters (a graph walk on each of the ~6 forwards per step).
            DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(
                self.model, unused_parameters(self.model)
            )
            # the only buffers (position ids) are constants: sync them once at construction (with rank 0's
            # weights), not on each of the ~6 forwards per step
            self.ddp = DistributedDataParallel(
                self.model,
                device_ids=[self.dist.device.index] if self.dist.device.type == "cuda" else None,
                forward_sync_buffers=False,
            )
            ddp = self.ddp

            def embedder(features: dict[str, Any]) -> torch.Tensor:
                # every forward goes through DDP so its backward hooks all-reduce (average) gradients
                return ddp(features)["sentence_embedding"]

            def token_embedder(features: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
                out = ddp(features)
                return out["token_embeddings"], out["attention_mask"]

        self.loss = CoTrainingLoss(
            self.model,
            temperature=config.temperature,
            aux_temperature=config.effective_aux_temperature,
            semantic_weight=config.semantic_weight,
            language_weight=config.language_weight,
            language_variant=config.language_variant,
            simcse_weight=config.simcse_weight,
            distillation_weight=config.distillation_weight,
            erasure_weight=config.erasure_weight,
            num_negatives=config.num_negatives,
            gather_across_devices=self.dist.enabled,
            embedder=embedder,
            retrieval_loss=self._retrieval_loss(token_embedder),
        )
        self.trainable = [p for p in self.model.parameters() if p.requires_grad]  # fixed once the model is built
        self.optimizer = torch.optim.AdamW(self.trainable, lr=config.learning_rate, weight_decay=config.weight_decay)
        from transformers import get_linear_schedule_with_warmup

        self.scheduler = get_linear_schedule_with_warmup(self.optimizer, config.warmup_steps, config.steps)
        self.prompts = {role: prompt_for(self.model, role) or "" for role in ROLES} | {"none": ""}
        self.step_columns = StepColumns(
            config,
            self.data,
            self.prompts,
            uses_parallel=self.loss.uses_parallel,
            uses_nonparallel=self.loss.uses_nonparallel,
        )

    def _retrieval_loss(self, token_embedder) -> torch.nn.Module | None:
        """None = CoTrainingLoss's dense InfoNCE; a MaxSim InfoNCE for ``retriever: late-interaction``."""
        if self.config.retriever != "late-interaction":
            return None
        from babelir.losses import LateInteractionInfoNCELoss

        return LateInteractionInfoNCELoss(
            self.model, self.config.temperature, self.dist.enabled, token_embedder=token_embedder
        )

    def _check_divisible(self) -> None:
        """Global batches split into equal slices: needed for gathering and for mean-of-means = mean."""
        world = self.dist.world_size
        for name in ("batch_size", "aux_batch_size"):
            value = getattr(self.config, name)
            if value % world:
                from babelir.data.errors import DataError

                raise DataError(
                    "<config>", None,
                    f"{name}={value} is the global batch and must divide evenly over {world} processes",
                )

    def columns(self, step: int) -> list[list[str]]:
        """The texts of every column at ``step`` (prompts applied), in :class:`CoTrainingLoss` order."""
        return self.step_columns(step)

    def local_columns(self, columns: list[list[str]]) -> list[list[str]]:
        """This rank's slice of each global column (all of it on one process)."""
        return [self.dist.local_slice(col) for col in columns] if self.dist.enabled else columns

    # ----------------------------------------------------------------- loop
    def train(self, resume: bool = False, overwrite: bool = False) -> TrainResult:
        cfg = self.config
        out = self.output_dir
        main = self.dist.is_main
        if main:
            refuse_foreign_output(out)
            if overwrite and not resume:  # the earlier run's checkpoints, log and model are replaced
                shutil.rmtree(out / CHECKPOINT_DIR, ignore_errors=True)
                (out / LOG_FILE).unlink(missing_ok=True)
            refuse_fresh_start(out / CHECKPOINT_DIR, resume)
            if resume and has_checkpoints(out / CHECKPOINT_DIR):
                # the run config, or for checkpoints copied on their own the settings stored with them
                stored = newest_settings(out / CHECKPOINT_DIR)
                earlier = out / "config.yaml" if is_run_config(out / "config.yaml") else stored
                changed = changed_on_resume(earlier, cfg) if earlier is not None else []
                if changed:  # the checkpoints would continue under settings the model record would misstate
                    raise DataError(out, None, f"--resume: its checkpoints were trained with other settings "
                                    f"({', '.join(changed)}); resume with the same settings or choose a new --output")
            refuse_replacing_model(out, cfg, resume=resume, overwrite=overwrite)
            mark_folder(out, RUN_KIND)
            remove_leftovers(out / MODEL_DIR, MODEL_KIND)  # a kill while the model was being swapped in
            atomic_write_text(out / "config.yaml", config_to_yaml(cfg))
        start_step, elapsed = 0, 0.0
        if resume and (done := finished_model(out, cfg)) is not None:
            # a finished run has nothing to resume (its checkpoints may be pruned): hand back its model
            record = read_training_record(done) or {}
            logger.info("--resume: %s already finished with these settings", out)
            return TrainResult(model_path=done, steps=cfg.steps, seconds=record["seconds"], last=record["last"])
        if resume:  # the newest checkpoint whose files all check out; a damaged one falls back, warned
            checkpoint = resume_checkpoint(out / CHECKPOINT_DIR, self.model, self.optimizer, self.scheduler, main)
            self._check_same_checkpoint(checkpoint)
            if checkpoint is None:
                logger.warning("--resume: no checkpoint in %s, starting from step 0", out / CHECKPOINT_DIR)
            else:
                if self.dist.enabled or self.device.type == "cuda":
                    restore_rank_rng(checkpoint.path, self.dist.rank, self.dist.world_size)
                start_step, elapsed = checkpoint.step, float(checkpoint.state.get("elapsed_s", 0.0))
                if "grad_scaler" in checkpoint.state:
                    self.scaler.load_state_dict(checkpoint.state["grad_scaler"])
        if main:
            self._truncate_log(start_step)
        self.model.train()
        last: dict[str, float] = {}
        bar = tqdm(total=cfg.steps, initial=start_step, desc="train",
                   disable=not (show_progress(cfg.progress) and main), unit="step")
        log_file = open(out / LOG_FILE, "a", encoding="utf-8") if main else contextlib.nullcontext()  # noqa: SIM115
        with log_file as log:
            for step in range(start_step, cfg.steps):
                tick = time.perf_counter()
                columns = self.columns(step)
                features = [on_device(self.model.preprocess(col), self.device) for col in self.local_columns(columns)]
                languages = self._languages(step)
                every = cfg.gradient_diagnostics_every
                diagnose = bool(every) and (step == 0 or (step + 1) % every == 0)
                parts, diagnostics = self._backward(features, diagnose, languages)
                total = torch.stack(list(parts.values())).sum()
                self.scaler.unscale_(self.optimizer)  # clip the true gradients, not the scaled ones (fp16)
                # max_norm inf: the norm alone, nothing clipped (a multiplication by exactly 1)
                norm = torch.nn.utils.clip_grad_norm_(self.trainable, cfg.max_grad_norm or math.inf)
                self._stop_if_not_finite(step, total, parts, norm, elapsed, log)
                self.scaler.step(self.optimizer)  # skipped (fp16) when a gradient overflowed
                self.scaler.update()
                self.scheduler.step()
                self.optimizer.zero_grad(set_to_none=True)
                seconds = time.perf_counter() - tick
                n_examples = self.step_columns.example_count(columns)
                values = torch.stack([total.detach(), *(v.detach() for v in parts.values())])
                if self.dist.enabled:
                    # the global loss: each rank's loss is a mean over an equal slice -> mean of ranks
                    values = self.dist.mean(values.cpu())
                elapsed += seconds
                # the total is weighted; each component is logged unweighted, comparable across weights
                last = {"loss": float(values[0])}
                weights = self.loss.weights
                last.update({k: float(v) / weights[k] for k, v in zip(parts, values[1:], strict=True)})
                record = {
                    "step": step + 1,
                    **last,
                    "lr": self.scheduler.get_last_lr()[0],
                    "examples_per_s": n_examples / seconds,
                    "texts_per_s": sum(len(c) for c in columns) / seconds,
                    "elapsed_s": elapsed,
                    **diagnostics,
                }
                if main:
                    log.write(json.dumps(record) + "\n")
                    log.flush()
                bar.set_postfix({k: f"{v:.3f}" for k, v in last.items()})
                bar.update(1)
                if cfg.checkpoint_every and (step + 1) % cfg.checkpoint_every == 0 and step + 1 < cfg.steps:
                    self._checkpoint(step + 1, elapsed, log)
        bar.close()
        model_path = out / MODEL_DIR
        if main:
            self.save(model_path, elapsed, last)
        self.dist.barrier()  # no rank reports success before the model is on disk
        if main and cfg.prune_checkpoints:
            # only after the model is on disk: a crash before this line still leaves a resumable run
            shutil.rmtree(out / CHECKPOINT_DIR, ignore_errors=True)
        return TrainResult(model_path=model_path, steps=cfg.steps, seconds=elapsed, last=last)

    def _stop_if_not_finite(
        self, step: int, total: torch.Tensor, parts: dict[str, torch.Tensor], norm: torch.Tensor, elapsed: float,
        log: Any,
    ) -> None:
        """Stop at the first loss (or, outside fp16's loss scaling, gradient) that is not finite, before the
        step is applied: a NaN model would otherwise be saved, indexed and served as if it were good.

        Every rank decides together (one all-reduce of a flag). The weights are still those after ``step``
        steps: they are checkpointed, so ``--resume`` can continue (with the same settings) once the cause,
        often a learning rate or weight too large, or a broken batch, is understood."""
        bad_grad = not self.scaler.is_enabled() and not bool(torch.isfinite(norm))  # fp16: the scaler skips it
        flag = torch.tensor([float(not bool(torch.isfinite(total)) or bad_grad)])
        if self.dist.enabled:
            flag = self.dist.mean(flag)
        if not float(flag[0]):
            return
        self.optimizer.zero_grad(set_to_none=True)
        if step > 0:
            self._checkpoint(step, elapsed, log)
        losses = ", ".join(f"{name} {float(value.detach()):.4g}" for name, value in parts.items())
        saved = (f"the weights after step {step} are checkpointed in {self.output_dir / CHECKPOINT_DIR}"
                 if step > 0 else "nothing was trained yet")
        raise DivergedError(
            self.output_dir, None,
            f"training diverged at step {step + 1}: loss {float(total.detach()):.4g} ({losses}), gradient norm "
            f"{float(norm):.4g}; {saved}. Lower learning_rate or the loss weights, or check the data, then train "
            "again (--overwrite)",
        )

    def _checkpoint(self, step: int, elapsed: float, log: Any) -> None:
        """Rank 0 writes the checkpoint; every rank contributes its RNG state so resume stays exact."""
        # every rank's RNG states (one process on a GPU too: its CUDA dropout stream), so resume stays exact
        rank_rng = self.dist.gather(rank_rng_state(self.device)) if self.dist.enabled else None
        if not self.dist.enabled and self.device.type == "cuda":
            rank_rng = [rank_rng_state(self.device)]
        if not self.dist.is_main:
            return
        log.flush()
        os.fsync(log.fileno())
        save_checkpoint(
            self.output_dir / CHECKPOINT_DIR, step, self.model, self.optimizer, self.scheduler,
            {"elapsed_s": elapsed, "settings": self.config.to_dict(),
             **({"grad_scaler": self.scaler.state_dict()} if self.scaler.is_enabled() else {})},
            keep=self.config.keep_checkpoints, rank_rng=rank_rng,
        )
        if os.environ.get(KILL_AFTER_CHECKPOINT) == str(step):
            # the fault hook of the resume tests: die exactly here, as a power cut would, without polling
            os.kill(os.getpid(), signal.SIGKILL)

    def _languages(self, step: int) -> torch.Tensor | None:
        """This rank's auxiliary rows' language ids at ``step`` (the erasure loss's labels), else None."""
        if not self.loss.uses_languages:
            return None
        ids = [i for column in self.local_columns(self.step_columns.languages(step)) for i in column]
        return torch.tensor(ids, dtype=torch.long, device=self.device)

    def _backward(
        self, features: list[dict[str, Any]], diagnose: bool = False, languages: torch.Tensor | None = None
    ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Gradients of one step into the parameters (scaled under fp16); returns the loss components and,
        when ``diagnose``, each loss's gradient norm and their cosines (:mod:`babelir.training.diagnostics`).
        ``languages``: the auxiliary rows' language ids when the loss needs them."""
        if not self.config.mini_batch_size:
            with self.amp.autocast():
                parts = self.loss(features, languages)
            diagnostics = {}
            if diagnose:
                from babelir.training.diagnostics import gradient_diagnostics

                diagnostics = gradient_diagnostics(parts, self.trainable)
            self.scaler.scale(torch.stack(list(parts.values())).sum()).backward()
            return parts, diagnostics
        from babelir.losses._common import sentence_embedding
        from babelir.training.grad_cache import cached_backward

        parts = cached_backward(
            self.loss, features, self.config.mini_batch_size,
            embed_graph=self.loss.embedder or sentence_embedding(self.model),
            embed_plain=sentence_embedding(self.model),  # no graph: DDP's reducer need not see it
            autocast=self.amp.autocast, scale=self.scaler.scale,
            no_sync=self.ddp.no_sync if self.ddp is not None else contextlib.nullcontext,
            device=self.device, labels=languages,
        )
        return parts, {}  # config.validate() refuses diagnostics with caching

    def _check_same_checkpoint(self, checkpoint: Checkpoint | None) -> None:
        """Every rank must resume from rank 0's checkpoint (multi-node: ``--output`` on a shared disk)."""
        if not self.dist.enabled:
            return
        mine = checkpoint.step if checkpoint else 0
        theirs = self.dist.gather(mine)
        if len(set(theirs)) > 1:
            raise CheckpointError(
                self.output_dir / CHECKPOINT_DIR, None,
                f"ranks resumed from different checkpoints (steps {theirs}); on several machines --output "
                "must be a shared file system",
            )

    def _truncate_log(self, step: int) -> None:
        """Drop log lines after ``step`` (written after the checkpoint a resumed run restarts from)."""
        path = self.output_dir / LOG_FILE
        if not path.exists():
            return
        kept = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                if json.loads(line)["step"] <= step:
                    kept.append(line)
            except (json.JSONDecodeError, KeyError):
                continue  # a line cut short by a kill
        with atomic_open(path) as handle:
            handle.write("".join(line + "\n" for line in kept))

    def save(self, path: Path, seconds: float, last: dict[str, Any]) -> Path:
        """Write the final model directory atomically (loads in sentence-transformers as it is)."""
        self.model.eval()
        with atomic_directory(path) as tmp:
            mark_folder(tmp, MODEL_KIND)
            self.model.save(str(tmp))
            write_model_card(tmp, self.config, self.data, self.loss, seconds, last)
        return path


RUN_KIND, MODEL_KIND = "run", "model"  # babelir.utils.ownership's marker kinds of a run folder and its model


def _legacy_run(out: Path) -> bool:
    """A run folder from before babelir marked its folders: its model's training record, or trainer state in
    its checkpoints (both written by babelir alone; a hand-written ``config.yaml`` proves nothing)."""
    return read_training_record(out / MODEL_DIR) is not None or holds_babelir_checkpoints(out / CHECKPOINT_DIR)


def _pending_write(name: str) -> bool:
    # a run killed while writing config.yaml leaves atomic_open's hidden .tmp file: babelir's own
    return name.startswith(".") and name.endswith(".tmp")


def refuse_foreign_output(out: Path) -> None:
    """A run writes config.yaml, train_log.jsonl, checkpoints/ and model/ into ``out`` and replaces them: only
    a missing or empty folder, or a run folder babelir marked (:mod:`babelir.utils.ownership`), may receive
    them."""
    check_folder(out, RUN_KIND, "--output", legacy=_legacy_run, ignore=_pending_write)


def refuse_replacing_model(out: Path, config: TrainConfig, *, resume: bool, overwrite: bool) -> None:
    """A finished model in ``out`` is replaced only with ``overwrite``; ``resume`` with the same settings
    hands it back instead (:func:`finished_model`)."""
    if overwrite or not (out / MODEL_DIR).exists() or (resume and finished_model(out, config) is not None):
        return
    raise OutputError(out / MODEL_DIR, None, "holds the finished model of an earlier run" + (
        " with other settings" if resume else "") + ": add --overwrite to train it again and replace it, "
        "or choose another --output" + ("" if resume else " (--resume hands it back when the settings match)"))
