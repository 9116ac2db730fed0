"""babelir export: an index's rows and vectors in Parquet and LanceDB, searchable there as babelir searches."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from babelir.cli import main
from babelir.index.export import TABLE, export_index
from babelir.index.search import Index

QUERIES = ["Where does the cat sleep?", "Die Brücke ist zu", "orchestre violon", "rain", "Fondovye rynki"]


def test_lancedb_answers_with_the_same_top_10_as_babelir_search(built_index: Path, tmp_path: Path) -> None:
    lancedb = pytest.importorskip("lancedb")
    out = tmp_path / "docs.lancedb"
    assert export_index(built_index, "lancedb", out) == 25
    table = lancedb.connect(str(out)).open_table(TABLE)
    index = Index.load(built_index, neutralize=False)  # the export holds the raw vectors
    vectors = index.encoder.encode(QUERIES, "query", 8)
    for query, vector, hits in zip(QUERIES, vectors, index.search(QUERIES, k=10), strict=True):
        found = table.search(np.asarray(vector)).distance_type("cosine").limit(10).to_list()
        assert [row["id"] for row in found] == [hit.id for hit in hits], query
    meta = table.schema.metadata
    assert meta[b"babelir.model"] == b"tiny" and "query" in json.loads(meta[b"babelir.prompts"])


def test_parquet_holds_every_row_with_its_language_and_the_models_prompts(built_index: Path, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "docs.parquet"
    assert main(["export", str(built_index), "--to", "parquet", str(out)]) == 0
    assert "wrote 25 documents" in capsys.readouterr().out
    table = pq.read_table(out)
    assert table.column_names == ["id", "title", "text", "language", "vector"] and table.num_rows == 25
    index = Index.load(built_index)
    first = index.store.get([0])[0]
    assert table.column("id")[0].as_py() == first[0] and table.column("language")[0].as_py() == first[3]
    vectors = np.array(table.column("vector").to_pylist(), dtype=np.float32)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert main(["export", str(built_index), "--to", "parquet", str(out)]) == 0  # its own file: replaced
    mine = tmp_path / "mine.parquet"
    mine.write_bytes(b"a user's file")
    assert main(["export", str(built_index), "--to", "parquet", str(mine)]) == 2  # never a file it did not write
    assert mine.read_bytes() == b"a user's file"
