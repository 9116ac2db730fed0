"""Parallel pairs (``ParallelPair(source, target, source_lang, target_lang)``), for the semantic loss.

Formats:

* TSV with a header naming columns: ``source<TAB>target[<TAB>source_lang<TAB>target_lang]`` in any order
  (``src``, ``tgt``, ``src_lang``, ``tgt_lang`` are accepted as aliases), other columns ignored. Language
  columns missing from the header come from the caller's ``source_lang``/``target_lang`` arguments;
  present columns give each row its own languages (mixed files).
* TSV whose header is two language codes, e.g. ``en<TAB>de``: column 1 is English, column 2 German.
* TSV without header: exactly two columns; the caller must give ``source_lang`` and ``target_lang``.
* Two aligned plain-text files, one sentence per line, languages from the caller; they must have the
  same number of lines (the error names both files and the line where the shorter one ends).

The rules every reader follows are in :mod:`babelir.data.readers`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

from babelir.data._lines import PathLike, iter_lines
from babelir.data.errors import DataError
from babelir.data.languages import language_code, normalize_language
from babelir.data.readers.common import clean_text, existing_file, format_of, language_argument


@dataclass(frozen=True, slots=True)
class ParallelPair:
    """A sentence and its translation; for the semantic loss ``source`` is usually English."""

    source: str
    target: str
    source_lang: str
    target_lang: str


_PARALLEL_COLUMNS = ("source", "target", "source_lang", "target_lang")
_PARALLEL_ALIASES = {"src": "source", "tgt": "target", "src_lang": "source_lang", "tgt_lang": "target_lang"}


def read_parallel_tsv(
    path: PathLike, source_lang: str | None = None, target_lang: str | None = None
) -> Iterator[ParallelPair]:
    """Parallel pairs from a TSV file (header rules in the module docstring)."""
    path = existing_file(path)
    src = language_argument(source_lang, "source_lang", path)
    tgt = language_argument(target_lang, "target_lang", path)
    return _parallel_tsv(path, src, tgt)


def _parallel_tsv(path: Path, src: str | None, tgt: str | None) -> Iterator[ParallelPair]:
    lines = iter_lines(path)
    first = next(lines, None)
    if first is None:
        return
    number, line = first
    header = [_PARALLEL_ALIASES.get(field.strip(), field.strip()) for field in line.split("\t")]
    columns: dict[str, int] | None = None
    pending: tuple[int, str] | None = None
    if "source" in header and "target" in header:
        columns = {name: header.index(name) for name in _PARALLEL_COLUMNS if name in header}
    elif len(header) == 2 and all(normalize_language(code) for code in header) and not (src and tgt):
        codes = [normalize_language(code) for code in header]
        if (src and src != codes[0]) or (tgt and tgt != codes[1]):
            raise DataError(
                path, number, f"header languages {header} disagree with the given {src!r}, {tgt!r}"
            )
        src, tgt = codes
    elif src and tgt and [normalize_language(code) for code in header] == [src, tgt]:
        pass  # a language header that repeats the caller's languages
    else:
        pending = first  # no header: the first line is data
    if columns is not None:
        for name, given in (("source_lang", src), ("target_lang", tgt)):
            if name not in columns and given is None:
                raise DataError(path, number, f"header has no {name!r} column and no {name} was given")
    elif src is None or tgt is None:
        raise DataError(
            path,
            number,
            "no header naming the languages ('source<TAB>target<TAB>source_lang<TAB>target_lang' or "
            "e.g. 'en<TAB>de') and no source_lang/target_lang given",
        )

    def rows() -> Iterator[tuple[int, str]]:
        if pending is not None:
            yield pending
        yield from lines

    width = max(columns.values()) + 1 if columns is not None else 2
    for number, line in rows():
        fields = line.split("\t")
        if columns is None:
            if len(fields) != 2:
                raise DataError(
                    path, number, f"expected 2 tab-separated columns (source, target), got {len(fields)}"
                )
            assert src is not None and tgt is not None
            yield ParallelPair(
                clean_text(path, number, fields[0], "column 1 (source)"),
                clean_text(path, number, fields[1], "column 2 (target)"),
                src,
                tgt,
            )
            continue
        if len(fields) < width:
            missing = [name for name, i in columns.items() if i >= len(fields)]
            raise DataError(
                path,
                number,
                f"missing column {missing[0]!r} ({len(fields)} columns, header has {len(header)})",
            )
        row_src = (
            language_code(fields[columns["source_lang"]].strip(), "in column 'source_lang'", path, number)
            if "source_lang" in columns
            else src
        )
        row_tgt = (
            language_code(fields[columns["target_lang"]].strip(), "in column 'target_lang'", path, number)
            if "target_lang" in columns
            else tgt
        )
        assert row_src is not None and row_tgt is not None
        yield ParallelPair(
            clean_text(path, number, fields[columns["source"]], "column 'source'"),
            clean_text(path, number, fields[columns["target"]], "column 'target'"),
            row_src,
            row_tgt,
        )


def read_parallel_text(
    source_path: PathLike,
    target_path: PathLike,
    source_lang: str,
    target_lang: str,
    *,
    skip_empty: bool = False,
) -> Iterator[ParallelPair]:
    """Pairs from two aligned plain-text files, line ``i`` of one translating line ``i`` of the other.

    ``skip_empty`` drops pairs where either side is blank instead of stopping (scraped bitexts have them).
    """
    source_path, target_path = existing_file(source_path), existing_file(target_path)
    src = language_argument(source_lang, "source_lang", source_path)
    tgt = language_argument(target_lang, "target_lang", target_path)
    if src is None or tgt is None:
        raise DataError(source_path, None, "aligned text files need source_lang and target_lang")
    return _parallel_text(source_path, target_path, src, tgt, skip_empty)


def _parallel_text(
    source_path: Path, target_path: Path, src: str, tgt: str, skip_empty: bool
) -> Iterator[ParallelPair]:
    for left, right in zip_longest(iter_lines(source_path), iter_lines(target_path)):
        if left is None or right is None:
            longer, (number, _) = (target_path, right) if left is None else (source_path, left)
            shorter = source_path if left is None else target_path
            raise DataError(
                longer,
                number,
                f"aligned files differ in length: {shorter} ends after line {number - 1}, "
                f"{longer} goes on (line {number} has no counterpart)",
            )
        number = left[0]
        source, target = left[1].strip(), right[1].strip()
        if not source or not target:
            if skip_empty:
                continue
            raise DataError(source_path if not source else target_path, number, "empty text")
        yield ParallelPair(source, target, src, tgt)


def read_parallel(
    path: PathLike,
    target_path: PathLike | None = None,
    *,
    source_lang: str | None = None,
    target_lang: str | None = None,
    skip_empty: bool = False,
) -> Iterator[ParallelPair]:
    """Two paths: aligned text files. One path: a TSV file (any suffix but JSON, which is not a format here)."""
    if target_path is not None:
        if source_lang is None or target_lang is None:
            raise DataError(path, None, "aligned text files need source_lang and target_lang")
        return read_parallel_text(path, target_path, source_lang, target_lang, skip_empty=skip_empty)
    if format_of(Path(path)) == "jsonl":
        raise DataError(path, None, "parallel pairs are read from TSV or two aligned text files, not JSONL")
    return read_parallel_tsv(path, source_lang, target_lang)
