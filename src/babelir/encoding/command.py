"""``babelir encode MODEL TEXTS --output FILE``: embeddings of a file of texts, with their ids, for any tool.

JSONL and TSV texts files are read by :mod:`babelir.data.texts` (as ``babelir index`` reads corpora) and
plain text by babelir's line reader, so every problem is a :class:`~babelir.data.errors.DataError` naming
``FILE:LINE``; the output is written atomically, so an interrupted run never leaves a half-written file.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from babelir.data._lines import iter_lines
from babelir.data.beir import join_title
from babelir.data.collect import collect_unique
from babelir.data.errors import DataError
from babelir.data.texts import JSONL_SUFFIXES, TSV_SUFFIXES, format_suffix, iter_jsonl_texts, iter_tsv_texts
from babelir.encoding.model import BACKEND_HELP, BACKENDS
from babelir.identity import ROLES
from babelir.utils.commands import add_command
from babelir.utils.devices import add_device_argument, resolve_device

OUTPUT_FORMATS = (".npy", ".parquet")

ENCODE_HELP = """\
Encode every text of TEXTS with MODEL and write the embeddings (float32, L2-normalised) with their ids.

MODEL is a backbone name (me5-small, tiny, ...) or a model directory written by 'babelir train'; texts
get the prompt of --role (e5: 'passage: ' for documents, 'query: ' for queries).

TEXTS, by file name (.gz accepted):
  *.jsonl               {"id" or "_id": ..., "text": ..., "title"?: ...} per line; a title is joined
                        before the text as in BEIR corpora ("title text")
  *.tsv                 id<TAB>text per line (a first line id<TAB>text is a header)
  anything else         plain text, one text per line; the id is the line number (1, 2, ...)
Ids must be unique; an empty text, a missing field or invalid UTF-8 is an error naming FILE:LINE.

--output, by extension:
  FILE.npy              an (n, dim) float32 array (numpy.load), plus FILE.ids.txt beside it: the id of
                        row i on line i+1
  FILE.parquet          one row per text, columns id (string) and embedding (fixed-size float32 list)
An existing FILE is replaced only when babelir encode wrote it (its layout above); the texts file
itself and anyone else's files are left as they are.

examples:
  babelir encode me5-small corpus.jsonl --output corpus.npy
  babelir encode runs/default/model questions.tsv --role query --output questions.parquet
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "encode", "write the embeddings of a file of texts (.npy or Parquet)", ENCODE_HELP)
    p.add_argument("model", help="backbone name (tiny, me5-small, ...) or model directory")
    p.add_argument("texts", help="JSONL (id/_id + text), TSV (id<TAB>text) or plain text (one per line)")
    p.add_argument("--output", required=True, help="FILE.npy (+ FILE.ids.txt) or FILE.parquet")
    p.add_argument("--role", choices=ROLES, default="document", help="whose prompt the texts get (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=32, help="texts encoded together (default: %(default)s)")
    p.add_argument("--backend", choices=BACKENDS, default="torch", help=BACKEND_HELP)
    p.add_argument("--neutral-statistics", metavar="FILE.npz",
                   help="remove each text's language statistics as an index does at search time: the "
                   "neutral.npz inside an index folder built with this model (babelir index)")
    p.add_argument("--language", default=None,
                   help="with --neutral-statistics: the texts' language (default: identified per text)")
    add_device_argument(p)
    p.set_defaults(func=run_encode)


def _jsonl_rows(path: Path) -> Iterator[tuple[int, str, str]]:
    for line in iter_jsonl_texts(path):
        yield line.line, line.id, join_title(line.title, line.text)


def _tsv_rows(path: Path) -> Iterator[tuple[int, str, str]]:
    for line in iter_tsv_texts(path):
        yield line.line, line.id, line.text


def _text_rows(path: Path) -> Iterator[tuple[int, str, str]]:
    for number, line in iter_lines(path):
        if not line.strip():
            raise DataError(path, number, "empty text (one text per line; the id is the line number)")
        yield number, str(number), line.strip()


def read_texts(path: str | os.PathLike) -> dict[str, str]:
    """``{id: text}`` in file order from a JSONL, TSV or plain-text file (chosen by its suffix)."""
    path = Path(path)
    suffix = format_suffix(path)
    rows = _jsonl_rows if suffix in JSONL_SUFFIXES else _tsv_rows if suffix in TSV_SUFFIXES else _text_rows
    return collect_unique(path, _one_line_ids(path, rows(path)), "id")


def _one_line_ids(path: Path, rows: Iterator[tuple[int, str, str]]) -> Iterator[tuple[int, str, str]]:
    """Ids are written one per line (``FILE.ids.txt``): a JSON id with a line break would shift them."""
    for number, doc_id, text in rows:
        if "\n" in doc_id or "\r" in doc_id:
            raise DataError(path, number, f"id {doc_id!r} contains a line break")
        yield number, doc_id, text


def ids_path(output: str | os.PathLike) -> Path:
    """Where the ids of ``FILE.npy`` go: ``FILE.ids.txt``."""
    return Path(output).with_suffix(".ids.txt")


EMBEDDINGS_KIND = "embeddings"  # babelir.utils.ownership's kind of encode's output files


def write_embeddings(output: str | os.PathLike, ids: list[str], embeddings: np.ndarray) -> list[Path]:
    """Write ``.npy`` (+ ``.ids.txt``) or ``.parquet``, each file atomically and recorded as babelir's the
    moment it is written (a run stopped between the two files may replace the first); returns the paths."""
    from babelir.utils.atomic import atomic_open, atomic_write_text
    from babelir.utils.ownership import record_file

    output = Path(output)
    embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
    if output.suffix == ".npy":
        with atomic_open(output, "wb") as handle:
            np.save(handle, embeddings)
        record_file(output, EMBEDDINGS_KIND)
        atomic_write_text(ids_path(output), "".join(f"{i}\n" for i in ids))
        record_file(ids_path(output), EMBEDDINGS_KIND)
        return [output, ids_path(output)]
    if output.suffix == ".parquet":
        from babelir.utils.extras import require

        pa = require("pyarrow", "parquet", "Parquet output")
        pq = require("pyarrow.parquet", "parquet", "Parquet output")

        vectors = pa.FixedSizeListArray.from_arrays(pa.array(embeddings.reshape(-1)), embeddings.shape[1])
        table = pa.table({"id": pa.array(ids, type=pa.string()), "embedding": vectors})
        with atomic_open(output, "wb") as handle:
            pq.write_table(table, handle)
        record_file(output, EMBEDDINGS_KIND)
        return [output]
    raise DataError(output, None, f"unknown output format; use one of {', '.join(OUTPUT_FORMATS)}")


def refuse_foreign_output(output: Path, texts: Path) -> None:
    """``--output`` replaces only an earlier ``babelir encode`` result (recorded in its folder's ledger and
    unchanged since, :mod:`babelir.utils.ownership`), never the texts it reads or a user's file."""
    from babelir.utils.ownership import check_file, same_file

    targets = [output, ids_path(output)] if output.suffix == ".npy" else [output]
    for target in targets:
        if same_file(target, texts):
            raise DataError(target, None, "is the texts file this command reads; choose another --output")
    for target in targets:
        check_file(target, EMBEDDINGS_KIND, "--output")


def run_encode(args: argparse.Namespace) -> int:
    from babelir.encoding.neutralized import NeutralizedEncoder
    from babelir.encoding.protocol import ModelEncoder

    # checked before the model loads; every error is printed by babelir.cli as one line
    if Path(args.output).suffix not in OUTPUT_FORMATS:
        raise DataError(args.output, None, f"--output must end in {' or '.join(OUTPUT_FORMATS)}")
    if args.batch_size < 1:
        raise DataError(None, None, "--batch-size must be positive")
    if Path(args.output).suffix == ".parquet":  # before the work, not after it
        from babelir.utils.extras import require

        require("pyarrow", "parquet", "Parquet output")
    refuse_foreign_output(Path(args.output), Path(args.texts))
    neutralizer = None
    if args.neutral_statistics:
        from babelir.encoding.neutral import LanguageNeutralizer

        if not Path(args.neutral_statistics).is_file():
            raise DataError(args.neutral_statistics, None, "no such file; give the neutral.npz of an index folder")
        neutralizer = LanguageNeutralizer.load(args.neutral_statistics)
    elif args.language:
        raise DataError(None, None, "--language goes with --neutral-statistics")
    texts = read_texts(args.texts)
    if not texts:
        raise DataError(args.texts, None, "no texts: the file is empty; give a file with one text per line or row")
    encoder = ModelEncoder.load(args.model, device=resolve_device(args.device), backend=args.backend)
    note = ""
    if neutralizer is None:
        embeddings = encoder.encode(list(texts.values()), args.role, args.batch_size)
    else:
        embeddings, changed = NeutralizedEncoder(encoder, neutralizer, args.language).encode_with_mask(
            list(texts.values()), args.role, args.batch_size)
        note = f"; language statistics removed from {int(changed.sum())} of {len(texts)}"
    written = write_embeddings(args.output, list(texts), embeddings)
    print(f"{len(texts)} embeddings of dimension {embeddings.shape[1]}{note}: {', '.join(map(str, written))}")
    return 0
