"""Experiment files: reading, ``extends:``, presets, and the resolved training settings of a condition.

A condition is written once: a presets file (``presets: presets.yaml``, relative to the file that names
it, inherited through ``extends``) holds named blocks of training settings (``settings:``) and named
conditions (``conditions:``). A condition takes a named condition with ``preset: NAME`` (its own keys
win, its ``train`` merges key by key, the preset's name is its name unless it gives one) and settings
blocks with ``use: [BLOCK, ...]`` (merged into ``train`` in order, before its own ``train`` keys). What a
condition resolves to is exactly what writing it out would give, so results and trained models keyed by
the settings (:func:`babelir.experiments.run.result_key`) are found again.

Benchmarks: with ``evaluation.queries`` and ``documents`` a file scores seeded subsamples of whole
benchmarks: at 100 and 600 (every file so far) exactly the ``-dev`` splits, on which configurations are
chosen, scored under that name; at other sizes ``-mini`` ones (``regression.yaml``); without them it scores the benchmarks it names, so a file that reports on held-out queries names
the ``-test`` splits (``bible-xref-sw-test``) and no sizes (see ``docs/evaluation-protocol.md``).

Longer than 350 lines on purpose: reading, ``extends``, presets and their error lines are one parser
whose line bookkeeping every part shares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from babelir.data.errors import DataError
from babelir.experiments.checks import Check, parse_checks
from babelir.training.config import TrainConfig, coerce_settings

EXPERIMENT_KEYS = {
    "name", "description", "extends", "presets", "defaults", "evaluation", "conditions", "seeds", "compare_to",
    "groups", "checks",
}  # fmt: skip
CONDITION_KEYS = {"name", "train", "backbone", "expected", "tolerance", "description", "compare_to", "scoring"}
REFERENCE_KEYS = {"preset", "use"}  # how a condition names what a presets file holds
PRESETS_KEYS = {"description", "settings", "conditions"}


@dataclass
class Condition:
    name: str
    train: dict[str, Any] | None  # None: evaluate the backbone as it is
    backbone: str | None = None
    expected: dict[str, float] = field(default_factory=dict)
    tolerance: float = 0.01
    description: str = ""
    # this condition's references in the significance table, one block of rows each (default: the file's)
    compare_to: tuple[str, ...] = ()
    scoring: str = "auto"  # dense | maxsim | auto (maxsim for models trained with retriever: late-interaction)
    # | centered | lir:R (training-free language removal, babelir.evaluation.retrieval.neutral)


@dataclass
class Experiment:
    name: str
    path: Path
    defaults: dict[str, Any]
    benchmarks: list[str]
    queries: int | None
    documents: int | None
    conditions: list[Condition]
    seeds: list[int]
    compare_to: str | None = None
    groups: dict[str, list[str]] = field(default_factory=dict)
    description: str = ""
    checks: list[Check] = field(default_factory=list)  # directional checks (babelir.experiments.checks)

    @property
    def mini(self) -> bool:
        """Evaluated on seeded subsamples (``queries`` and ``documents`` both set) rather than whole benchmarks."""
        return bool(self.queries and self.documents)

    def scored_benchmarks(self) -> dict[str, str]:
        """``name a score is saved under -> registry name`` for each benchmark the file evaluates."""
        from babelir.evaluation.benchmarks.mini import mini_name

        return {mini_name(name, self.queries, self.documents) if self.mini else name: name for name in self.benchmarks}


def _read_yaml(path: Path, missing: str) -> tuple[Any, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
        return yaml.safe_load(text), yaml.compose(text)
    except FileNotFoundError:
        raise DataError(path, None, missing) from None
    except UnicodeDecodeError as err:
        raise DataError(path, None, f"not UTF-8 text ({err.reason} at byte {err.start}); save it as UTF-8") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise DataError(path, mark.line + 1 if mark else None, f"invalid YAML: {err}") from None


def _key_lines(node: yaml.Node | None) -> dict[str, int]:
    """Line of each top-level key, and of each item of ``conditions`` as ``conditions[N]`` (from 1)."""
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines[str(key.value)] = key.start_mark.line + 1
            if key.value == "conditions" and isinstance(value, yaml.SequenceNode | yaml.MappingNode):
                items = value.value if isinstance(value, yaml.SequenceNode) else [v for _, v in value.value]
                lines.update({f"conditions[{i}]": item.start_mark.line + 1 for i, item in enumerate(items, 1)})
    return lines


def _read_experiment_file(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], dict[str, int]]:
    """The file's mapping with its ``extends`` chain applied, and the line of each of its own keys."""
    raw, node = _read_yaml(path, "experiment file not found")
    raw = raw or {}
    lines = _key_lines(node)
    if not isinstance(raw, dict):
        raise DataError(path, 1, "an experiment file must be a mapping of keys to values")
    for key in raw:
        if key not in EXPERIMENT_KEYS:
            raise DataError(path, lines.get(str(key)), f"unknown key {key!r} (known: {', '.join(sorted(EXPERIMENT_KEYS))})")
    if "presets" in raw:  # relative to the file that names it, whichever file extends it
        raw["presets"] = (path.parent / str(raw["presets"])).resolve()
    if "extends" not in raw:
        return raw, lines
    parent_path = (path.parent / str(raw.pop("extends"))).resolve()
    if parent_path in seen or parent_path == path.resolve():
        raise DataError(path, lines.get("extends"), f"extends {parent_path.name}, which extends this file again")
    parent, _ = _read_experiment_file(parent_path, (*seen, path.resolve()))
    # mappings (defaults, evaluation, groups) merge key by key; anything else (conditions, seeds) replaces
    merged = dict(parent)
    merged.pop("name", None)
    merged.pop("description", None)
    for key, value in raw.items():
        merged[key] = {**parent[key], **value} if isinstance(value, dict) and isinstance(parent.get(key), dict) else value
    return merged, lines


@dataclass
class Presets:
    """A presets file: named settings blocks and named conditions (see the module docstring)."""

    path: Path | None
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)


def read_presets(path: Path | None) -> Presets:
    if path is None:
        return Presets(None)
    raw, node = _read_yaml(path, "presets file not found")
    raw = raw or {}
    lines = _key_lines(node)
    if not isinstance(raw, dict) or set(raw) - PRESETS_KEYS:
        unknown = sorted(set(raw) - PRESETS_KEYS) if isinstance(raw, dict) else []
        raise DataError(path, lines.get(str(unknown[0])) if unknown else 1,
                        f"a presets file is a mapping of {', '.join(sorted(PRESETS_KEYS))}")
    for key in ("settings", "conditions"):
        if not isinstance(raw.get(key) or {}, dict) or not all(isinstance(v, dict) for v in (raw.get(key) or {}).values()):
            raise DataError(path, lines.get(key), f"every entry of {key} must be a mapping")
    conditions = {str(k): v for k, v in (raw.get("conditions") or {}).items()}
    for number, (name, item) in enumerate(conditions.items(), 1):
        unknown = set(item) - CONDITION_KEYS - {"use"}
        if unknown or "name" in item:
            problem = f"unknown keys {sorted(unknown)}" if unknown else "its name is its key"
            raise DataError(path, lines.get(f"conditions[{number}]"), f"preset {name!r}: {problem}")
    settings = {str(k): dict(v) for k, v in (raw.get("settings") or {}).items()}
    return Presets(path, settings, conditions, lines)


def _blocks(presets: Presets, use: Any, where: tuple[Path, int | None], owner: str) -> dict[str, Any]:
    """The settings blocks ``use`` names, merged in order."""
    merged: dict[str, Any] = {}
    if not (use is None or isinstance(use, str) or (isinstance(use, list) and all(isinstance(b, str) for b in use))):
        raise DataError(*where, f"{owner}: use must name a settings block or list them, got {use!r}")
    for block in [use] if isinstance(use, str) else list(use or []):
        if block not in presets.settings:
            known = ", ".join(presets.settings) or f"none: {where[0].name} names no presets file"
            raise DataError(*where, f"{owner}: unknown settings block {block!r} (known: {known})")
        merged.update(presets.settings[block])
    return merged


def _with_blocks(item: dict[str, Any], presets: Presets, where: tuple[Path, int | None], owner: str) -> dict[str, Any]:
    """``item`` with its ``use`` blocks merged under its own ``train`` keys."""
    item = dict(item)
    use = item.pop("use", None)
    if use is None:
        return item
    if item.get("train") is False:
        raise DataError(*where, f"{owner}: 'use' gives training settings to a condition with train: false")
    item["train"] = {**_blocks(presets, use, where, owner), **(item.get("train") or {})}
    return item


def resolve_condition(item: dict[str, Any], presets: Presets, where: tuple[Path, int | None], number: int) -> dict[str, Any]:
    """A condition as if written out: its preset (if any) under it, settings blocks merged into ``train``."""
    owner = f"condition {item.get('name', number)!r}" if "name" in item else f"condition {number}"
    if "preset" not in item:
        return _with_blocks(item, presets, where, owner)
    item = dict(item)
    name = str(item.pop("preset"))
    if name not in presets.conditions:
        known = ", ".join(presets.conditions) or f"none: {where[0].name} names no presets file"
        raise DataError(*where, f"{owner}: unknown preset {name!r} (known: {known})")
    base = _with_blocks({"name": name, **presets.conditions[name]}, presets, (presets.path, None), f"preset {name!r}")
    own = _with_blocks(item, presets, where, owner)
    merged = {**base, **own}
    if isinstance(base.get("train"), dict) and isinstance(own.get("train"), dict):
        merged["train"] = {**base["train"], **own["train"]}
    return merged


def _conditions(path: Path, raw: dict[str, Any], lines: dict[str, int]) -> list[Condition]:
    presets = read_presets(raw.get("presets"))

    def condition_line(number: int) -> int | None:
        return lines.get(f"conditions[{number}]", lines.get("conditions"))

    conditions = []
    if not isinstance(raw.get("conditions") or [], list):
        raise DataError(path, lines.get("conditions"), "conditions must be a list (one '- name: ...' item each)")
    for number, item in enumerate(raw.get("conditions") or [], 1):
        where = (path, condition_line(number))
        if not isinstance(item, dict):
            raise DataError(*where, f"condition {number}: expected a mapping, got {item!r}")
        unknown = set(item) - CONDITION_KEYS - REFERENCE_KEYS
        if unknown:
            problem = f"unknown keys {sorted(unknown)}"
            if any(item[key] is None for key in unknown):
                problem += " (a name that contains a comma needs quotes in a {...} mapping)"
            raise DataError(*where, f"condition {number}: {problem}")
        item = resolve_condition(item, presets, where, number)
        if "name" not in item:
            raise DataError(*where, f"condition {number}: a condition needs a name")
        owner = f"condition {item['name']!r}: "
        train = item.get("train", {})
        expected = item.get("expected") or {}
        if not isinstance(expected, dict):
            raise DataError(*where, f"{owner}expected must map benchmarks to scores, got {expected!r}")
        conditions.append(Condition(
            name=str(item["name"]),
            train=None if train is False else coerce_settings(train or {}, where, owner),
            backbone=item.get("backbone"),
            expected={str(k): _number(v, where, f"{owner}expected score of {k}") for k, v in expected.items()},
            tolerance=_number(item.get("tolerance", 0.01), where, f"{owner}tolerance"),
            description=str(item.get("description", "")),
            compare_to=_references(item.get("compare_to"), where, owner),
            scoring=str(item.get("scoring", "auto")),
        ))  # fmt: skip
    if not conditions:
        raise DataError(path, lines.get("conditions"), "an experiment needs at least one condition")
    _check_conditions(path, conditions, condition_line, dict(raw.get("defaults") or {}))
    return conditions


def _check_conditions(path: Path, conditions: list[Condition], condition_line, defaults: dict[str, Any]) -> None:
    """Scoring, references and every condition's settings, checked now rather than after an hour of training."""
    from babelir.evaluation.retrieval.loading import check_scoring

    names = [c.name for c in conditions]
    for number, cond in enumerate(conditions, 1):  # (settings: known keys and types, from _conditions)
        if cond.name in names[:number - 1]:  # results are saved by name: a second one would overwrite the first
            raise DataError(path, condition_line(number), f"condition {cond.name!r} is named twice (first as "
                            f"condition {names.index(cond.name) + 1}); give each condition its own name")
        try:
            check_scoring(cond.scoring)
        except DataError as err:
            raise DataError(path, condition_line(number), f"condition {cond.name!r}: {err.problem}") from None
        for reference in cond.compare_to:
            if reference not in names:
                raise DataError(path, condition_line(number), f"condition {cond.name!r}: compare_to {reference!r} is not a condition")
        if cond.train is not None:
            try:
                TrainConfig(**{**defaults, **cond.train}).validate(str(path))
            except TypeError as err:
                raise DataError(path, condition_line(number), f"condition {cond.name!r}: {err}") from None


def _check_not_split(path: Path, line: int | None, benchmarks: list[str]) -> None:
    """``queries``/``documents`` subsample whole benchmarks (``-mini``); a dev or test split is already sized,
    and a subsample of it would be scored as neither split."""
    from babelir.evaluation.benchmarks import get_meta
    from babelir.evaluation.benchmarks.splits import split_of

    for name in benchmarks:
        try:
            split = split_of(get_meta(name, sizes=False))
        except KeyError:  # a user's BEIR folder
            continue
        if split:
            raise DataError(path, line, f"{name} is a {split} split, already sized: drop evaluation.queries and "
                            "evaluation.documents, which subsample whole benchmarks into -mini ones")


def load_experiment(path: str | Path) -> Experiment:
    """Read an experiment file. ``extends: OTHER.yaml`` (relative to the file) starts from another file:
    its ``defaults``, ``evaluation`` and ``groups`` merge key by key, other keys replace the parent's."""
    path = Path(path)
    raw, lines = _read_experiment_file(path)
    evaluation = raw.get("evaluation") or {}
    if not isinstance(evaluation, dict):
        raise DataError(path, lines.get("evaluation"), "evaluation must be a mapping (benchmarks: [...], and "
                        "optionally queries and documents)")
    if not evaluation.get("benchmarks"):
        raise DataError(path, lines.get("evaluation"), "evaluation.benchmarks must list at least one benchmark")
    if isinstance(evaluation["benchmarks"], str):  # `benchmarks: a, b` as `babelir evaluate --benchmarks` reads it
        evaluation["benchmarks"] = [b.strip() for b in evaluation["benchmarks"].split(",") if b.strip()]
    if not isinstance(evaluation["benchmarks"], list):
        raise DataError(path, lines.get("evaluation"), "evaluation.benchmarks must be a list of benchmark names")
    if evaluation.get("queries") and evaluation.get("documents"):
        _check_not_split(path, lines.get("evaluation"), [str(b) for b in evaluation["benchmarks"]])
    defaults = coerce_settings(raw.get("defaults") or {}, (path, lines.get("defaults")), "defaults: ")
    conditions = _conditions(path, raw, lines)
    reference = raw.get("compare_to")
    own = "compare_to" in lines  # an inherited one may name a condition this file does not repeat
    if reference is not None and (not isinstance(reference, str)
                                  or (own and reference not in {c.name for c in conditions})):
        raise DataError(path, lines.get("compare_to"), f"compare_to must name one condition of this file, got "
                        f"{reference!r} (a condition may list several references in its own compare_to)")
    return Experiment(
        name=str(raw.get("name") or path.stem),
        path=path,
        defaults=defaults,
        benchmarks=[str(b) for b in evaluation["benchmarks"]],
        queries=evaluation.get("queries"),
        documents=evaluation.get("documents"),
        conditions=conditions,
        seeds=_seeds(raw.get("seeds"), path, lines.get("seeds")),
        compare_to=reference,
        groups=_groups(raw.get("groups"), path, lines.get("groups")),
        description=str(raw.get("description", "")),
        checks=parse_checks(raw.get("checks"), path, lines.get("checks"), {c.name for c in conditions}),
    )


def _references(value: Any, where: tuple[Path, int | None], owner: str) -> tuple[str, ...]:
    """A condition's ``compare_to``: one condition's name, or a list of them (one block of rows each)."""
    if value is None:
        return ()
    names = value if isinstance(value, list) else [value]
    if not names or not all(isinstance(name, str) and name for name in names):
        raise DataError(*where, f"{owner}compare_to must name a condition or list condition names, got {value!r}")
    return tuple(dict.fromkeys(names))


def _number(value: Any, where: tuple[Path, int | None], what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataError(*where, f"{what}: expected a number, got {value!r}") from None


def _seeds(value: Any, path: Path, line: int | None) -> list[int]:
    seeds = [42] if value is None else [value] if isinstance(value, int) and not isinstance(value, bool) else value
    if not (isinstance(seeds, list) and seeds and all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)):
        raise DataError(path, line, f"seeds must be an integer or a list of integers, got {value!r}")
    return seeds


def _groups(value: Any, path: Path, line: int | None) -> dict[str, list[str]]:
    groups = value or {}
    if not (isinstance(groups, dict) and all(isinstance(v, list) for v in groups.values())):
        raise DataError(path, line, f"groups must map a group name to a list of languages, got {value!r}")
    return {str(k): [str(x) for x in v] for k, v in groups.items()}


def training_config(exp: Experiment, cond: Condition, seed: int) -> TrainConfig:
    """The full training settings of one condition and seed (file defaults, then the condition's own)."""
    config = TrainConfig(**{**exp.defaults, **(cond.train or {}), "seed": seed, "progress": False}).validate()
    if cond.backbone:
        config.backbone = cond.backbone
    return config
