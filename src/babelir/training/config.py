"""One dataclass holds every training setting; a YAML/TOML file and ``--kebab-case`` flags fill it.

Precedence: dataclass defaults < config file < command-line flags. Unknown keys and wrong types in a file
stop with a :class:`~babelir.data.errors.DataError` naming the file, the line and the key.
"""

from __future__ import annotations

import argparse
import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from babelir.data.errors import DataError


@dataclass
class TrainConfig:
    """Settings of ``babelir train``. Every field is also a flag (``semantic_weight`` -> ``--semantic-weight``)."""

    # --- model
    backbone: str = "me5-small"  # backbone name (me5-small, me5-small-L6, tiny) or a model directory
    max_seq_length: int = 128  # tokens; Bible verses and lead paragraphs fit, and shorter is faster on CPU
    freeze_word_embeddings: bool = True  # 96M of me5-small's 118M parameters; ~2.5x faster steps on CPU
    # --- data: empty lists mean the embedded default built from installed packages
    retrieval: list[str] = field(default_factory=list)  # JSONL/TSV files or BEIR folders (English)
    parallel: list[str] = field(default_factory=list)  # TSV files, or "SRC_FILE,TGT_FILE" aligned pairs
    nonparallel: list[str] = field(default_factory=list)  # text-per-line or JSONL files
    language: str = "en"  # source language of TSV parallel files without a header / of text files
    parallel_languages: list[str] = field(default_factory=lambda: ["de", "fr", "es", "ru", "zh"])
    parallel_pairs_per_language: int = 2000  # embedded default only
    nonparallel_languages: list[str] = field(default_factory=list)  # embedded default; empty = all 22
    # embedded default: which retrieval sources to train on (wiki-description, wiki-title, bible-xref);
    # empty = all three. bible-xref alone is the in-domain choice for Bible retrieval (reports/claims.md)
    retrieval_sources: list[str] = field(default_factory=list)
    nonparallel_per_language: int = 1000  # embedded default only
    # --- losses
    temperature: float = 0.05
    aux_temperature: float = 0.0  # temperature of the semantic and language losses; 0 = `temperature`
    # weights chosen in reports/claims.md (three seeds): the semantic loss cost English 1.5-4 nDCG points
    # at weights 0.1-1 and helped no language (me5-small already aligns translations); the uniform language
    # loss stays within ~0.02 of log 2, so it needs a large weight to matter (at 60 steps of 8; at 120
    # steps weights 1-3 did better than 10, one seed: lower it for longer runs)
    semantic_weight: float = 0.0
    language_weight: float = 10.0
    language_variant: str = "uniform"  # uniform | rank (see babelir.losses.language)
    # prompt of the parallel/non-parallel sentences, i.e. which side of the dual encoder the auxiliary
    # losses train: query | document | alternate (query on even steps, document on odd) | none
    aux_prompt: str = "query"
    num_negatives: int = 0  # hard negatives per query taken from the retrieval data
    # dense: one pooled vector per text, cosine; late-interaction: ColBERT-style MaxSim over token vectors
    # for the retrieval loss (the auxiliary losses keep the pooled vector); evaluate reads it from the model
    retriever: str = "dense"
    # --- optimisation
    steps: int = 200
    batch_size: int = 16  # retrieval examples per step
    aux_batch_size: int = 16  # parallel pairs and non-parallel sentences per step (each)
    learning_rate: float = 2e-5
    warmup_steps: int = 20
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    length_bucketing: bool = True  # group texts of similar length into a batch: less padding
    bucket_window: int = 32  # batches per window that are sorted by length before shuffling
    seed: int = 42
    # --- bookkeeping
    checkpoint_every: int = 50  # steps; 0 disables
    keep_checkpoints: int = 2
    num_threads: int = 0  # torch intra-op threads; 0 = torch's default
    progress: bool = True

    def validate(self, source: str | None = None) -> TrainConfig:
        for name, kind in _TYPES.items():  # YAML's `30` for a float field: store 30.0, so equal settings hash equal
            value = getattr(self, name)
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                setattr(self, name, float(value))
        problems = []
        if self.language_variant not in ("uniform", "rank"):
            problems.append(("language_variant", f"must be 'uniform' or 'rank', got {self.language_variant!r}"))
        unknown = sorted(set(self.retrieval_sources) - set(RETRIEVAL_SOURCES))
        if unknown:
            problems.append(("retrieval_sources", f"unknown {', '.join(unknown)}; known: {', '.join(RETRIEVAL_SOURCES)}"))
        if self.retrieval_sources and self.retrieval:
            problems.append(("retrieval_sources", "selects from the embedded default data; drop it or --retrieval"))
        if self.retriever not in RETRIEVERS:
            problems.append(("retriever", f"must be one of {', '.join(RETRIEVERS)}, got {self.retriever!r}"))
        if self.aux_prompt not in AUX_PROMPTS:
            problems.append(("aux_prompt", f"must be one of {', '.join(AUX_PROMPTS)}, got {self.aux_prompt!r}"))
        for name in ("steps", "batch_size", "aux_batch_size", "max_seq_length", "bucket_window"):
            if getattr(self, name) < 1:
                problems.append((name, "must be at least 1"))
        for name in ("semantic_weight", "language_weight", "aux_temperature", "warmup_steps", "checkpoint_every",
                     "num_threads"):
            if getattr(self, name) < 0:
                problems.append((name, "must not be negative"))
        if not self.temperature > 0:
            problems.append(("temperature", "must be positive"))
        if problems:
            key, problem = problems[0]
            raise DataError(source or "<config>", None, f"{key}: {problem}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def effective_aux_temperature(self) -> float:
        return self.aux_temperature or self.temperature

    def identity(self) -> dict[str, Any]:
        """The settings that name a run (cache keys, "finished with these settings" checks): every field,
        except that fields added after runs were published are left out while at their default, so
        models trained before a field existed keep their identity."""
        return run_identity(self.to_dict())


AUX_PROMPTS = ("query", "document", "alternate", "none")
RETRIEVERS = ("dense", "late-interaction")
RETRIEVAL_SOURCES = ("wiki-description", "wiki-title", "bible-xref")  # rows of the embedded default
# field -> default, for fields added after trained runs existed (see TrainConfig.identity)
LATER_FIELDS: dict[str, Any] = {"aux_temperature": 0.0, "retriever": "dense", "retrieval_sources": []}


def run_identity(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` (a saved ``TrainConfig.to_dict()``, old or new) without later fields at their default."""
    return {k: v for k, v in settings.items() if not (k in LATER_FIELDS and v == LATER_FIELDS[k])}


FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
_TYPES = typing.get_type_hints(TrainConfig)


def _key_lines(path: Path, text: str) -> dict[str, int]:
    """Line number of each top-level key, for error messages."""
    lines: dict[str, int] = {}
    if path.suffix in (".yaml", ".yml"):
        node = yaml.compose(text)
        if isinstance(node, yaml.MappingNode):
            for key_node, _ in node.value:
                lines[str(key_node.value)] = key_node.start_mark.line + 1
    else:
        for number, line in enumerate(text.splitlines(), 1):
            key = line.split("=", 1)[0].strip().strip('"')
            if "=" in line and key and key not in lines:
                lines[key] = number
    return lines


def _coerce(name: str, value: Any, where: tuple[str, int | None]) -> Any:
    kind = _TYPES[name]
    origin = typing.get_origin(kind)
    if origin in (list, types.GenericAlias) or kind == list[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
            raise DataError(where[0], where[1], f"{name}: expected a list of strings, got {value!r}")
        return [str(v) for v in value]
    if kind is bool:
        if not isinstance(value, bool):
            raise DataError(where[0], where[1], f"{name}: expected true or false, got {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise DataError(where[0], where[1], f"{name}: expected an integer, got {value!r}")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DataError(where[0], where[1], f"{name}: expected a number, got {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise DataError(where[0], where[1], f"{name}: expected a string, got {value!r}")
    return value


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML or TOML file into validated ``TrainConfig`` keyword arguments."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(path, None, "config file not found") from None
    except UnicodeDecodeError as err:
        raise DataError(path, None, f"not valid UTF-8 ({err.reason} at byte {err.start})") from None
    try:
        if path.suffix == ".toml":
            raw = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            raw = yaml.safe_load(text) or {}
        else:
            raise DataError(path, None, "config files must end in .yaml, .yml or .toml")
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise DataError(path, mark.line + 1 if mark else None, f"invalid YAML: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise DataError(path, getattr(err, "lineno", None), f"invalid TOML: {err}") from None
    if not isinstance(raw, dict):
        raise DataError(path, 1, "a config file must be a mapping of keys to values")
    lines = _key_lines(path, text)
    values = {}
    for key, value in raw.items():
        name = str(key).replace("-", "_")
        if name not in FIELDS:
            known = ", ".join(sorted(FIELDS))
            raise DataError(path, lines.get(str(key)), f"unknown config key {key!r} (known keys: {known})")
        values[name] = _coerce(name, value, (str(path), lines.get(str(key))))
    return values


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One ``--kebab-case`` flag per field; defaults are suppressed so only given flags override."""
    group = parser.add_argument_group("training settings (each also a config-file key)")
    for name, spec in FIELDS.items():
        flag = "--" + name.replace("_", "-")
        default = spec.default if spec.default is not dataclasses.MISSING else spec.default_factory()
        kind = _TYPES[name]
        help_text = f"default: {default!r}"
        if kind is bool:
            group.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction,
                               default=argparse.SUPPRESS, help=help_text)
        elif kind == list[str]:
            group.add_argument(flag, dest=name, nargs="*", default=argparse.SUPPRESS, metavar="VALUE",
                               help=help_text)
        else:
            group.add_argument(flag, dest=name, type=kind, default=argparse.SUPPRESS,
                               metavar=name.upper(), help=help_text)


def build_config(config_file: str | None, flags: argparse.Namespace | dict[str, Any] | None = None) -> TrainConfig:
    values: dict[str, Any] = load_config_file(config_file) if config_file else {}
    given = vars(flags) if isinstance(flags, argparse.Namespace) else dict(flags or {})
    values.update({k: v for k, v in given.items() if k in FIELDS})
    return TrainConfig(**values).validate(config_file)


def config_to_yaml(config: TrainConfig) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True)
