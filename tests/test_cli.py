import pytest

from babelir.cli import build_parser, main

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


def test_train_reports_bad_config_with_file_and_line(tmp_path, capsys):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("steps: 3\nlearning_rat: 0.1\n")
    assert main(["train", "--config", str(cfg), "--output", str(tmp_path / "run")]) == 2
    assert f"{cfg}:2: unknown config key 'learning_rat'" in capsys.readouterr().err
