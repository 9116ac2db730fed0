"""The layering rules of ``docs/CONTRIBUTING.md``, checked on the source: layers and no import cycles.

Every module of ``src/babelir`` is parsed with :mod:`ast` (nothing is imported), each import statement is
resolved to the babelir module it names, and each module is placed in a package (``babelir.<package>...``).

Layers, lowest first. A module imports from its own package and from packages of a LOWER rank only; packages of
the same rank are siblings and do not import each other (index does not import evaluation, evaluation
does not import training)::

    rank  packages                            what lives there
    0     utils                            atomic writes, caches, seeding, command wiring
    1     backbones, data                  model directories by name; readers, sources, errors
    2     identity                         a model's fingerprint, training record, prompts, retriever kind
    3     encoding, losses, retrieval      load and encode a model (torch, ONNX); the training losses;
                                           lexical scoring and fusion that evaluation, index and serve share
    4     training, evaluation, index      the trainer; benchmarks and metrics; faiss indexes
    5     serve, experiments, demo, mining the HTTP service over an index; experiment files; the demo; hard negatives
    6     cli, babelir                     the command line; the library API (the package root)
    7     __main__                         ``python -m babelir``: runs the command line

Function-level imports count for the layers (they are dependencies all the same); only module-level
imports count for cycles, since a cycle of those is what breaks ``import``. Imports under
``if TYPE_CHECKING:`` count for the layers but not for cycles: they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "babelir"

LAYERS: dict[str, int] = {
    "utils": 0,
    "backbones": 1,
    "data": 1,
    "identity": 2,
    "encoding": 3,
    "losses": 3,
    "retrieval": 3,
    "training": 4,
    "evaluation": 4,
    "index": 4,
    "serve": 5,
    "experiments": 5,
    "mining": 5,
    "demo": 5,
    "cli": 6,
    "__main__": 7,
    PACKAGE: 6,  # the package root: the library API (``from babelir import train, evaluate, Index``)
}
# Read from the package root by any package: package metadata, defined before the root imports anything.
PACKAGE_METADATA = frozenset({"__version__"})


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the babelir module imported
    names: tuple[str, ...]  # for ``from X import a, b``: a, b
    line: int
    module_level: bool
    type_checking: bool


def module_files() -> dict[str, Path]:
    """``{dotted module name: file}`` for every module of the package (``__init__`` names the package)."""
    modules = {}
    for file in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(file.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = file
    return modules


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else PACKAGE


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The babelir module ``name`` refers to: itself, or its closest enclosing package."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str, file: Path, modules: dict[str, Path]) -> list[Import]:
    """Every import of babelir modules in ``file``, with where it sits (module level, TYPE_CHECKING)."""
    is_package = file.name == "__init__.py"
    found: list[Import] = []

    def visit(nodes: Iterable[ast.AST], module_level: bool, type_checking: bool) -> None:
        for child in nodes:
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == PACKAGE and (target := _resolve(alias.name, modules)):
                        found.append(Import(module, target, (), child.lineno, module_level, type_checking))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative: from the package of this module
                    package = module.split(".") if is_package else module.split(".")[:-1]
                    anchor = package[: len(package) - (child.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                if base.split(".")[0] != PACKAGE:
                    continue
                names = tuple(alias.name for alias in child.names)
                for name in names:  # ``from babelir.a import b``: b may be a module of its own
                    target = f"{base}.{name}" if f"{base}.{name}" in modules else _resolve(base, modules)
                    if target:
                        found.append(Import(module, target, (name,), child.lineno, module_level, type_checking))
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(ast.iter_child_nodes(child), False, type_checking)
            elif isinstance(child, ast.If) and _is_type_checking(child):
                visit(child.body, module_level, True)
                visit(child.orelse, module_level, type_checking)
            else:
                visit(ast.iter_child_nodes(child), module_level, type_checking)

    visit(ast.parse(file.read_text(encoding="utf-8"), filename=str(file)).body, True, False)
    return found


def all_imports(modules: dict[str, Path]) -> list[Import]:
    return [imp for module, file in modules.items() for imp in imports_of(module, file, modules)]


def layer_violations(imports: list[Import], modules: dict[str, Path]) -> list[str]:
    problems = []
    for imp in imports:
        source, target = package_of(imp.source), package_of(imp.target)
        if source == target or (target == PACKAGE and set(imp.names) <= PACKAGE_METADATA):
            continue
        if LAYERS[target] >= LAYERS[source]:
            problems.append(
                f"{modules[imp.source]}:{imp.line}: {imp.source} ({source}, rank {LAYERS[source]}) imports "
                f"{imp.target} ({target}, rank {LAYERS[target]})"
            )
    return problems


def import_cycles(imports: list[Import]) -> list[list[str]]:
    """Cycles of module-level imports (each found once, by a depth-first search over the graph)."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.module_level and not imp.type_checking and imp.target != imp.source:
            graph.setdefault(imp.source, set()).add(imp.target)
    state: dict[str, str] = {}  # "open" while on the DFS stack, "done" after
    stack: list[str] = []
    cycles: list[list[str]] = []

    def dfs(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                dfs(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            dfs(node)
    return cycles


def test_every_package_has_a_layer() -> None:
    packages = {package_of(module) for module in module_files()}
    assert packages <= set(LAYERS), f"packages without a layer (add them to LAYERS): {sorted(packages - set(LAYERS))}"


def test_no_module_imports_a_package_above_or_beside_its_own() -> None:
    modules = module_files()
    problems = layer_violations(all_imports(modules), modules)
    assert not problems, "layer violations (see the table in this file's docstring):\n" + "\n".join(problems)


def test_no_import_cycles() -> None:
    cycles = import_cycles(all_imports(module_files()))
    assert not cycles, "module-level import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_checks_catch_what_they_claim(tmp_path: Path) -> None:
    """The parser and both checks on a made-up package: a breach inside a function, one under
    TYPE_CHECKING (a layer breach, not a cycle), a relative import closing a cycle, the metadata exemption."""
    sources = {
        "babelir": "__version__ = '0'\n",
        "babelir.utils.cache": "from babelir import __version__\n\ndef f():\n    from babelir.index import build\n",
        "babelir.index.build": "from babelir.index.search import Index\n",
        "babelir.index.search": "from typing import TYPE_CHECKING\nfrom . import build\n"
        "if TYPE_CHECKING:\n    from babelir.serve.app import App\n",
        "babelir.serve.app": "import babelir.index.search\n",
    }
    modules = {name: tmp_path / f"{name}.py" for name in sources}
    for name, text in sources.items():
        modules[name].write_text(text)
    imports = all_imports(modules)
    assert [(imp.source, imp.target) for imp in imports if not imp.module_level] == [
        ("babelir.utils.cache", "babelir.index.build")
    ]
    assert [problem.split(": ", 1)[1] for problem in layer_violations(imports, modules)] == [
        "babelir.utils.cache (utils, rank 0) imports babelir.index.build (index, rank 4)",
        "babelir.index.search (index, rank 4) imports babelir.serve.app (serve, rank 5)",
    ]
    assert import_cycles(imports) == [["babelir.index.build", "babelir.index.search", "babelir.index.build"]]


LONG_MODULE = 350  # lines; docs/CONTRIBUTING.md: longer only with a stated reason


def test_a_module_over_350_lines_says_why() -> None:
    unexplained = []
    for module, path in module_files().items():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > LONG_MODULE:
            doc = ast.get_docstring(ast.parse(text)) or ""
            if "Longer than 350 lines" not in doc:
                unexplained.append(f"{module} ({text.count(chr(10))} lines)")
    assert not unexplained, f"split these modules or say why in their docstring ('Longer than 350 lines ...'): {unexplained}"
