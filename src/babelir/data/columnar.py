"""Training rows on disk, memory-mapped: files of any size in bounded memory, in file order.

A stream read into Python objects costs hundreds of bytes a row (a million MS MARCO rows: gigabytes).
A :class:`Columns` table keeps each text field as one UTF-8 file plus an int64 offsets file: the offsets
are memory-mapped (8 bytes a row), the text is read with ``pread`` when a row is asked for, so it sits in
the operating system's page cache (shared, reclaimable) and never in the process.
It is built once per input file, *through the same readers* (so a bad line is still ``FILE:LINE``),
under ``<babelir cache>/columns/<hash of path, size, mtime, reader>``, atomically; rows keep the file's
order, so batches, and exact ``--resume``, are the same as from a list.

Why not Hugging Face ``datasets``/Arrow: it is an optional extra of babelir (``train-st``), and these tables
need only numpy, which every install has; a folder saved with ``datasets``' ``save_to_disk`` is read
through ``datasets`` itself (:func:`hf_rows`), already memory-mapped.
"""

from __future__ import annotations

import json
import os
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from babelir.data.errors import DataError
from babelir.utils.atomic import atomic_directory
from babelir.utils.cache import cache_dir, content_hash

T = TypeVar("T")
FORMAT_VERSION = 1
LIST_SEPARATOR = "\x1e"  # ASCII record separator: joins a list field (hard negatives) into one text


class RowSequence(Sequence[T]):
    """A read-only sequence that builds row ``i`` on demand: what every kind below shares (``__len__`` and
    ``_row`` are theirs; indexing, slices, negative indices and iteration are here)."""

    def __len__(self) -> int:
        raise NotImplementedError

    def _row(self, i: int) -> T:
        raise NotImplementedError

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self._row(j) for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._row(i)

    def __iter__(self) -> Iterator[T]:
        return (self._row(i) for i in range(len(self)))


class Columns(RowSequence[T]):
    """Rows of one dataclass type, each text field on disk (see the module docstring)."""

    def __init__(self, folder: Path, record_type: type[T]):
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        self.folder, self.record_type, self.rows = folder, record_type, int(meta["rows"])
        self.lists = set(meta["lists"])
        self._files = {f: os.open(folder / f"{f}.bin", os.O_RDONLY) for f in meta["fields"]}
        self._offsets = {f: np.memmap(folder / f"{f}.idx", dtype=np.int64, mode="r") for f in meta["fields"]}

    def __del__(self) -> None:
        for fd in getattr(self, "_files", {}).values():
            os.close(fd)

    def __len__(self) -> int:
        return self.rows

    def _field(self, name: str, i: int) -> Any:
        start, end = int(self._offsets[name][i]), int(self._offsets[name][i + 1])
        text = os.pread(self._files[name], end - start, start).decode("utf-8") if end > start else ""
        if name in self.lists:
            return tuple(text.split(LIST_SEPARATOR)) if text else ()
        return text

    def _row(self, i: int) -> T:
        return self.record_type(**{name: self._field(name, i) for name in self._offsets})


def build_columns(folder: Path, rows: Iterable[Any], record_type: type, source: str | os.PathLike | None = None) -> None:
    """Write ``rows`` (instances of the dataclass ``record_type``) as a :class:`Columns` folder, streaming;
    ``source`` (the file they were read from) is what an error names."""
    names = [f.name for f in fields(record_type)]
    with atomic_directory(folder) as tmp:
        texts = {n: open(tmp / f"{n}.bin", "wb") for n in names}  # noqa: SIM115 -- closed below
        offsets = {n: open(tmp / f"{n}.idx", "wb") for n in names}  # noqa: SIM115
        position = dict.fromkeys(names, 0)
        pending = {n: array("q", [0]) for n in names}
        lists: set[str] = set()
        count = 0
        try:
            for row in rows:
                for name in names:
                    value = getattr(row, name)
                    if isinstance(value, tuple | list):
                        lists.add(name)
                        if any(LIST_SEPARATOR in v for v in value):
                            raise DataError(source, None, f"row {count + 1}: a {name} text holds the control "
                                            "character \\x1e (ASCII record separator); remove it from the file")
                        value = LIST_SEPARATOR.join(value)
                    data = str(value).encode("utf-8")
                    texts[name].write(data)
                    position[name] += len(data)
                    pending[name].append(position[name])
                    if len(pending[name]) >= 65536:
                        offsets[name].write(pending[name].tobytes())
                        pending[name] = array("q")
                count += 1
            for name in names:
                offsets[name].write(pending[name].tobytes())
        finally:
            for handle in (*texts.values(), *offsets.values()):
                handle.close()
        meta = {"format": FORMAT_VERSION, "rows": count, "fields": names, "lists": sorted(lists),
                "bytes": position, "record": record_type.__name__}
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


def cached_columns(path: str | os.PathLike, reader: str, rows: Callable[[], Iterable[Any]], record_type: type) -> Columns:
    """The :class:`Columns` of ``path`` as ``reader`` reads it, built on first use (keyed by the file's
    path, size and modification time, so an edited file is read again)."""
    stat = Path(path).stat()
    key = content_hash([FORMAT_VERSION, str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns, reader,
                        record_type.__name__])
    folder = cache_dir("columns") / key
    if not (folder / "meta.json").is_file():
        build_columns(folder, rows(), record_type, source=path)
    return Columns(folder, record_type)


class Concatenated(RowSequence[T]):
    """Several sequences read as one, in order (one per training file), without copying them."""

    def __init__(self, parts: list[Sequence[T]]):
        self.parts = [p for p in parts if len(p)]
        self.starts = np.cumsum([0] + [len(p) for p in self.parts])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def _row(self, i: int) -> T:
        part = int(np.searchsorted(self.starts, i, side="right")) - 1
        return self.parts[part][i - int(self.starts[part])]

    def __iter__(self) -> Iterator[T]:
        for part in self.parts:  # part by part: each part's own (faster) iteration
            yield from part


def is_hf_folder(path: str | os.PathLike) -> bool:
    """A folder written by ``datasets``' ``save_to_disk`` (a ``Dataset``, not a ``DatasetDict``)."""
    folder = Path(path)
    return folder.is_dir() and (folder / "dataset_info.json").is_file() and (folder / "state.json").is_file()


class HFRows(RowSequence[T]):
    """The rows of a ``datasets`` folder as ``record_type`` instances (Arrow, memory-mapped by ``datasets``)."""

    def __init__(self, folder: str | os.PathLike, record_type: type[T]):
        from babelir.utils.extras import require

        datasets = require("datasets", "train-st", "training from a datasets folder")
        self.folder = Path(folder)
        self.dataset = datasets.load_from_disk(str(folder))
        self.record_type = record_type
        wanted = [f for f in fields(record_type)]
        self.names = [f.name for f in wanted if f.name in self.dataset.column_names]
        required = [f.name for f in wanted if f.default is MISSING and f.default_factory is MISSING]
        missing = [name for name in required if name not in self.names]
        if missing:
            raise DataError(folder, None, f"the datasets folder has columns {', '.join(self.dataset.column_names)}; "
                            f"a {record_type.__name__} needs {', '.join(missing)}")

    def __len__(self) -> int:
        return len(self.dataset)

    def _row(self, i: int) -> T:
        row = self.dataset[i]
        values = {n: tuple(row[n]) if isinstance(row[n], list) else row[n] for n in self.names}
        for name, value in values.items():  # every field of a record is text or a tuple of texts
            texts = value if isinstance(value, tuple) else (value,)
            if not all(isinstance(text, str) and text.strip() for text in texts):
                raise DataError(self.folder, None, f"row {i}: {name!r} must be non-empty text, got {value!r}; fix "
                                "or drop the row (datasets' Dataset.filter)")
        return self.record_type(**values)
