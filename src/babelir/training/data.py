"""The three training streams, from user files or, stream by stream, from the embedded default.

A stream left empty in the config (``retrieval``, ``parallel``, ``nonparallel``) comes from the
embedded default built from installed packages (:mod:`babelir.data.defaults`), so a user with only
English retrieval data still gets the Bible's parallel and non-parallel text for the auxiliary losses.

File specs:
- retrieval: ``FILE.jsonl``, ``FILE.tsv`` or a BEIR folder (``qrels/train.tsv``);
- parallel: ``FILE.tsv`` (header ``en<TAB>de`` or ``source/target[/source_lang/target_lang]``; without a
  header the languages are ``--language`` and the file's language suffix) or two aligned text files
  ``LANG:FILE,LANG:FILE`` (e.g. ``en:europarl.en,de:europarl.de``);
- nonparallel: ``FILE.jsonl`` with ``text`` and ``language`` fields, or ``LANG:FILE`` (one per line).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babelir.data.columnar import Concatenated, HFRows, cached_columns, is_hf_folder
from babelir.data.errors import DataError
from babelir.data.readers import (
    ParallelPair,
    RetrievalExample,
    Sentence,
    read_parallel,
    read_retrieval,
    read_sentences,
)
from babelir.training.config import TrainConfig

# Files at least this big are read once into memory-mapped columns (babelir.data.columnar) instead of lists
COLUMNAR_BYTES = 64 * 2**20


@dataclass
class TrainingData:
    retrieval: Sequence[RetrievalExample]
    parallel: Sequence[ParallelPair]
    nonparallel: Sequence[Sentence]
    sources: dict[str, str] = field(default_factory=dict)

    def describe(self) -> list[str]:
        langs = sorted({p.target_lang for p in self.parallel})
        np_langs = sorted({s.language for s in self.nonparallel})
        return [
            f"retrieval: {len(self.retrieval):,} English examples ({self.sources.get('retrieval', '?')})",
            f"parallel: {len(self.parallel):,} pairs, languages {', '.join(langs) or '-'} "
            f"({self.sources.get('parallel', '?')})",
            f"non-parallel: {len(self.nonparallel):,} sentences in {len(np_langs)} languages "
            f"({self.sources.get('nonparallel', '?')})",
        ]


def _split_language(spec: str) -> tuple[str | None, str]:
    head, sep, tail = spec.partition(":")
    if sep and 2 <= len(head) <= 8 and "/" not in head:
        return head, tail
    return None, spec


def _rows(path: str, reader: str, read: Callable[[], Iterable[Any]], record_type: type) -> Sequence[Any]:
    """A file's rows: a list, or for a big file memory-mapped columns built once through the same reader
    (so errors still name FILE:LINE); a ``datasets`` folder is read through ``datasets``."""
    if is_hf_folder(path):
        return HFRows(path, record_type)
    threshold = int(os.environ.get("BABELIR_COLUMNAR_BYTES", COLUMNAR_BYTES))  # the env var: tests, tuning
    if Path(path).is_file() and Path(path).stat().st_size >= threshold:
        return cached_columns(path, reader, read, record_type)
    return list(read())


def _joined(parts: list[Sequence[Any]]) -> Sequence[Any]:
    """One stream from several files: a plain list when every part is one (small files), else a view."""
    if all(isinstance(part, list) for part in parts):
        return [row for part in parts for row in part]
    return parts[0] if len(parts) == 1 else Concatenated(parts)


def _parallel(spec: str, config: TrainConfig) -> Sequence[ParallelPair]:
    if "," in spec:
        left, right = spec.split(",", 1)
        (src_lang, src), (tgt_lang, tgt) = _split_language(left), _split_language(right)
        if not src_lang or not tgt_lang:
            raise DataError(spec, None, "aligned parallel files are given as LANG:FILE,LANG:FILE")
        return list(read_parallel(src, tgt, source_lang=src_lang, target_lang=tgt_lang))
    return _rows(spec, f"parallel:{config.language}", lambda: read_parallel(spec, source_lang=config.language),
                 ParallelPair)


def _sentences(spec: str) -> Sequence[Sentence]:
    language, path = _split_language(spec)
    rows = _rows(path, f"sentences:{language}", lambda: read_sentences(path, language), Sentence)
    return _nonempty(path, rows, "non-parallel sentences", "--nonparallel")


def _nonempty(path: str, rows: Sequence[Any], what: str, flag: str) -> Sequence[Any]:
    """A file the user named must give rows: falling back to the embedded default (or training on
    nothing) would train on other data than the command and its training record say."""
    if not rows:
        raise DataError(
            path, None, f"no {what}: the file is empty (or holds only blank lines or a header); fill it, "
            f"or leave out {flag} to train on the embedded default data"
        )
    return rows


def load_training_data(config: TrainConfig) -> TrainingData:
    """The three streams; a stream with no named file comes from the embedded default, and a named file
    that yields no rows is a :class:`DataError` naming it."""
    retrieval = _joined([
        _nonempty(path, _rows(path, "retrieval", lambda path=path: read_retrieval(path), RetrievalExample),
                  "retrieval examples", "--retrieval")
        for path in config.retrieval
    ])
    parallel = _joined([_nonempty(spec, _parallel(spec, config), "parallel pairs", "--parallel")
                        for spec in config.parallel])
    nonparallel = _joined([_sentences(spec) for spec in config.nonparallel])
    sources = {
        "retrieval": ", ".join(config.retrieval),
        "parallel": ", ".join(config.parallel),
        "nonparallel": ", ".join(config.nonparallel),
    }
    if not (config.retrieval and config.parallel and config.nonparallel):
        default = _default(config)
        if not config.retrieval:
            retrieval, sources["retrieval"] = default.retrieval, default.sources["retrieval"]
        if not config.parallel:
            parallel, sources["parallel"] = default.parallel, default.sources["parallel"]
        if not config.nonparallel:
            nonparallel, sources["nonparallel"] = default.nonparallel, default.sources["nonparallel"]
    for stream, rows, batch in (("retrieval", retrieval, config.batch_size),
                                ("parallel", parallel, config.aux_batch_size),
                                ("nonparallel", nonparallel, config.aux_batch_size)):
        if len(rows) < batch:  # the batcher cannot fill one batch: say which data and which setting
            setting = "--batch-size" if stream == "retrieval" else "--aux-batch-size"
            raise DataError(sources[stream], None, f"{len(rows)} {stream} rows, fewer than one batch of {batch}; "
                            f"add data or lower {setting}")
    if config.num_negatives:
        short = next((i for i, ex in enumerate(retrieval) if len(ex.negatives) < config.num_negatives), None)
        if short is not None:
            raise DataError(
                sources["retrieval"], None,
                f"num_negatives={config.num_negatives} but retrieval example {short + 1} has "
                f"{len(retrieval[short].negatives)} negatives",
            )
    return TrainingData(retrieval, parallel, nonparallel, sources)


def _default(config: TrainConfig) -> TrainingData:
    from babelir.data import defaults
    from babelir.data.sources import bible

    built = defaults.build_default_data(
        parallel_languages=tuple(config.parallel_languages),
        parallel_pairs_per_language=config.parallel_pairs_per_language,
        nonparallel_languages=tuple(config.nonparallel_languages or bible.LANGUAGES),
        nonparallel_per_language=config.nonparallel_per_language,
        seed=0,  # the data sample is fixed; --seed varies initialisation, dropout and batch order
    )
    return TrainingData(
        retrieval=list(built.retrieval_examples(config.retrieval_sources)),
        parallel=list(read_parallel(built.parallel_path)),
        nonparallel=list(read_sentences(built.nonparallel_path)),
        sources={
            "retrieval": "embedded default: " + (
                ", ".join(config.retrieval_sources) + " rows"
                if config.retrieval_sources
                else "English Wikipedia vital articles + Old Testament cross references"
            ),
            "parallel": "embedded default: Old Testament verses, English <-> " + ", ".join(config.parallel_languages),
            "nonparallel": "embedded default: Old Testament verses, non-aligned across languages",
        },
    )
