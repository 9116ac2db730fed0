"""``babelir index merge``: interleave the shards of a split build back into corpus order, build one
faiss index over them and fit the language statistics over the merged rows.

Why corpus order: the merged folder then holds the same rows, in the same order, as ``babelir index``
on one machine (same ids, same IVF-PQ training sample, same HNSW insertion order, same statistics), so it
returns the same results (:mod:`babelir.index.shards` says how the shards split the corpus).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from babelir.data.errors import DataError
from babelir.encoding.neutral import NeutralSettings
from babelir.index.ann import AnnSettings, build_from_shards, resolved, write_index
from babelir.index.corpus import Document
from babelir.index.folders import build_lock, check_writable, claim
from babelir.index.layout import (
    DOCS_FILE,
    INDEX_FILE,
    MANIFEST,
    SHARDS_DIR,
    index_manifest,
    plan_path,
    write_shard,
)
from babelir.index.lexical import build_lexical
from babelir.index.shardfolder import ShardFolder
from babelir.index.shards import Found, check_shards
from babelir.index.store import DocWriter
from babelir.utils.atomic import atomic_directory, atomic_write_json
from babelir.utils.errors import IndexFileError

Say = Callable[[str], None]


def merge_shards(
    folders: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    settings: AnnSettings | None = None,
    chunk_size: int = 10_000,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
    neutral: NeutralSettings | None = None,
    encoding: MergeEncoding | None = None,
    lexical: bool = False,
) -> dict[str, Any]:
    """Merge shard folders into one index folder at ``out``; returns its manifest.

    Memory stays at one chunk of ``chunk_size`` rows plus the faiss index being built: embeddings are
    read through mmap and written back in corpus order as ordinary shard files of ``chunk_size`` rows.

    ``neutral``: fit the language statistics over the merged rows, as a one-machine ``babelir index``
    fits them (a shard has none of its own). The query side's sample is encoded again, with the model
    the shards were encoded with (``encoding.model``, default the path their plan records; its
    fingerprint must match). Where that model is not on this machine the index is merged without
    statistics, and the manifest and the progress say why. ``lexical``: build the BM25 part over the
    merged rows (:mod:`babelir.index.lexical`), as ``babelir index --lexical`` does.
    """
    say, out = progress or (lambda msg: None), Path(out)
    found = check_shards([Path(f) for f in folders])
    if out.resolve() in {folder.resolve() for _, folder, _ in found}:
        raise DataError(out, None, "is one of the shard folders being merged; choose another OUT")
    with build_lock(out):
        if out.exists():
            if not overwrite:
                raise IndexFileError(out, None, "already exists; pass --overwrite to replace it")
            check_writable(out)  # only an index folder babelir wrote is replaced, once the new one is built
        with atomic_directory(out) as tmp:
            manifest = _merge_into(tmp, found, settings or AnnSettings(), chunk_size, say, neutral,
                                   encoding or MergeEncoding(), lexical)
    say(f"wrote {out / MANIFEST}")
    return manifest


@dataclass(frozen=True)
class MergeEncoding:
    """How ``index merge`` encodes the query side's sample of the language statistics."""

    model: str | None = None  # None: the model path the shards' plan records
    backend: str = "torch"
    device: str = "auto"
    batch_size: int = 32


def _merge_into(
    tmp: Path, found: list[Found], settings: AnnSettings, chunk_size: int, say: Say,
    neutral: NeutralSettings | None = None, encoding: MergeEncoding | None = None, lexical: bool = False,
) -> dict[str, Any]:
    """Write the merged index folder into the empty folder ``tmp`` (swapped in by the caller)."""
    count = found[0][0].shard_count
    first = found[0][2]
    total = sum(int(m["counts"]["documents"]) for _, _, m in found)
    dim = int(first["counts"]["dimension"])
    readers: list[ShardFolder] = []
    claim(tmp)
    (tmp / SHARDS_DIR).mkdir(parents=True)
    writer = DocWriter(tmp / DOCS_FILE)
    t0 = time.perf_counter()
    try:
        readers.extend(ShardFolder(folder, manifest) for _, folder, manifest in found)
        files = []
        for number, start in enumerate(range(0, total, chunk_size)):
            stop = min(start + chunk_size, total)
            emb = np.empty((stop - start, dim), dtype=np.float32)
            docs: list[Document | None] = [None] * (stop - start)
            for shard, reader in enumerate(readers):
                # global rows g in [start, stop) with g % count == shard are local rows lo..hi of `shard`
                lo = (start - shard + count - 1) // count
                hi = (stop - shard + count - 1) // count
                if lo >= hi:
                    continue
                first_row = lo * count + shard - start
                emb[first_row::count][: hi - lo] = reader.embeddings(lo, hi)
                for k, doc in enumerate(reader.documents(lo, hi)):
                    docs[first_row + k * count] = doc
            file, sha256 = write_shard(tmp, number, emb)
            files.append(file)
            writer.add_shard(number, start, docs, sha256)  # type: ignore[arg-type]
            say(f"merged rows {start}..{stop - 1} of {total}")
    finally:
        writer.close()
        for reader in readers:
            reader.close()
    final = resolved(settings, total, dim)
    say(f"building {final.index_type} index over {total} vectors of dimension {dim}")
    t1 = time.perf_counter()
    write_index(build_from_shards(final, files, total, dim), tmp / INDEX_FILE)
    plan = _merged_plan(found, chunk_size)
    seconds = {"merge": round(t1 - t0, 3), "index": round(time.perf_counter() - t1, 3)}
    statistics = None
    if neutral is not None:
        statistics = _fit_merged(tmp, plan, neutral, final, len(files), total, encoding or MergeEncoding(), say)
        if statistics.get("file"):
            seconds["neutralization"] = statistics["seconds"]
    lexical_entry = build_lexical(tmp, total, say) if lexical else None
    if lexical_entry is not None:
        seconds["lexical"] = lexical_entry["seconds"]
    # build.json as a one-machine build writes it: re-running `babelir index` on the merged folder with
    # another --index-type (and --shard-size equal to chunk_size) rebuilds only the faiss index
    atomic_write_json(plan_path(tmp), plan)
    manifest = index_manifest(
        plan,
        corpus_sha256=first["corpus"]["sha256"],
        settings=final,
        documents=total,
        shards=len(files),
        dimension=dim,
        build_seconds=seconds,
        merged_from=[{"folder": str(folder), **spec.to_dict()} for spec, folder, _ in found],
        neutralization=statistics,
        lexical=lexical_entry,
    )
    atomic_write_json(tmp / MANIFEST, manifest)
    return manifest


def _fit_merged(
    folder: Path, plan: dict[str, Any], neutral: NeutralSettings, ann: AnnSettings, shards: int, rows: int,
    encoding: MergeEncoding, say: Say,
) -> dict[str, Any]:
    """The merged index's language statistics (its manifest entry), fitted as a one-machine build fits them."""
    from babelir.identity import model_fingerprint
    from babelir.index.neutral import fit_index_neutralizer, sample_encoder, without_neutralization

    recorded = plan.get("model", {})
    path = Path(encoding.model or recorded.get("path", ""))
    if not path.is_dir():
        return without_neutralization(neutral, f"the model the shards were encoded with is not at {path} "
                                      "(give it with --model)", say)
    if recorded.get("sha256") and model_fingerprint(path) != recorded["sha256"]:
        raise DataError(path, None, "is not the model the shards were encoded with (its fingerprint differs); "
                        "give that model with --model, or --neutralization none")

    encode_sample = sample_encoder(str(path), encoding.backend, encoding.device, encoding.batch_size)
    return fit_index_neutralizer(folder, neutral, ann, shards, rows, encode_sample, say)


def _merged_plan(found: list[Found], chunk_size: int) -> dict[str, Any]:
    """The build plan of a one-machine build: shard 0's plan without its shard and with the new chunking."""
    folder, manifest = found[0][1], found[0][2]
    plan_file = plan_path(folder)
    if plan_file.is_file():
        plan = json.loads(plan_file.read_text(encoding="utf-8"))
    else:
        keys = ("format", "model", "corpus", "encoding")
        plan = {k: manifest[k] for k in keys}
        plan["corpus"] = {k: v for k, v in plan["corpus"].items() if k != "sha256"}
    plan.pop("shard", None)
    plan["encoding"] = {**plan["encoding"], "shard_size": chunk_size}
    return plan
