"""One dataclass holds every training setting, with its checks, its identity (which settings name a
model) and the reading of each value as its field's type.

Files, mappings, flags and keywords become one :class:`TrainConfig` through
:func:`babelir.training.config_sources.resolve_config`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from babelir.data import defaults
from babelir.data.errors import DataError
from babelir.data.languages import language_code
from babelir.identity import RETRIEVER_KINDS as RETRIEVERS
from babelir.training.coerce import Where, coerce
from babelir.utils.devices import DEVICE_CHOICES, DEVICE_HELP, PRECISION_HELP, PRECISIONS, is_device_spelling


def _f(default: Any, help: str) -> Any:
    """A field with its ``--help`` text; list defaults get a fresh copy per instance."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    """Settings of ``babelir train``. Every field is also a flag (``semantic_weight`` -> ``--semantic-weight``)."""

    # --- model
    backbone: str = _f("me5-small", "backbone name (me5-small, me5-small-L<n>, tiny: extra [e5]; minilm-en: [baselines]) or a model folder")
    max_seq_length: int = _f(128, "tokens per text; Bible verses and lead paragraphs fit, shorter is faster on CPU")
    freeze_word_embeddings: bool = _f(
        True, "keep the word embeddings fixed (96M of me5-small's 118M parameters; faster steps on CPU: "
        "reports/performance.md)"
    )
    # --- data: empty lists mean the embedded default built from installed packages
    retrieval: list[str] = _f([], "English retrieval data: JSONL/TSV files or BEIR folders (empty: embedded default)")
    parallel: list[str] = _f([], "parallel TSV files or 'LANG:FILE,LANG:FILE' aligned pairs (empty: embedded default)")
    nonparallel: list[str] = _f([], "non-parallel JSONL or 'LANG:FILE' text files (empty: embedded default)")
    language: str = _f("en", "source language of headerless parallel TSV files and of plain text files")
    parallel_languages: list[str] = _f(
        list(defaults.DEFAULT_PARALLEL_LANGUAGES), "embedded default: languages paired with English for the "
        "auxiliary losses (16: the same pairs over more languages help more, reports/dev-history.md)"
    )
    parallel_pairs_per_language: int = _f(
        defaults.DEFAULT_PARALLEL_PAIRS_PER_LANGUAGE, "embedded default: parallel pairs per language"
    )
    nonparallel_languages: list[str] = _f([], "embedded default: languages of the non-parallel sentences (empty: all 22)")
    nonparallel_per_language: int = _f(1000, "embedded default: non-parallel sentences per language")
    retrieval_sources: list[str] = _f(
        [], "embedded default: retrieval rows to keep, of wiki-description, wiki-title, bible-xref (empty: all); "
        "bible-xref alone is the in-domain choice for Bible retrieval (reports/dev-history.md)"
    )
    # --- losses (weights chosen in reports/dev-history.md, "Defaults chosen from these runs")
    temperature: float = _f(0.05, "temperature of the retrieval loss (and of the auxiliary losses by default)")
    aux_temperature: float = _f(0.0, "temperature of the semantic and language losses; 0 = --temperature")
    semantic_weight: float = _f(
        0.0, "weight of the semantic contrastive loss (translations together); for mixed-language pools and "
        "translation search, at a cost to monolingual retrieval on me5-small (reports/dev-history.md)"
    )
    language_weight: float = _f(
        1.0, "weight of the language contrastive loss; 1 for runs of 120+ steps of 8, 10 for short runs of ~60 "
        "steps of 8 (it stays near its minimum log 2; reports/dev-history.md)"
    )
    language_variant: str = _f("uniform", "reading of the language loss: uniform (default) or rank")
    simcse_weight: float = _f(
        0.0, "control: SimCSE (dropout views) on the auxiliary sentences, no cross-language signal; 0 = off"
    )
    distillation_weight: float = _f(
        0.0, "alternative: multilingual knowledge distillation, translation -> English vector; 0 = off"
    )
    erasure_weight: float = _f(
        0.0, "alternative to the language loss: LANCER-style language erasure (each language's mean vector "
        "pulled to the others', from language-labelled auxiliary sentences, no pairing used); 0 = off"
    )
    aux_prompt: str = _f(
        "document", "prompt of the auxiliary sentences, i.e. which side of the dual encoder the auxiliary losses "
        "train: document (the side of the texts a query must find; best in reports/dev-history.md), query, "
        "alternate (query on even steps, document on odd) or none"
    )
    num_negatives: int = _f(0, "hard negatives per query taken from the retrieval data")
    retriever: str = _f(
        "dense", "dense (one pooled vector, cosine) or late-interaction (ColBERT-style MaxSim over token vectors "
        "in the retrieval loss; the auxiliary losses keep the pooled vector; evaluate scores it by MaxSim)"
    )
    # --- optimisation
    steps: int = _f(200, "optimizer steps")
    batch_size: int = _f(16, "retrieval examples per step (the global batch under torchrun)")
    aux_batch_size: int = _f(16, "parallel pairs and non-parallel sentences per step, each")
    learning_rate: float = _f(2e-5, "AdamW learning rate (linear warm-up, then linear decay to 0)")
    warmup_steps: int = _f(20, "steps of linear learning-rate warm-up")
    weight_decay: float = _f(0.01, "AdamW weight decay")
    max_grad_norm: float = _f(1.0, "gradient clipping norm")
    length_bucketing: bool = _f(True, "group texts of similar length into a batch: less padding")
    bucket_window: int = _f(32, "batches per window that are sorted by length before shuffling")
    seed: int = _f(42, "seed of initialisation, dropout and batch order (the embedded data sample is fixed)")
    # --- bookkeeping
    checkpoint_every: int = _f(50, "steps between atomic checkpoints; 0 disables")
    keep_checkpoints: int = _f(2, "checkpoints kept")
    prune_checkpoints: bool = _f(
        True, "delete OUTPUT/checkpoints once the final model is saved (they only serve --resume of an unfinished run)"
    )
    num_threads: int = _f(0, "torch intra-op threads; 0 = torch's default")
    device: str = _f("auto", DEVICE_HELP.removesuffix(" (default: auto)"))
    precision: str = _f("auto", PRECISION_HELP)
    mini_batch_size: int = _f(
        0, "gradient caching: encode each step's texts this many at a time (activation memory of one mini-batch, "
        "gradients of the whole batch); 0 = off"
    )
    gradient_checkpointing: bool = _f(
        False, "recompute the encoder's activations in backward: less memory per text, about a third more compute"
    )
    gradient_diagnostics_every: int = _f(
        0, "every N steps, log each loss's gradient norm and the cosine between the losses' gradients in "
        "train_log.jsonl (one extra backward per loss on those steps; the weights end the same); 0 = off"
    )
    progress: bool = _f(True, "progress bar")

    def validate(self, source: str | None = None, where: dict[str, Where] | None = None) -> TrainConfig:
        """Check every setting; the first problem is a :class:`DataError` at ``where[key]`` (the file line
        or the flag that set it, from :func:`build_config`), else at ``source``."""
        for name, kind in _TYPES.items():  # YAML's `30` for a float field: store 30.0, so equal settings hash equal
            value = getattr(self, name)
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                setattr(self, name, float(value))
        problems = self._language_problems()
        if self.language_variant not in ("uniform", "rank"):
            problems.append(("language_variant", f"must be 'uniform' or 'rank', got {self.language_variant!r}"))
        unknown = sorted(set(self.retrieval_sources) - set(RETRIEVAL_SOURCES))
        if unknown:
            problems.append(("retrieval_sources", f"unknown {', '.join(unknown)}; known: {', '.join(RETRIEVAL_SOURCES)}"))
        if self.retrieval_sources and self.retrieval:
            problems.append(("retrieval_sources", "selects from the embedded default data; drop it or --retrieval"))
        if self.retriever not in RETRIEVERS:
            problems.append(("retriever", f"must be one of {', '.join(RETRIEVERS)}, got {self.retriever!r}"))
        if self.mini_batch_size < 0:
            problems.append(("mini_batch_size", "must not be negative (0 = no gradient caching)"))
        if self.mini_batch_size and self.retriever == "late-interaction":
            problems.append(("mini_batch_size", "gradient caching needs pooled embeddings; late interaction "
                                                "scores token vectors (use 0)"))
        if self.gradient_diagnostics_every < 0:
            problems.append(("gradient_diagnostics_every", "must not be negative (0 = off)"))
        if self.gradient_diagnostics_every and self.mini_batch_size:
            problems.append(("gradient_diagnostics_every", "needs the uncached step: set mini_batch_size to 0"))
        if self.precision not in PRECISIONS:
            problems.append(("precision", f"must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"))
        if not is_device_spelling(self.device):
            problems.append(("device", f"must be {DEVICE_CHOICES}, got {self.device!r}"))
        if self.aux_prompt not in AUX_PROMPTS:
            problems.append(("aux_prompt", f"must be one of {', '.join(AUX_PROMPTS)}, got {self.aux_prompt!r}"))
        for name in ("steps", "batch_size", "aux_batch_size", "max_seq_length", "bucket_window"):
            if getattr(self, name) < 1:
                problems.append((name, "must be at least 1"))
        for name in ("semantic_weight", "language_weight", "simcse_weight", "distillation_weight", "erasure_weight",
                     "aux_temperature", "warmup_steps", "checkpoint_every",
                     "num_threads"):
            if getattr(self, name) < 0:
                problems.append((name, "must not be negative"))
        for name, kind in _TYPES.items():  # inf trains nothing, NaN drops a loss or clipping without a word
            value = getattr(self, name)
            if kind is float and isinstance(value, float) and not math.isfinite(value):
                problems.insert(0, (name, f"must be a finite number, got {value}"))
        if not self.temperature > 0:
            problems.append(("temperature", "must be positive"))
        if not self.learning_rate > 0:
            problems.append(("learning_rate", "must be positive"))
        for name in ("weight_decay", "max_grad_norm"):
            if getattr(self, name) < 0:
                problems.append((name, "must not be negative" + (" (0 = no clipping)" if name == "max_grad_norm" else "")))
        if not 0 <= self.seed < 2**63:
            problems.append(("seed", "must be between 0 and 2**63 - 1"))
        if problems:
            key, problem = problems[0]
            path, line = (where or {}).get(key, (source or "<config>", None))
            flag = str(path).startswith("--")  # "--steps: must be at least 1" says which key already
            raise DataError(path, line, problem if flag else f"{key}: {problem}")
        return self

    def _language_problems(self) -> list[tuple[str, str]]:
        """Language codes through the one check (:func:`babelir.data.languages.language_code`), stored
        normalised (``DE`` -> ``de``); the embedded default has Bible text in 22 languages only."""
        from babelir.data.sources import bible

        problems: list[tuple[str, str]] = []
        try:
            self.language = language_code(self.language)
        except DataError as err:
            problems.append(("language", err.problem))
        for name in ("parallel_languages", "nonparallel_languages"):
            codes = []
            for code in getattr(self, name):
                try:
                    codes.append(language_code(code))
                except DataError as err:
                    problems.append((name, err.problem))
                    continue
                if codes[-1] not in bible.DEFAULT_TRANSLATION:
                    problems.append((name, f"no Bible text for {code!r} in the embedded default data; "
                                           f"available: {', '.join(bible.LANGUAGES)}"))
            setattr(self, name, codes)
        if "en" in self.parallel_languages:
            problems.append(("parallel_languages", "pairs are English -> another language; remove 'en'"))
        return problems

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
RETRIEVAL_SOURCES = ("wiki-description", "wiki-title", "bible-xref")  # rows of the embedded default
# field -> default, for fields added after trained runs existed (see TrainConfig.identity)
LATER_FIELDS: dict[str, Any] = {
    "aux_temperature": 0.0, "retriever": "dense", "retrieval_sources": [], "prune_checkpoints": True,
    "simcse_weight": 0.0, "distillation_weight": 0.0, "precision": "auto", "gradient_checkpointing": False,
    "erasure_weight": 0.0,
}


# fields that say where a run computes or what it logs, not what it learns: never part of its identity (the
# same settings on a GPU and on the CPU name one model folder)
PLACEMENT_FIELDS = ("device", "mini_batch_size", "gradient_diagnostics_every")  # mini_batch_size: same gradients, other memory


def run_identity(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` (a saved ``TrainConfig.to_dict()``, old or new) without later fields at their default
    and without placement fields."""
    return {
        k: v for k, v in settings.items()
        if k not in PLACEMENT_FIELDS and not (k in LATER_FIELDS and v == LATER_FIELDS[k])
    }


FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
_TYPES = typing.get_type_hints(TrainConfig)


def _coerce(name: str, value: Any, where: Where) -> Any:
    """``value`` as the declared type of field ``name``, or a :class:`DataError` at ``where`` naming the key.

    A string is read the way its ``--flag`` would be (PyYAML reads ``2e-5`` as a string, TOML has no
    such gap), so a setting means the same in a file and on the command line: ``int("12")``,
    ``float("2e-5")``, true/false/yes/no/on/off/1/0 for booleans, one string for a one-item list.
    """
    return coerce(_TYPES[name], name, value, where)


def coerce_settings(values: Any, where: Where, owner: str = "") -> dict[str, Any]:
    """A mapping of training settings written outside a config file (an experiment's ``defaults``, a
    condition's ``train``), each key known and each value read as its field's type, as :func:`_load` reads
    a config file's; ``owner`` ("condition 'x': ") starts each message."""
    if not isinstance(values, dict):
        raise DataError(where[0], where[1], f"{owner}expected a mapping of training settings (key: value), "
                        f"got {values!r}")
    settings = {}
    for key, value in values.items():
        name = str(key).replace("-", "_")  # kebab-case as the flags spell it
        if name not in FIELDS:
            raise DataError(where[0], where[1], f"{owner}unknown training setting {name!r} (known: "
                            f"{', '.join(sorted(FIELDS))})")
        settings[name] = coerce(_TYPES[name], f"{owner}{name}", _plain(value), where)  # as _coerce, owner named
    return settings


def _plain(value: Any) -> Any:
    """Paths as strings (a config file holds strings; so does a saved TrainConfig)."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, list | tuple):
        return [os.fspath(v) if isinstance(v, os.PathLike) else v for v in value]
    return value


def is_run_config(path: Path) -> bool:
    """Whether ``path`` is the ``config.yaml`` that ``babelir train`` writes into a run folder (a mapping of
    known settings naming a backbone): how a run folder is told apart from a user's own folder."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(raw, dict) and "backbone" in raw and set(map(str, raw)) <= FIELDS.keys()


# settings a resumed run may change: where it computes, what it shows and how it keeps checkpoints
RESUMABLE_CHANGES = (*PLACEMENT_FIELDS, "progress", "num_threads", "checkpoint_every", "keep_checkpoints",
                     "prune_checkpoints", "gradient_checkpointing")


def changed_on_resume(earlier_run: Path | dict[str, Any], config: TrainConfig) -> list[str]:
    """The settings of ``config`` that differ in what the run learns from the earlier run's: its run config
    at a path, or the settings its checkpoint stored (a field the older record lacks counts at its default)."""
    if isinstance(earlier_run, Path):
        path, raw = earlier_run, yaml.safe_load(earlier_run.read_text(encoding="utf-8")) or {}
    else:
        path, raw = Path("trainer_state.json"), earlier_run
    earlier = dataclasses.asdict(TrainConfig())
    earlier.update({k: _coerce(k, v, (str(path), None)) for k, v in raw.items() if k in FIELDS})
    earlier = dataclasses.asdict(TrainConfig(**earlier).validate())  # int -> float as the new config has it
    now = config.to_dict()
    return sorted(k for k in now if k not in RESUMABLE_CHANGES and earlier[k] != now[k])


def config_to_yaml(config: TrainConfig) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True)
