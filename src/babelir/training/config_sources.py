"""Where training settings come from, read into one :class:`TrainConfig`: files (YAML/TOML, or a
packaged config by name), mappings, parsed ``--kebab-case`` flags and keywords (:func:`resolve_config`).

Precedence: dataclass defaults < config file < command-line flags < keywords. Unknown keys and wrong
types stop with a :class:`~babelir.utils.errors.DataError` naming the file and line, the flag, or the
source ("<config dict>", "<keyword arguments>") and the key.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from babelir.data.errors import DataError
from babelir.training.config import _TYPES, FIELDS, TrainConfig, _coerce, coerce_settings


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


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(path, None, "config file not found; check the path given to --config") from None
    except IsADirectoryError:
        raise DataError(path, None, "a folder, not a config file; give a .yaml, .yml or .toml file") from None
    except UnicodeDecodeError as err:
        raise DataError(path, None, f"not valid UTF-8 ({err.reason} at byte {err.start}); "
                        "a config file is YAML or TOML text") from None


def _parse(path: Path, text: str) -> Any:
    try:
        if path.suffix == ".toml":
            return tomllib.loads(text)
        if path.suffix in (".yaml", ".yml"):
            return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        what = "; ".join(filter(None, (getattr(err, "context", None), getattr(err, "problem", None))))
        what = what or str(err).splitlines()[0]
        raise DataError(path, mark.line + 1 if mark else None, f"invalid YAML: {what}; fix the file "
                        "(is it cut short or missing a closing bracket or quote?)") from None
    except tomllib.TOMLDecodeError as err:  # Python < 3.14 gives the line only in the message
        found = re.search(r"at line (\d+)", str(err))
        line = int(found.group(1)) if found else len(text.splitlines()) or None  # "at end of document"
        raise DataError(path, line, f"invalid TOML: {err}; fix the file (is it cut short?)") from None
    raise DataError(path, None, "config files must end in .yaml, .yml or .toml")


def packaged_configs() -> dict[str, Path]:
    """The configs that ship inside the package (``default``, ``pool``, ``smoke``, ``paper-scale``) by name:
    ``--config default`` works after ``pip install babelir``, without a checkout."""
    folder = Path(__file__).resolve().parent.parent / "configs"
    return {path.stem: path for path in sorted(folder.glob("*.yaml"))}


def resolve_config_path(given: str | os.PathLike) -> Path:
    """A config file's path: ``given`` itself when it exists or names a file, else a packaged config named
    ``given`` (a bare name: no folder, no suffix)."""
    path = Path(given)
    if path.exists() or path.suffix or len(path.parts) != 1:
        return path
    shipped = packaged_configs()
    if str(given) in shipped:
        return shipped[str(given)]
    raise DataError(path, None, f"no such config file, and no packaged config of that name (packaged: "
                    f"{', '.join(shipped)}); give a file or one of those names")


def _load(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """The coerced settings of a config file (or packaged config by name) and the line of each key."""
    path = resolve_config_path(path)
    text = _read_text(path)
    raw = _parse(path, text)
    if raw is None or raw == {}:
        raise DataError(path, None, "empty config file: no settings in it; add settings (see "
                        "configs/default.yaml) or leave out --config")
    if not isinstance(raw, dict):
        raise DataError(path, 1, "a config file must be a mapping of keys to values (key: value per line)")
    lines = _key_lines(path, text)
    values = {}
    for key, value in raw.items():
        name = str(key).replace("-", "_")
        if name not in FIELDS:
            known = ", ".join(sorted(FIELDS))
            raise DataError(path, lines.get(str(key)), f"unknown config key {key!r} (known keys: {known})")
        values[name] = _coerce(name, value, (str(path), lines.get(str(key))))
        lines.setdefault(name, lines.get(str(key), 0))
    return values, {name: line for name, line in lines.items() if line}


def load_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML or TOML file into validated ``TrainConfig`` keyword arguments."""
    return _load(Path(path))[0]


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One ``--kebab-case`` flag per field; defaults are suppressed so only given flags override."""
    group = parser.add_argument_group("training settings (each also a config-file key)")
    for name, spec in FIELDS.items():
        flag = "--" + name.replace("_", "-")
        default = spec.default if spec.default is not dataclasses.MISSING else spec.default_factory()
        kind = _TYPES[name]
        help_text = f"{spec.metadata.get('help', '')} (default: {default!r})".strip()
        if kind is bool:
            group.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction,
                               default=argparse.SUPPRESS, help=help_text)
        elif kind == list[str]:
            group.add_argument(flag, dest=name, nargs="*", default=argparse.SUPPRESS, metavar="VALUE",
                               help=help_text)
        else:
            group.add_argument(flag, dest=name, type=kind, default=argparse.SUPPRESS,
                               metavar=name.upper(), help=help_text)


def resolve_config(
    config: TrainConfig | Mapping[str, Any] | str | os.PathLike | None = None,
    flags: argparse.Namespace | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> TrainConfig:
    """The one way into a validated :class:`TrainConfig`, with the command line's precedence: defaults <
    ``config`` (a TrainConfig, a mapping of settings, a YAML/TOML file or a packaged config's name, or None)
    < ``flags`` (parsed ``--kebab-case`` flags; only those given) < ``overrides`` (keywords). Every value
    is read as its field's type; a bad one is reported at its file line, flag or source."""
    source, where = None, {}
    if config is None:
        values: dict[str, Any] = {}
    elif isinstance(config, TrainConfig):  # its fields are not type-checked when set
        values = coerce_settings(config.to_dict(), ("<TrainConfig>", None))
    elif isinstance(config, Mapping):
        values = coerce_settings(dict(config), ("<config dict>", None))
    elif isinstance(config, str | os.PathLike):
        values, lines = _load(Path(config))
        source = os.fspath(config)
        where = {name: (source, line) for name, line in lines.items()}
    else:
        raise TypeError(f"config must be a TrainConfig, a dict, a file path or None, not {type(config).__name__}")
    given = vars(flags) if isinstance(flags, argparse.Namespace) else dict(flags or {})
    flagged = {k: v for k, v in given.items() if k in FIELDS}
    values.update(flagged)
    where.update({name: ("--" + name.replace("_", "-"), None) for name in flagged})
    values.update(coerce_settings(overrides, ("<keyword arguments>", None)))
    return TrainConfig(**values).validate(source, where)


def build_config(config_file: str | None, flags: argparse.Namespace | dict[str, Any] | None = None) -> TrainConfig:
    """:func:`resolve_config` of a config file and parsed flags (the command line's entry; kept as an alias)."""
    return resolve_config(config_file, flags)
