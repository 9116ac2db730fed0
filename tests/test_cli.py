import argparse
import importlib

import pytest

from babelir import cli
from babelir.cli import COMMAND_MODULES, build_parser, main

COMMANDS = ["train", "demo", "experiment", "evaluate", "bias", "index", "search", "serve"]


def test_every_command_is_registered_and_explains_itself(capsys):
    parser = build_parser()
    choices = parser._subparsers._group_actions[0].choices
    assert set(COMMANDS) <= set(choices)
    for name in COMMANDS:
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        assert len(capsys.readouterr().out) > 200, name


@pytest.mark.parametrize("module_name", COMMAND_MODULES)
def test_every_command_module_registers_a_runnable_command(module_name: str) -> None:
    subparsers = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(module_name).register(subparsers)
    assert subparsers.choices, f"{module_name} registered no command"
    for name, parser in subparsers.choices.items():
        assert callable(parser.get_default("func")), f"{module_name}: '{name}' sets no func"


def test_a_command_module_that_fails_to_import_fails_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", (*COMMAND_MODULES, "babelir.no_such_command"))
    with pytest.raises(ModuleNotFoundError, match="babelir.no_such_command"):
        build_parser()


def test_train_reports_bad_config_with_file_and_line(tmp_path, capsys):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("steps: 3\nlearning_rat: 0.1\n")
    assert main(["train", "--config", str(cfg), "--output", str(tmp_path / "run")]) == 2
    assert f"{cfg}:2: unknown config key 'learning_rat'" in capsys.readouterr().err



def test_a_missing_extra_is_one_error_line_and_exit_2(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from babelir.utils.extras import require

    def needs_a_missing_extra(args: argparse.Namespace) -> int:
        require("babelir_no_such_module_for_the_test", "serve")
        return 0

    parser = argparse.ArgumentParser()
    parser.set_defaults(func=needs_a_missing_extra)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    assert main([]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("babelir: error: ")
    assert 'pip install "babelir[serve]"' in err[0]
