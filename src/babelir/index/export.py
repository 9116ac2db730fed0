"""``babelir export INDEX --to parquet|lancedb OUT``: an index's documents and vectors for other engines.

Each row holds ``id``, ``title``, ``text``, ``language`` and ``vector`` (the document-role embedding,
float32, L2-normalised: cosine and inner product rank alike), in the index's row order. The model's name,
fingerprint and prompts travel as table metadata, because a query must be encoded by the same model with
its *query* prompt (``query: `` for e5) to find anything: LangChain's and LlamaIndex's wrappers, Qdrant
and pgvector clients get it from there. The vectors are the raw ones; an index's language neutralization
(``neutral.npz``) is babelir's own and is not applied (the metadata says whether the index had one).

* ``parquet``: one Parquet file (``pyarrow``; ``pip install "babelir[parquet]"``), written atomically and
  recorded as babelir's (:mod:`babelir.utils.ownership`);
* ``lancedb``: a LanceDB database folder with one table, ``documents`` (``pip install "babelir[lancedb]"``),
  written into a staging folder and swapped in, marked as babelir's.

Memory: one shard of vectors at a time (Parquet row groups; LanceDB batches).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from babelir.index.layout import DOCS_FILE, MANIFEST, read_manifest, shard_path
from babelir.index.store import DocStore
from babelir.utils.errors import DataError

FORMATS = ("parquet", "lancedb")
TABLE = "documents"  # the LanceDB table's name
EXPORT_KIND = "export"  # babelir.utils.ownership's kind of an exported file or folder


def metadata(folder: Path, manifest: dict[str, Any]) -> dict[str, str]:
    """What a reader of the export needs to query it: the model, its prompts, the vectors' meaning."""
    model = manifest.get("model", {})
    prompts: dict[str, str] = {}
    config = Path(model.get("path", "")) / "config_sentence_transformers.json"
    if config.is_file():
        prompts = json.loads(config.read_text(encoding="utf-8")).get("prompts") or {}
    neutral = (manifest.get("neutralization") or {}).get("file")
    return {
        "babelir.model": str(model.get("name", "")),
        "babelir.model_sha256": str(model.get("sha256", "")),
        "babelir.prompts": json.dumps(prompts, ensure_ascii=False),
        "babelir.vectors": "document role, float32, L2-normalised (cosine = inner product); raw: babelir's "
                           f"language neutralization {'exists in the index but is ' if neutral else 'is '}not applied",
        "babelir.index": str(folder),
    }


def batches(folder: Path, manifest: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The index's rows, one shard at a time: ``{id, title, text, language, vector}`` columns."""
    store = DocStore(folder / DOCS_FILE)
    start = 0
    for shard in range(int(manifest["counts"]["shards"])):
        vectors = np.load(shard_path(folder, shard), mmap_mode="r")
        rows = range(start, start + len(vectors))
        docs = store.get(rows)
        yield {
            "id": [docs[r][0] for r in rows],
            "title": [docs[r][1] or "" for r in rows],
            "text": [docs[r][2] for r in rows],
            "language": [docs[r][3] or "" for r in rows],
            "vector": np.asarray(vectors, dtype=np.float32),
        }
        start += len(vectors)


def _arrow_batches(folder: Path, manifest: dict[str, Any]) -> tuple[Any, Iterator[Any]]:
    from babelir.utils.extras import require

    pa = require("pyarrow", "parquet")
    dim = int(manifest["counts"]["dimension"])
    schema = pa.schema([("id", pa.string()), ("title", pa.string()), ("text", pa.string()),
                        ("language", pa.string()), ("vector", pa.list_(pa.float32(), dim))],
                       metadata=metadata(folder, manifest))

    def gen() -> Iterator[Any]:
        for batch in batches(folder, manifest):
            flat = pa.array(batch["vector"].reshape(-1), type=pa.float32())
            vectors = pa.FixedSizeListArray.from_arrays(flat, dim)
            columns = [pa.array(batch[name], type=pa.string()) for name in ("id", "title", "text", "language")]
            yield pa.RecordBatch.from_arrays([*columns, vectors], schema=schema)

    return schema, gen()


def export_index(index: str | os.PathLike, to: str, out: str | os.PathLike) -> int:
    """Write ``index`` as ``to`` (``parquet`` or ``lancedb``) at ``out``; returns the number of rows."""
    from babelir.utils.atomic import atomic_directory, atomic_open
    from babelir.utils.extras import require
    from babelir.utils.ownership import check_file, check_folder, mark_folder, record_file

    if to not in FORMATS:
        raise DataError(None, None, f"--to must be one of {', '.join(FORMATS)}, got {to!r}")
    folder, out = Path(index), Path(out)
    manifest = read_manifest(folder, f"not an index folder (no {MANIFEST}): give a folder babelir index wrote")
    schema, stream = _arrow_batches(folder, manifest)
    if to == "parquet":
        pq = require("pyarrow.parquet", "parquet")
        check_file(out, EXPORT_KIND, "OUT")
        rows = 0
        with atomic_open(out, "wb") as handle, pq.ParquetWriter(handle, schema) as writer:
            for batch in stream:
                writer.write_batch(batch)
                rows += batch.num_rows
        record_file(out, EXPORT_KIND)
        return rows
    lancedb = require("lancedb", "lancedb")
    check_folder(out, EXPORT_KIND, "OUT")
    with atomic_directory(out) as tmp:
        mark_folder(tmp, EXPORT_KIND)
        table = lancedb.connect(str(tmp)).create_table(TABLE, data=stream, schema=schema)
        return table.count_rows()


def register(subparsers: argparse._SubParsersAction) -> None:
    from babelir.utils.commands import add_command

    p = add_command(
        subparsers,
        "export",
        "write an index's documents and vectors to Parquet or LanceDB",
        "Write every document of INDEX (id, title, text, language) with its vector (document role,\n"
        "L2-normalised) to a Parquet file or a LanceDB folder; the model's name and prompts travel as\n"
        "table metadata (a query must be encoded with the same model and its query prompt).\n\n"
        "examples:\n"
        "  babelir export indexes/john --to parquet john.parquet\n"
        "  babelir export indexes/john --to lancedb john.lancedb",
    )
    p.add_argument("index", help="an index folder written by babelir index")
    p.add_argument("--to", required=True, choices=FORMATS, help="parquet (one file) or lancedb (a folder)")
    p.add_argument("out", metavar="OUT", help="the Parquet file or LanceDB folder to write (new, or babelir's)")
    p.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    rows = export_index(args.index, args.to, args.out)
    print(f"wrote {rows} documents to {args.out} ({args.to})")
    return 0
