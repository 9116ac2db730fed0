"""The index folder layout: one manifest builder, the on-disk names, and an acyclic ``babelir.index``."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import babelir.index
from babelir.index.ann import AnnSettings
from babelir.index.layout import index_manifest, plan_path, shard_path

# what an index built before language identification and neutralization holds, in order
MANIFEST_KEYS = ["format", "model", "corpus", "encoding", "index", "counts", "docs", "build_seconds",
                 "created", "versions"]  # fmt: skip
# a build now adds the identifier to the plan and the neutralization entry after the documents
BUILT_KEYS = [*MANIFEST_KEYS[:4], "languages", *MANIFEST_KEYS[4:7], "neutralization", *MANIFEST_KEYS[7:]]


def _index_imports() -> dict[str, set[str]]:
    """Every ``babelir.index`` module -> the ``babelir.index`` modules it imports, function-level included."""
    package = Path(babelir.index.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in package.glob("*.py"):
        name = f"babelir.index.{path.stem}" if path.stem != "__init__" else "babelir.index"
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        graph[name] = {m for m in found if m.startswith("babelir.index.") and m != name}
    return graph


def test_index_modules_import_each_other_without_cycles() -> None:
    graph = _index_imports()
    assert "babelir.index.layout" in graph and graph["babelir.index.layout"] <= {"babelir.index.ann"}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        assert module not in path, f"import cycle: {' -> '.join([*path, module])}"
        if module in done:
            return
        for imported in graph.get(module, ()):
            visit(imported, [*path, module])
        done.add(module)

    for module in graph:
        visit(module, [])


def test_built_and_merged_manifests_come_from_one_builder(built_index: Path) -> None:
    on_disk = json.loads((built_index / "manifest.json").read_text(encoding="utf-8"))
    assert list(on_disk) == BUILT_KEYS
    plan = {k: on_disk[k] for k in ("format", "model", "corpus", "encoding")}
    settings = AnnSettings(**{k: v for k, v in on_disk["index"].items() if k not in ("metric", "file")})
    common = {"settings": settings, "documents": 25, "shards": 3, "dimension": on_disk["counts"]["dimension"]}
    rebuilt = index_manifest(plan, corpus_sha256=on_disk["corpus"]["sha256"], build_seconds={}, **common)
    for key in ("format", "model", "corpus", "encoding", "index", "counts", "docs"):
        assert rebuilt[key] == on_disk[key], key
    merged = index_manifest(plan, corpus_sha256="x", build_seconds={}, merged_from=[{"id": 0}], **common)
    assert list(merged) == [*MANIFEST_KEYS[:7], "merged_from", *MANIFEST_KEYS[7:]]


def test_file_names_are_those_existing_indexes_use(built_index: Path) -> None:
    assert shard_path(built_index, 2) == built_index / "shards" / "00002.npy"
    assert shard_path(built_index, 2).is_file() and plan_path(built_index).is_file()
    assert {p.name for p in built_index.iterdir()} == {
        ".babelir-output.json", "manifest.json", "index.faiss", "docs.sqlite", "shards"}
