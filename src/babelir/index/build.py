"""``babelir index``: stream a corpus, encode it in shards, build a faiss index, write a manifest.

The folder layout is in :mod:`babelir.index.layout`.

Crash safety and resume: a shard's ``.npy`` is written atomically first, then its documents, its
checksum and the line "shard N is finished" are committed to SQLite in one transaction. A restarted
build trusts the shards of that ledger whose file passes its header, size and checksum checks (a damaged
one is re-encoded, from it onwards, with a warning naming it), skips their documents and goes on. The
embeddings are kept, so ``--index-type`` can be changed later without encoding again.

A rerun after a failure needs no ``--overwrite``: the same plan (``shards/build.json``: model, corpus,
encoding) resumes; a changed corpus (a bad line fixed) keeps the finished shards whose documents it
still holds unchanged (compared while skipped); another model or encoding starts clean when no shard
was finished, else asks for ``--overwrite``; a run that finished no shard removes what it wrote.
``--overwrite`` builds beside OUT (``.OUT.rebuild``, resumed if interrupted) and swaps it in at the end
(:mod:`babelir.index.folders`); a lock keeps two builds of one OUT apart.

Longer than 350 lines on purpose: the resumable build is one sequence (plan, shards, ledger, index,
statistics) whose steps must agree on what a finished shard is.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any

import numpy as np

from babelir.data.errors import DataError
from babelir.data.langid import LanguageIdentifier
from babelir.encoding.neutral import NeutralSettings
from babelir.index.ann import AnnSettings, build_from_shards, resolved, write_index
from babelir.index.corpus import CorpusReader, Document, passage
from babelir.index.folders import build_lock, check_writable, claim, staging_path, written_by_babelir
from babelir.index.layout import (
    DOCS_FILE,
    FORMAT,
    INDEX_FILE,
    MANIFEST,
    NEUTRAL_FILE,
    NEUTRAL_INDEX_FILE,
    SHARDS_DIR,
    check_shard,
    index_entry,
    index_manifest,
    plan_path,
    rebuild_hint,
    shard_path,
    write_shard,
)
from babelir.index.lexical import build_lexical
from babelir.index.neutral import fit_index_neutralizer, identify_missing, sample_encoder
from babelir.index.search import shared_encoder
from babelir.index.shards import ShardSpec
from babelir.index.store import DocWriter
from babelir.index.validate import checked_manifest
from babelir.utils.atomic import atomic_write_json, replace_directory
from babelir.utils.errors import IndexFileError, check_count
from babelir.utils.ownership import file_sha256

log = logging.getLogger(__name__)

PROGRESS_EVERY = 2048  # documents between progress lines inside a shard


class BuildInterrupted(RuntimeError):
    """Raised when ``stop_after_shards`` ends a build early (tests, or a job split over several runs)."""


@dataclass
class _Job:
    """What one build needs besides its folder (the same for OUT and for its ``--overwrite`` staging)."""

    plan: dict[str, Any]
    reader: CorpusReader
    model_path: Path
    settings: AnnSettings
    shard_size: int
    batch_size: int
    backend: str
    stop_after_shards: int | None
    say: Callable[[str], None]
    sharding: ShardSpec | None
    device: str | None = None  # where the torch backend encodes (None: auto)
    neutral: NeutralSettings | None = None  # language neutralization to fit (None: none)
    lexical: bool = False  # build the BM25 part (babelir.index.lexical)


def _chunks(docs: Iterator[Document], size: int) -> Iterator[list[Document]]:
    while chunk := list(islice(docs, size)):
        yield chunk


def _trusted(folder: Path, writer: DocWriter, checksums: bool) -> tuple[int, int]:
    """Finished shards to trust and the documents they hold. From the first inconsistent or damaged one
    (header, size, recorded row count; with ``checksums``, the recorded sha256: it reads every file, so
    only when the shards are about to be read) the shards are forgotten, to be encoded again."""
    ledger, recorded = writer.finished_shards(), (writer.checksums() if checksums else {})
    done, start, dim = 0, 0, None
    for shard, first, count in ledger:
        path = shard_path(folder, shard)
        if shard != done or first != start:
            break
        try:
            rows, width = check_shard(path)
        except IndexFileError as err:
            log.warning("%s: re-encoding shard %d onwards", err, shard)
            break
        if rows != count or width != (dim or width):
            log.warning("%s: holds %d rows of %d, the ledger says %d: re-encoding it", path, rows, width, count)
            break
        if shard in recorded and file_sha256(path) != recorded[shard]:
            log.warning("%s: altered since it was written (checksum differs): re-encoding it onwards", path)
            break
        done, start, dim = done + 1, start + count, width
    if done < len(ledger):
        (folder / MANIFEST).unlink(missing_ok=True)  # no longer complete: drop the claim before the rows
        writer.truncate(done, start)
    return done, start


def _identity(plan: dict[str, Any]) -> dict[str, Any]:
    """What must match for shards on disk to be reused: model content, corpus, encoding settings.

    The model's path is left out: the same backbone may sit in another cache folder on resume.
    """
    model = {k: v for k, v in plan.get("model", {}).items() if k != "path"}
    return {**plan, "model": model}


def _read_plan(folder: Path, plan: dict[str, Any]) -> dict[str, Any] | None:
    path = plan_path(folder)
    if not path.is_file():
        return None
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as err:
        previous = err
    if not isinstance(previous, dict):
        raise IndexFileError(path, None, f"damaged build plan ({previous}); {rebuild_hint(folder, plan)}")
    return previous


def _reconcile(folder: Path, writer: DocWriter, job: _Job, discard: bool) -> bool:
    """Fit ``folder``'s build state to the job's plan; True when the shards' documents must be compared
    with the (changed) corpus before they are trusted."""
    plan, previous = job.plan, _read_plan(folder, job.plan)
    verify = False
    if previous is not None and _identity(previous) != _identity(plan):
        changed = sorted(k for k in plan.keys() | previous.keys() if _identity(previous).get(k) != _identity(plan).get(k))
        complete = (folder / MANIFEST).is_file()
        if discard or not (complete or writer.finished_shards()):
            job.say(f"{folder}: starting again (the earlier build there was of another {'/'.join(changed)})")
            (folder / MANIFEST).unlink(missing_ok=True)
            writer.truncate(0, 0)
        elif changed == ["corpus"] and not complete:
            verify = True
        else:
            raise IndexFileError(
                folder, None,
                f"holds a build of another {'/'.join(changed)}; pass --overwrite to replace it or choose another folder",
            )
    if previous != plan:
        atomic_write_json(plan_path(folder), plan)
    return verify


def _skip_done(
    stream: Iterator[Document], writer: DocWriter, done: int, start: int, verify: bool
) -> tuple[int, int, Iterator[Document]]:
    """Skip the documents of the trusted shards (they still feed the corpus hash); with ``verify``, the
    shards from the first whose documents the corpus no longer holds unchanged are forgotten."""
    if not verify:
        for _ in islice(stream, start):
            pass
        return done, start, stream
    for shard, first, count in writer.finished_shards()[:done]:
        docs = list(islice(stream, count))
        if [(d.id, d.title, d.text, d.language) for d in docs] != writer.documents(first, first + count):
            writer.truncate(shard, first)
            return shard, first, chain(docs, stream)
    return done, start, stream


def _earlier_plan(folder: Path, plan: dict[str, Any]) -> dict[str, Any] | None:
    """The build plan an earlier build left in ``folder`` (None: none, or damaged: the build reports that)."""
    try:
        return _read_plan(folder, plan)
    except IndexFileError:
        return None


def _complete(folder: Path, settings: AnnSettings, neutral: NeutralSettings | None,
              lexical: bool) -> dict[str, Any] | None:
    """The manifest when ``folder`` already holds this index (the same faiss settings, language
    neutralization and lexical part), intact; a damaged one is rebuilt, and one with other settings is
    rebuilt from its shards (nothing is encoded again)."""
    if not (folder / MANIFEST).is_file():
        return None
    try:
        manifest = checked_manifest(folder)
    except IndexFileError as err:
        log.warning("%s: building the index again from its shards", err)
        (folder / MANIFEST).unlink()
        return None
    counts = manifest["counts"]
    wanted = resolved(settings, int(counts["documents"]), int(counts["dimension"]))
    has = (manifest.get("neutralization") or {}).get("settings")
    if index_entry(wanted) != manifest["index"] or has != (neutral.to_dict() if neutral else None):
        return None
    if lexical != bool(manifest.get("lexical")):
        return None
    return manifest


def _forget_failed(folder: Path, created: bool, writer: DocWriter) -> None:
    """After a failure: a build that finished no shard leaves nothing behind, so a rerun starts clean."""
    try:
        if (folder / MANIFEST).is_file() or writer.finished_shards():
            return  # resumable (or complete): kept
    except IndexFileError:
        return
    writer.close()
    if created:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        (folder / DOCS_FILE).unlink(missing_ok=True)
        shutil.rmtree(folder / SHARDS_DIR, ignore_errors=True)


def _build_folder(folder: Path, job: _Job, discard: bool) -> tuple[dict[str, Any], bool]:
    """Build, resume or re-index in ``folder`` (OUT itself, or the staging folder of ``--overwrite``);
    returns the manifest and whether it was written now (False: the index was already complete)."""
    created = not folder.exists()
    claim(folder)  # first: from here on the folder is babelir's (checked by the caller: missing, empty or ours)
    if not plan_path(folder).is_file():
        atomic_write_json(plan_path(folder), job.plan)
    writer = DocWriter(folder / DOCS_FILE, rebuild_hint(folder, job.plan))
    try:
        verify = _reconcile(folder, writer, job, discard)
        _trusted(folder, writer, checksums=False)
        if (previous := _complete(folder, job.settings, job.neutral, job.lexical)) is not None:
            job.say(f"{folder} is already complete (same model, corpus and settings)")
            return previous, False
        shard, row = _encode(folder, writer, job, *_trusted(folder, writer, checksums=True), verify)
    except BaseException:
        _forget_failed(folder, created, writer)
        raise
    finally:
        writer.close()
    return _finish(folder, job, shard, row), True


def _encode(folder: Path, writer: DocWriter, job: _Job, done: int, start: int, verify: bool) -> tuple[int, int]:
    """Encode the shards not yet finished; returns the number of shards and of documents."""
    stream = job.sharding.select(job.reader) if job.sharding else iter(job.reader)  # every n-th (shards.py)
    if job.plan.get("languages", {}).get("identify_missing"):
        stream = identify_missing(stream, LanguageIdentifier().identify_many)
    if start:
        done, start, stream = _skip_done(stream, writer, done, start, verify)
        job.say(f"resuming after {done} finished shards ({start} documents)")
    model = None
    shard, row, new = done, start, 0
    t0 = time.perf_counter()
    for docs in _chunks(stream, job.shard_size):
        if job.stop_after_shards is not None and new >= job.stop_after_shards:
            raise BuildInterrupted(f"stopped after {new} new shards as asked")
        if model is None:
            model = shared_encoder(str(job.model_path), job.backend, job.device)
            t0 = time.perf_counter()  # rates count encoding only, not loading
        texts = [passage(d) for d in docs]
        parts = []
        for i in range(0, len(texts), PROGRESS_EVERY):  # length-sorted within each slice
            parts.append(model.encode(texts[i : i + PROGRESS_EVERY], "document", job.batch_size))
            if len(texts) > PROGRESS_EVERY:
                done_now = row - start + min(i + PROGRESS_EVERY, len(texts))
                rate = done_now / max(time.perf_counter() - t0, 1e-9)
                job.say(f"  shard {shard}: {min(i + PROGRESS_EVERY, len(texts))}/{len(texts)} ({rate:.1f} docs/s)")
        writer.add_shard(shard, row, docs, write_shard(folder, shard, np.concatenate(parts))[1])
        shard, row, new = shard + 1, row + len(docs), new + 1
        rate = (row - start) / max(time.perf_counter() - t0, 1e-9)
        job.say(f"shard {shard - 1}: {row} documents encoded ({rate:.1f} docs/s)")
    if row == 0:
        raise DataError(job.reader.spec, None, "the corpus holds no documents")
    return shard, row


def _finish(folder: Path, job: _Job, shard: int, row: int) -> dict[str, Any]:
    """Build the faiss index over the shards and write the manifest (last: it marks the index complete)."""
    shards = [shard_path(folder, i) for i in range(shard)]
    for extra in (folder / SHARDS_DIR).glob("*.npy"):  # left by a longer corpus before a resume
        if extra not in shards:
            extra.unlink()
    for stale in (NEUTRAL_FILE, NEUTRAL_INDEX_FILE):  # an earlier build's: refitted below, or not wanted
        (folder / stale).unlink(missing_ok=True)
    dim = check_shard(shards[0])[1]
    final = resolved(job.settings, row, dim)
    job.say(f"building {final.index_type} index over {row} vectors of dimension {dim}")
    t1 = time.perf_counter()
    write_index(build_from_shards(final, shards, row, dim), folder / INDEX_FILE)
    seconds = {"index": round(time.perf_counter() - t1, 3)}
    neutral = None
    if job.neutral is not None:
        encode_sample = sample_encoder(str(job.model_path), job.backend, job.device, job.batch_size)
        neutral = fit_index_neutralizer(folder, job.neutral, final, shard, row, encode_sample, job.say)
        if neutral.get("file"):
            seconds["neutralization"] = neutral["seconds"]
    lexical = None
    if job.lexical:
        lexical = build_lexical(folder, row, job.say)
        seconds["lexical"] = lexical["seconds"]
    written = index_manifest(
        job.plan,
        corpus_sha256=job.reader.sha256,
        settings=final,
        documents=row,
        shards=shard,
        dimension=dim,
        build_seconds=seconds,
        neutralization=neutral,
        lexical=lexical,
    )
    atomic_write_json(folder / MANIFEST, written)
    return written


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
    device: str | None = None,
    neutralization: NeutralSettings | bool = True,
    identify_languages: bool = True,
    lexical: bool = False,
) -> dict[str, Any]:
    """Build (or resume, or re-index) the index of ``corpus`` under ``out``; returns the manifest.

    ``device``: where the torch backend encodes (``auto`` by default: a GPU when torch sees one).

    ``stop_after_shards`` stops after that many newly finished shards with :class:`BuildInterrupted`:
    this is how tests simulate a crash, and how a huge corpus can be encoded over several jobs.
    ``sharding`` keeps every n-th document only (``--shard-id/--shard-count``; merge with
    :func:`babelir.index.merge.merge_shards`): the way to encode one corpus on several machines.
    ``overwrite`` replaces an index folder babelir wrote (never another folder), once the new one is built.
    ``neutralization``: fit language statistics (:mod:`babelir.index.neutral`) with these settings
    (``True``: the shipped default, ``False``: none); ``identify_languages``: give documents without a
    language field the one :mod:`babelir.data.langid` finds. Both are part of the build plan.
    ``lexical``: also build the BM25 part (:mod:`babelir.index.lexical`) for hybrid search; adding or
    dropping it later rebuilds from the shards (nothing is encoded again).
    """
    from babelir.backbones import resolve_backbone
    from babelir.identity import model_fingerprint, trained_retriever

    check_count("shard_size", shard_size)
    check_count("batch_size", batch_size)
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
    if identify_languages:  # recorded: another identifier could store other languages, so a resume checks it
        plan["languages"] = {"identify_missing": f"py3langid {importlib.metadata.version('py3langid')}"}
        earlier = _earlier_plan(Path(out), plan)
        if earlier is not None and "languages" not in earlier and not overwrite:
            # built before babelir identified languages: go on as it was built (its shards stay usable)
            say(f"{out} was built without language identification; documents without a language stay "
                "without one (--overwrite builds it again with identification)")
            del plan["languages"]
    neutral = NeutralSettings() if neutralization is True else (neutralization or None)
    if neutral is not None and sharding is not None:
        say("note: a shard of a split build has no language statistics of its own; 'babelir index merge' "
            "fits them over the merged rows")
        neutral = None
    plan = json.loads(json.dumps(plan))  # as build.json will read back (lists, not tuples)
    job = _Job(plan, reader, model_path, settings or AnnSettings(), shard_size, batch_size, backend,
               stop_after_shards, say, sharding, device, neutral, lexical)
    with build_lock(out):
        check_writable(out)
        if not (overwrite and written_by_babelir(out)):
            manifest, written = _build_folder(out, job, discard=overwrite)
        else:
            staging = staging_path(out)
            check_writable(staging)
            manifest, written = _build_folder(staging, job, discard=True)
            replace_directory(staging, out)
    if written:
        say(f"wrote {out / MANIFEST}")
    return manifest
