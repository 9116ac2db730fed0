"""``babelir index``: stream a corpus, encode it in shards, build a faiss index, write a manifest.

The folder layout is in :mod:`babelir.index.layout`.

Crash safety and resume: a shard's ``.npy`` is written atomically first, then its documents and the
line "shard N is finished" are committed to SQLite in one transaction. A restarted build trusts exactly
the shards in that ledger whose ``.npy`` has the right number of rows, skips that many documents of the
stream and goes on. The embeddings are kept, so ``--index-type`` can be changed later without encoding
again (the same command with another type rebuilds only the faiss index).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from babelir.data.errors import DataError
from babelir.index.ann import AnnSettings, build_from_shards, resolved, write_index
from babelir.index.corpus import CorpusReader, Document, passage
from babelir.index.layout import (
    DOCS_FILE,
    FORMAT,
    INDEX_FILE,
    MANIFEST,
    SHARDS_DIR,
    index_entry,
    index_manifest,
    plan_path,
    shard_path,
    write_shard,
)
from babelir.index.search import shared_encoder
from babelir.index.shards import ShardSpec
from babelir.index.store import DocWriter
from babelir.utils.atomic import atomic_write_json

log = logging.getLogger(__name__)

PROGRESS_EVERY = 2048  # documents between progress lines inside a shard


class BuildInterrupted(RuntimeError):
    """Raised when ``stop_after_shards`` ends a build early (tests, or a job split over several runs)."""


def _chunks(docs: Iterator[Document], size: int) -> Iterator[list[Document]]:
    while chunk := list(islice(docs, size)):
        yield chunk


def _valid_shards(out: Path, writer: DocWriter, dim: int | None) -> tuple[int, int]:
    """Number of trusted finished shards and the documents they hold; the unfinished tail is dropped."""
    done, start = 0, 0
    for shard, first, count in writer.finished_shards():
        path = shard_path(out, shard)
        ok = shard == done and first == start and path.is_file()
        if ok:
            emb = np.load(path, mmap_mode="r")
            ok = emb.shape[0] == count and (dim is None or emb.shape[1] == dim)
        if not ok:
            break
        done, start = done + 1, start + count
    writer.truncate(done, start)
    return done, start


def _identity(plan: dict[str, Any]) -> dict[str, Any]:
    """What must match for shards on disk to be reused: model content, corpus, encoding settings.

    The model's path is left out: the same backbone may sit in another cache folder on resume.
    """
    model = {k: v for k, v in plan.get("model", {}).items() if k != "path"}
    return {**plan, "model": model}


def build_index(
    model_name: str,
    corpus: str | os.PathLike,
    out: str | os.PathLike,
    *,
    settings: AnnSettings | None = None,
    shard_size: int = 10_000,
    batch_size: int = 32,
    backend: str = "torch",
    overwrite: bool = False,
    stop_after_shards: int | None = None,
    progress: Callable[[str], None] | None = None,
    sharding: ShardSpec | None = None,
) -> dict[str, Any]:
    """Build (or resume, or re-index) the index of ``corpus`` under ``out``; returns the manifest.

    ``stop_after_shards`` stops after that many newly finished shards with :class:`BuildInterrupted`:
    this is how tests simulate a crash, and how a huge corpus can be encoded over several jobs.
    ``sharding`` keeps every n-th document only (``--shard-id/--shard-count``; merge with
    :func:`babelir.index.shards.merge_shards`): the way to encode one corpus on several machines.
    """
    from babelir.backbones import resolve_backbone
    from babelir.encoding import encode
    from babelir.identity import model_fingerprint, trained_retriever

    settings = settings or AnnSettings()
    say = progress or (lambda msg: log.info(msg))
    out = Path(out)
    reader = CorpusReader(corpus)
    model_path = Path(resolve_backbone(model_name))
    if trained_retriever(model_path) == "late-interaction":
        # a faiss index holds one vector per document: say what the late-interaction model loses here
        say(f"note: {model_name} was trained for late interaction (MaxSim over token vectors); this index "
            "holds its pooled vector, which only the auxiliary losses trained. Evaluate it with "
            "`babelir evaluate` (MaxSim) to see what it does as trained.")
    plan = {
        "format": FORMAT,
        "model": {
            "name": str(model_name),  # a Path from the Python API too
            "path": str(model_path.resolve()),
            "sha256": model_fingerprint(model_path),
        },
        "corpus": reader.fingerprint(),
        "encoding": {"shard_size": shard_size, "backend": backend, "role": "document", "normalize": True},
        **({"shard": sharding.to_dict()} if sharding else {}),  # identity: a resume keeps its shard
    }
    if overwrite and out.exists():
        import shutil

        shutil.rmtree(out)
    (out / SHARDS_DIR).mkdir(parents=True, exist_ok=True)
    plan_file = plan_path(out)
    if plan_file.is_file():
        previous = json.loads(plan_file.read_text(encoding="utf-8"))
        if _identity(previous) != _identity(json.loads(json.dumps(plan))):
            changed = sorted(k for k in plan if _identity(previous).get(k) != _identity(plan).get(k))
            raise DataError(
                out,
                None,
                f"holds a build of another {'/'.join(changed)}; pass --overwrite to replace it or choose another folder",
            )
    else:
        atomic_write_json(plan_file, plan)
    manifest_path = out / MANIFEST
    if manifest_path.is_file():
        previous = json.loads(manifest_path.read_text(encoding="utf-8"))
        counts = previous.get("counts", {})
        wanted = resolved(settings, int(counts.get("documents", 0)), int(counts.get("dimension", 0)))
        if index_entry(wanted) == previous.get("index"):
            say(f"{out} is already complete (same model, corpus and settings)")
            return previous

    writer = DocWriter(out / DOCS_FILE)
    try:
        done, start = _valid_shards(out, writer, None)
        model = None
        shard, row, new = done, start, 0
        t0 = time.perf_counter()
        stream = sharding.select(reader) if sharding else iter(reader)  # every n-th document (shards.py)
        if start:
            say(f"resuming after {done} finished shards ({start} documents)")
            for _ in islice(stream, start):  # skipped documents still feed the corpus hash
                pass
        for docs in _chunks(stream, shard_size):
            if stop_after_shards is not None and new >= stop_after_shards:
                raise BuildInterrupted(f"stopped after {new} new shards as asked")
            if model is None:
                model = shared_encoder(str(model_path), backend)
                t0 = time.perf_counter()  # rates count encoding only, not loading
            texts = [passage(d) for d in docs]
            parts = []
            for i in range(0, len(texts), PROGRESS_EVERY):  # length-sorted within each slice
                parts.append(
                    encode(model, texts[i : i + PROGRESS_EVERY], role="document", batch_size=batch_size)
                )
                if len(texts) > PROGRESS_EVERY:
                    done_now = row - start + min(i + PROGRESS_EVERY, len(texts))
                    rate = done_now / max(time.perf_counter() - t0, 1e-9)
                    say(
                        f"  shard {shard}: {min(i + PROGRESS_EVERY, len(texts))}/{len(texts)} ({rate:.1f} docs/s)"
                    )
            emb = np.concatenate(parts)
            write_shard(out, shard, emb)
            writer.add_shard(shard, row, docs)
            shard, row, new = shard + 1, row + len(docs), new + 1
            rate = (row - start) / max(time.perf_counter() - t0, 1e-9)
            say(f"shard {shard - 1}: {row} documents encoded ({rate:.1f} docs/s)")
    finally:
        writer.close()
    if row == 0:
        raise DataError(reader.spec, None, "the corpus holds no documents")

    shards = [shard_path(out, i) for i in range(shard)]
    dim = int(np.load(shards[0], mmap_mode="r").shape[1])
    final = resolved(settings, row, dim)
    say(f"building {final.index_type} index over {row} vectors of dimension {dim}")
    t1 = time.perf_counter()
    index = build_from_shards(final, shards, row, dim)
    write_index(index, out / INDEX_FILE)
    written = index_manifest(
        plan,
        corpus_sha256=reader.sha256,
        settings=final,
        documents=row,
        shards=shard,
        dimension=dim,
        build_seconds={"index": round(time.perf_counter() - t1, 3)},
    )
    atomic_write_json(out / MANIFEST, written)
    say(f"wrote {out / MANIFEST}")
    return written
