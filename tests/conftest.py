"""Fixtures shared across test folders: a small corpus and a flat index of it on the tiny backbone."""

from __future__ import annotations

from pathlib import Path

import pytest

from babelir.index import build_index
from tests.index.helpers import write_corpus


@pytest.fixture(scope="session")
def corpus_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus") / "corpus.jsonl")


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory, corpus_file: Path) -> Path:
    """A flat index of the 25-document corpus, 3 shards of 10 (built once per session for index and serve)."""
    out = tmp_path_factory.mktemp("index") / "idx"
    build_index("tiny", corpus_file, out, shard_size=10)
    return out
