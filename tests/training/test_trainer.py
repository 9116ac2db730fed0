"""End-to-end training on the tiny backbone: losses fall, checkpoints resume exactly after SIGKILL."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from babelir.data.errors import DataError
from babelir.training.config import TrainConfig
from babelir.training.trainer import KILL_AFTER_CHECKPOINT, CoTrainer
from babelir.utils.errors import OutputError

WORDS = ["river", "mountain", "bread", "king", "light", "music", "stone", "city", "ship", "garden",
         "winter", "letter", "horse", "market", "island", "doctor", "forest", "bridge", "moon", "school"]
GERMAN = ["Fluss", "Berg", "Brot", "König", "Licht", "Musik", "Stein", "Stadt", "Schiff", "Garten",
          "Winter", "Brief", "Pferd", "Markt", "Insel", "Arzt", "Wald", "Brücke", "Mond", "Schule"]


def write_data(folder: Path) -> dict[str, list[str]]:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "retrieval.jsonl", "w", encoding="utf-8") as f:
        for i, w in enumerate(WORDS * 2):
            f.write(json.dumps({"query": f"what is a {w} {i}", "positive": f"A {w} is a thing number {i}."}) + "\n")
    with open(folder / "parallel.tsv", "w", encoding="utf-8") as f:
        f.write("en\tde\n")
        for i, (en, de) in enumerate(zip(WORDS * 2, GERMAN * 2, strict=True)):
            f.write(f"the {en} {i}\tder {de} {i}\n")
    with open(folder / "nonparallel.jsonl", "w", encoding="utf-8") as f:
        for i, w in enumerate(GERMAN + WORDS):
            f.write(json.dumps({"text": f"{w} ist hier {i}", "language": "de" if i < 20 else "en"}) + "\n")
    return {
        "retrieval": [str(folder / "retrieval.jsonl")],
        "parallel": [str(folder / "parallel.tsv")],
        "nonparallel": [str(folder / "nonparallel.jsonl")],
    }


def small_config(data: dict[str, list[str]], **overrides) -> TrainConfig:
    values = dict(backbone="tiny", steps=12, batch_size=8, aux_batch_size=8, learning_rate=5e-4,
                  warmup_steps=1, checkpoint_every=4, progress=False, num_threads=1, seed=7, **data)
    values.update(overrides)
    return TrainConfig(**values).validate()


def test_training_lowers_retrieval_and_semantic_losses(tmp_path):
    # weights 1 with the semantic loss on, so that it is tested (the defaults, semantic 0 and language 1,
    # are tuned for me5-small).
    # The defaults' own run on me5-small is in reports/training.md.
    config = small_config(write_data(tmp_path / "data"), steps=30, checkpoint_every=0, freeze_word_embeddings=False,
                          semantic_weight=1.0, language_weight=1.0)
    result = CoTrainer(config, tmp_path / "run").train()
    log = [json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == list(range(1, 31))
    for key in ("retrieval", "semantic"):
        first = sum(r[key] for r in log[:5]) / 5
        last = sum(r[key] for r in log[-5:]) / 5
        assert last < first, (key, first, last)
    assert all(r["examples_per_s"] > 0 and "language" in r for r in log)
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(result.model_path))
    five_scripts = ["Where is the river?", "Где находится река?", "أين النهر؟", "नदी कहाँ है?", "河在哪里？"]
    queries = model.encode_query(five_scripts)
    documents = model.encode_document(five_scripts)
    assert queries.shape == documents.shape == (5, 64)
    assert all(abs(float((q * q).sum()) - 1) < 1e-4 for q in queries)  # normalised, finite
    from transformers import AutoModel

    assert AutoModel.from_pretrained(result.model_path).config.hidden_size == 64
    assert (result.model_path / "README.md").read_text().count("babelir") >= 1


def test_log_records_each_loss_unweighted_and_the_weighted_total(tmp_path):
    config = small_config(write_data(tmp_path / "data"), steps=2, checkpoint_every=0,
                          semantic_weight=0.5, language_weight=3.0)
    CoTrainer(config, tmp_path / "run").train()
    for record in map(json.loads, (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()):
        total = record["retrieval"] + 0.5 * record["semantic"] + 3.0 * record["language"]
        assert record["loss"] == pytest.approx(total, rel=1e-5)
        assert 0.69 < record["language"] < 1.5  # the unweighted value: log 2 at best


def test_checkpoint_contains_only_trainable_parameters_and_resume_is_exact(tmp_path, trained_run):
    data, full = trained_run.data, trained_run.result  # small_config(data, prune_checkpoints=False)
    ckpt = trained_run.folder / "checkpoints" / "step-0000004"
    stored = load_file(str(ckpt / "trainable.safetensors"))
    assert stored and not any("word_embeddings" in name for name in stored)
    # a run that only got as far as the step-4 checkpoint, continued with --resume
    resumed_dir = tmp_path / "resumed"
    shutil.copytree(ckpt, resumed_dir / "checkpoints" / ckpt.name)
    # the settings stored with a copied checkpoint guard it as the run config guards a whole run folder
    with pytest.raises(DataError, match=r"checkpoints were trained with other settings \(learning_rate\)"):
        CoTrainer(dataclasses.replace(small_config(data), learning_rate=1e-3), resumed_dir).train(resume=True)
    assert sorted(p.name for p in resumed_dir.iterdir()) == ["checkpoints"]
    (resumed_dir / "checkpoints" / "step-0000006").mkdir()  # a newer step copied only in part: falls back
    CoTrainer(small_config(data), resumed_dir).train(resume=True)
    assert_same_weights(full.model_path, resumed_dir / "model")


def test_finished_run_prunes_its_checkpoints_and_resume_hands_back_the_model(tmp_path):
    config = small_config(write_data(tmp_path / "data"))  # checkpoints at steps 4 and 8 of 10
    run = tmp_path / "run"
    first = CoTrainer(config, run).train()
    assert (run / "model" / "model.safetensors").is_file()
    assert not (run / "checkpoints").exists()
    weights, log = (run / "model" / "model.safetensors").read_bytes(), (run / "train_log.jsonl").read_text()
    again = CoTrainer(config, run).train(resume=True)  # finished with these settings: nothing to train
    assert (again.model_path, again.seconds, again.last) == (first.model_path, first.seconds, first.last)
    assert (run / "model" / "model.safetensors").read_bytes() == weights
    assert (run / "train_log.jsonl").read_text() == log
    # other settings in the same folder would replace the finished model: only with overwrite
    shorter = dataclasses.replace(config, steps=2, checkpoint_every=0)
    for resume in (False, True):
        with pytest.raises(OutputError, match="holds the finished model of an earlier run.*add --overwrite"):
            CoTrainer(shorter, run).train(resume=resume)
        assert (run / "model" / "model.safetensors").read_bytes() == weights
        assert (run / "train_log.jsonl").read_text() == log
    other = CoTrainer(shorter, run).train(overwrite=True)
    assert other.steps == 2 and len((run / "train_log.jsonl").read_text().splitlines()) == 2


def test_a_folder_babelir_did_not_write_is_refused_and_resume_keeps_its_settings(tmp_path):
    config = small_config(write_data(tmp_path / "data"), steps=8, prune_checkpoints=False)
    own = tmp_path / "project"
    (own / "model").mkdir(parents=True)
    (own / "model" / "weights.bin").write_bytes(b"mine")
    with pytest.raises(OutputError, match="project: holds files that babelir did not write"):
        CoTrainer(config, own).train()
    assert (own / "model" / "weights.bin").read_bytes() == b"mine" and not (own / "config.yaml").exists()
    # a folder of step-* folders without babelir's trainer state is not a copied checkpoint either
    lookalike = tmp_path / "lookalike"
    (lookalike / "checkpoints" / "step-0000004").mkdir(parents=True)
    (lookalike / "checkpoints" / "step-0000004" / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="lookalike: holds files that babelir did not write"):
        CoTrainer(config, lookalike).train(resume=True)
    killed = tmp_path / "killed"  # stopped while writing its config.yaml: only atomic_open's hidden file
    killed.mkdir()
    (killed / ".config.yaml.x1y2.tmp").write_text("backbone: ti")
    CoTrainer(dataclasses.replace(config, steps=2), killed).train()
    run = tmp_path / "run"
    CoTrainer(config, run).train()  # its checkpoints are kept (prune_checkpoints off)
    with pytest.raises(DataError, match=r"checkpoints were trained with other settings \(learning_rate\)"):
        CoTrainer(dataclasses.replace(config, learning_rate=1e-3), run).train(resume=True)
    # where it computes and how it reports may change: the finished model is handed back
    assert CoTrainer(dataclasses.replace(config, num_threads=2), run).train(resume=True).steps == 8


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    assert wa.keys() == wb.keys()
    # An attention key bias has exactly zero gradient (softmax over keys ignores the constant q.b_k it
    # adds), so AdamW moves it by normalised float noise: it agrees only to ~1e-6, not to rounding.
    differ = {
        name: float((wa[name] - wb[name]).abs().max())
        for name in wa
        if not torch.allclose(wa[name], wb[name], rtol=1e-5, atol=1e-5 if name.endswith("key.bias") else 1e-6)
    }
    assert not differ, f"max |difference| per differing tensor: {differ}"


@pytest.mark.slow
@pytest.mark.parametrize(("caching", "columns"), [([], False), (["--mini-batch-size", "3"], False), ([], True)],
                         ids=["plain", "gradient-caching", "memory-mapped-data"])
def test_sigkill_mid_run_then_resume_matches_uninterrupted_run(tmp_path, caching, columns, monkeypatch):
    if columns:  # every file read as memory-mapped columns (babelir.data.columnar), in the child processes too
        monkeypatch.setenv("BABELIR_COLUMNAR_BYTES", "1")
    data = write_data(tmp_path / "data")
    args = ["--backbone", "tiny", "--steps", "16", "--batch-size", "8", "--aux-batch-size", "8",
            "--learning-rate", "5e-4", "--warmup-steps", "1", "--checkpoint-every", "4", "--no-progress",
            "--num-threads", "1", "--seed", "7", *caching,
            "--retrieval", *data["retrieval"], "--parallel", *data["parallel"], "--nonparallel", *data["nonparallel"]]
    cmd = [sys.executable, "-m", "babelir", "train", *args]
    subprocess.run([*cmd, "--output", str(tmp_path / "full")], check=True, capture_output=True)
    run = tmp_path / "killed"
    # the trainer's fault hook kills it right after checkpoint 8 is written: no polling, no race
    killed = subprocess.run([*cmd, "--output", str(run)], capture_output=True,
                            env={**os.environ, KILL_AFTER_CHECKPOINT: "8"})
    assert killed.returncode == -signal.SIGKILL and (run / "checkpoints" / "step-0000008").is_dir()
    assert not (run / "model").exists()
    subprocess.run([*cmd, "--output", str(run), "--resume"], check=True, capture_output=True)
    assert_same_weights(tmp_path / "full" / "model", run / "model")
    steps = [json.loads(line)["step"] for line in (run / "train_log.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 17))


def test_alternate_aux_prompt_switches_the_auxiliary_side_each_step(tmp_path):
    trainer = CoTrainer(small_config(write_data(tmp_path / "data"), aux_prompt="alternate"), tmp_path / "run")
    query, document = trainer.prompts["query"], trainer.prompts["document"]
    assert query and document and query != document
    for step, prompt in [(0, query), (1, document), (2, query)]:
        columns = trainer.columns(step)
        assert all(text.startswith(query) for text in columns[0])  # queries keep the query prompt
        for column in columns[2:]:  # source, translation, nonparallel: one prompt per step
            assert all(text.startswith(prompt) for text in column), (step, column[:2])


def test_late_interaction_training_lowers_its_loss_and_records_how_to_score(tmp_path):
    from babelir.data.errors import DataError
    from babelir.evaluation.retrieval.loading import load_retriever
    from babelir.evaluation.retrieval.retrievers import LateInteractionRetriever

    config = small_config(write_data(tmp_path / "data"), steps=30, checkpoint_every=0, freeze_word_embeddings=False,
                          language_weight=1.0, retriever="late-interaction")
    result = CoTrainer(config, tmp_path / "run").train()
    log = [json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    first = sum(r["retrieval"] for r in log[:5]) / 5
    last = sum(r["retrieval"] for r in log[-5:]) / 5
    assert last < first, (first, last)
    assert all("language" in r for r in log)
    record = json.loads((result.model_path / "babelir_training.json").read_text())
    assert record["config"]["retriever"] == "late-interaction"
    assert record["loss"]["retrieval_loss"] == "LateInteractionInfoNCELoss"
    assert "late-interaction" in (result.model_path / "README.md").read_text()
    assert isinstance(load_retriever(str(result.model_path)), LateInteractionRetriever)
    with pytest.raises(DataError, match="retriever: must be one of dense, late-interaction"):
        small_config({}, retriever="colbert")
