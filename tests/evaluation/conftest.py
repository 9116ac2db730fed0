"""Fixtures for evaluation tests: the tiny backbone and tiny BEIR folders written by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# A 2-language toy set: each query has one relevant document, in its own language. Words overlap
# between a query and its document, so BM25 must rank the right one first.
DOCS = {
    "en-cat": ("en", "The cat sleeps on the warm mat all afternoon."),
    "en-rain": ("en", "Heavy rain flooded the streets of the old town."),
    "en-bread": ("en", "Fresh bread is baked every morning in the village bakery."),
    "de-katze": ("de", "Die Katze schläft den ganzen Nachmittag auf der warmen Matte."),
    "de-regen": ("de", "Starker Regen überflutete die Straßen der Altstadt."),
    "de-brot": ("de", "Frisches Brot wird jeden Morgen in der Dorfbäckerei gebacken."),
}
QUERIES = {
    "q-en-cat": ("en", "where does the cat sleep", "en-cat"),
    "q-en-rain": ("en", "rain flooded streets", "en-rain"),
    "q-de-brot": ("de", "frisches Brot am Morgen", "de-brot"),
    "q-de-regen": ("de", "Regen in der Altstadt", "de-regen"),
}


def write_beir_by_hand(folder: Path, sidecar: dict | None = None) -> Path:
    """Write a BEIR folder with plain file writes (not babelir's writer): what a user would bring."""
    (folder / "qrels").mkdir(parents=True)
    with open(folder / "corpus.jsonl", "w", encoding="utf-8") as f:
        for doc_id, (_, text) in DOCS.items():
            f.write(json.dumps({"_id": doc_id, "title": "", "text": text}, ensure_ascii=False) + "\n")
    with open(folder / "queries.jsonl", "w", encoding="utf-8") as f:
        for qid, (_, text, _) in QUERIES.items():
            f.write(json.dumps({"_id": qid, "text": text}, ensure_ascii=False) + "\n")
    with open(folder / "qrels" / "test.tsv", "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for qid, (_, _, doc) in QUERIES.items():
            f.write(f"{qid}\t{doc}\t1\n")
    if sidecar is not None:
        (folder / "babelir.json").write_text(json.dumps(sidecar), encoding="utf-8")
    return folder


@pytest.fixture()
def beir_folder(tmp_path: Path) -> Path:
    return write_beir_by_hand(tmp_path / "toy")


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly built ``tiny`` backbone (random weights, real e5 tokenizer)."""
    from babelir.backbones.tiny import build_tiny

    return build_tiny(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def tiny_encoder(tiny_dir: Path):
    """One loaded tiny model for the whole session (loading is the slow part)."""
    from babelir.evaluation.retrieval.encoders import SentenceTransformerEncoder

    return SentenceTransformerEncoder.load(str(tiny_dir))
