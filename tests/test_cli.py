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
        out = capsys.readouterr().out
        assert out.startswith(f"usage: babelir {name}"), name
        description = out.split("\n\n")[1]  # argparse prints the command's description after the usage
        assert not description.startswith(("options:", "positional arguments:")) and "." in description, name


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


def _cli_with(monkeypatch: pytest.MonkeyPatch, command: str, func) -> None:
    """Replace the ``func`` of one real command, keeping the real parser (global flags, defaults)."""
    real = build_parser

    def parser() -> argparse.ArgumentParser:
        built = real()
        built._subparsers._group_actions[0].choices[command].set_defaults(func=func)
        return built

    monkeypatch.setattr(cli, "build_parser", parser)


def _raises(err: BaseException):
    def func(args: argparse.Namespace) -> int:
        raise err

    return func


@pytest.mark.parametrize(
    ("command", "hint"),
    [("train", "rerun the same command with --resume"), ("index", "rerun the same command to resume"),
     ("search", None)],
)
def test_ctrl_c_says_how_to_continue_and_exits_130(monkeypatch, capsys, command: str, hint: str | None) -> None:
    _cli_with(monkeypatch, command, _raises(KeyboardInterrupt()))
    argv = {"train": ["train", "--output", "o"], "index": ["index", "m", "c", "o"],
            "search": ["search", "i", "--queries", "q", "--output", "o"]}[command]
    assert main(argv) == 130
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("babelir: interrupted")
    assert (hint in lines[0]) if hint else lines[0] == "babelir: interrupted"


def test_expected_failures_are_one_line_and_debug_shows_the_traceback(monkeypatch, capsys) -> None:
    from babelir.utils.errors import ModelError

    _cli_with(monkeypatch, "encode", _raises(ModelError("m/model.safetensors", None, "damaged; copy it again")))
    argv = ["encode", "m", "t.txt", "--output", "e.npy"]
    assert main(argv) == 2
    assert capsys.readouterr().err == "babelir: error: m/model.safetensors: damaged; copy it again\n"
    with pytest.raises(ModelError):
        main(["--debug", *argv])
    with pytest.raises(ModelError):  # a global flag after the command works too
        main([*argv, "--debug"])


def test_os_errors_name_the_file_and_the_reason(monkeypatch, capsys) -> None:
    _cli_with(monkeypatch, "encode", _raises(PermissionError(13, "Permission denied", "/out/e.npy")))
    assert main(["encode", "m", "t.txt", "--output", "/out/e.npy"]) == 2
    assert capsys.readouterr().err == (
        "babelir: error: /out/e.npy: permission denied; choose a location you may write to, or fix its "
        "permissions\n"
    )


def test_a_bug_is_one_line_asking_for_debug_and_exit_1(monkeypatch, capsys) -> None:
    _cli_with(monkeypatch, "encode", _raises(TypeError("unsupported operand\nsecond line")))
    assert main(["encode", "m", "t.txt", "--output", "e.npy"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["babelir: error: unexpected TypeError: unsupported operand second line (a bug in babelir: "
                   "rerun with --debug for the traceback and report it)"]


def test_quiet_and_verbose_reach_the_one_switch(monkeypatch, capsys) -> None:
    from babelir.utils import verbosity

    seen = []
    _cli_with(monkeypatch, "encode", lambda args: seen.append((verbosity.quiet(), verbosity.verbose())) or 0)
    argv = ["encode", "m", "t.txt", "--output", "e.npy"]
    assert main(["-q", *argv]) == main([*argv, "--quiet"]) == main(["--verbose", *argv]) == main(argv) == 0
    assert seen == [(True, False), (True, False), (False, True), (False, False)]
    assert verbosity.show_progress(True) and not verbosity.show_progress(False)


def test_quiet_silences_the_training_bar(tmp_path, capsys) -> None:
    """Two steps on the tiny backbone: the step bar without -q, none with it."""
    import json

    data = tmp_path / "r.jsonl"
    data.write_text("".join(json.dumps({"query": f"q {i}", "positive": f"p {i}"}) + "\n" for i in range(4)))
    pairs = tmp_path / "p.tsv"
    pairs.write_text("en\tde\n" + "".join(f"house {i}\tHaus {i}\n" for i in range(4)), encoding="utf-8")
    argv = ["train", "--backbone", "tiny", "--steps", "1", "--batch-size", "2", "--aux-batch-size", "2",
            "--retrieval", str(data), "--parallel", str(pairs), "--nonparallel", f"de:{pairs}",
            "--checkpoint-every", "0"]
    assert main(["-q", *argv, "--output", str(tmp_path / "quiet")]) == 0
    assert "train:" not in capsys.readouterr().err
    assert main([*argv, "--output", str(tmp_path / "loud")]) == 0
    err = capsys.readouterr().err
    assert "train: 100%" in err and "Loading weights" not in err  # transformers' bar only with --verbose
