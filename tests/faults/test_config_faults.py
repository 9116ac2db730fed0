"""Damaged training config files, end to end through ``babelir.cli.main`` (``babelir train --config``).

Each case writes a config that is cut short, empty, of the wrong types, with an unknown key or not text
at all, and runs the real command: one line naming the file (and its line where there is one), exit 2,
no traceback and no run folder created (the config is read before anything is written).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from babelir.cli import main
from babelir.training.config_sources import build_config
from tests.faults.errors import one_error

GOOD_YAML = "backbone: tiny\nsteps: 2\nbatch_size: 2\nparallel_languages: [de, fr]\nlearning_rate: 2e-5\n"


@pytest.mark.parametrize(
    ("name", "content", "where", "problem"),
    [
        ("cut.yaml", GOOD_YAML[: GOOD_YAML.index("fr]")], ":4", "invalid YAML"),  # cut inside the list
        ("cut.toml", 'steps = 2\nparallel_languages = ["de",', ":2", "invalid TOML"),
        ("empty.yaml", "", "", "empty config file"),
        ("comments.yaml", "# nothing here yet\n", "", "empty config file"),
        ("types.yaml", "steps: 2\nbatch_size: many\n", ":2", "batch_size: expected an integer, got 'many'"),
        ("types.toml", "steps = 2\nlength_bucketing = 3\n", ":2", "length_bucketing: expected true or false"),
        ("bool.yaml", "language: no\n", ":1", "language: expected a string, got False (YAML reads yes/no"),
        ("unknown.yaml", "steps: 2\n\nlearning_rat: 0.1\n", ":3", "unknown config key 'learning_rat'"),
        ("bad_value.yaml", "steps: 2\nbatch_size: 0\n", ":2", "batch_size: must be at least 1"),
        ("language.yaml", "steps: 2\nparallel_languages: [de, xx]\n", ":2", "unknown language code 'xx'"),
        ("list.yaml", "backbone: tiny\nsteps: [1, 2]\n", ":2", "steps: expected an integer"),
        ("notes.txt", "steps: 2\n", "", "config files must end in .yaml, .yml or .toml"),
    ],
)
def test_a_bad_config_is_one_line_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, name: str, content: str, where: str, problem: str
) -> None:
    config, out = tmp_path / name, tmp_path / "run"
    config.write_text(content, encoding="utf-8")
    assert main(["train", "--config", str(config), "--output", str(out)]) == 2
    line = one_error(capsys)
    assert line.startswith(f"babelir: error: {config}{where}: "), line
    assert problem in line
    assert not out.exists()


@pytest.mark.parametrize("how", ["binary", "latin-1"])
def test_a_config_that_is_not_text_is_named(tmp_path: Path, capsys: pytest.CaptureFixture, how: str) -> None:
    config, out = tmp_path / "c.yaml", tmp_path / "run"
    config.write_bytes(bytes(range(256)) if how == "binary" else "language: fran\xe7ais\n".encode("latin-1"))
    assert main(["train", "--config", str(config), "--output", str(out)]) == 2
    line = one_error(capsys)
    assert line.startswith(f"babelir: error: {config}: not valid UTF-8")
    assert not out.exists()


def test_a_missing_config_or_a_folder_is_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    for config, problem in ((tmp_path / "none.yaml", "config file not found"), (tmp_path, "a folder")):
        assert main(["train", "--config", str(config), "--output", str(tmp_path / "run")]) == 2
        assert one_error(capsys).startswith(f"babelir: error: {config}: {problem}")


def test_a_bad_flag_value_names_the_flag_not_the_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("steps: 2\n", encoding="utf-8")
    argv = ["train", "--config", str(config), "--output", str(tmp_path / "run"), "--parallel-languages", "de", "xx"]
    assert main(argv) == 2
    assert one_error(capsys) == (
        "babelir: error: --parallel-languages: unknown language code 'xx' (expected ISO 639-1, e.g. 'de')"
    )


def test_yaml_strings_are_read_as_their_declared_type(tmp_path: Path) -> None:
    """PyYAML reads ``2e-5`` as a string; a file means what the same flag means."""
    config = tmp_path / "c.yaml"
    config.write_text(
        'backbone: tiny\nlearning_rate: 2e-5\nsteps: "3"\nlength_bucketing: "off"\nweight_decay: "1e-3"\n'
        "retrieval: one.jsonl\nnonparallel_languages: [DE, Fr]\n",
        encoding="utf-8",
    )
    settings = build_config(str(config))
    assert settings.learning_rate == 2e-5 and isinstance(settings.learning_rate, float)
    assert settings.steps == 3 and settings.length_bucketing is False and settings.weight_decay == 1e-3
    assert settings.retrieval == ["one.jsonl"]  # one value, as one word after --retrieval
    assert settings.nonparallel_languages == ["de", "fr"]  # the one language-code check normalises
