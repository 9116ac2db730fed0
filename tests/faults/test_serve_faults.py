"""``babelir serve`` faults, end to end through ``babelir.cli.main``: numbers that are not settings, a busy
port, Ctrl-C.

Each once ended badly (issue "Lose nothing, part two"): ``--request-timeout nan`` started a server on which
every search failed and ``/health`` answered 500 with a traceback in the log; a busy port exited 3 with
uvicorn's own lines; Ctrl-C exited 0. Now: exit 2 and one line for the first two, before the model loads,
and 130 for Ctrl-C, like every other command.
"""

from __future__ import annotations

import math
import os
import signal
import socket
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from babelir.cli import main
from babelir.serve import Limits, create_app, server
from babelir.utils.errors import BabelirError
from tests.faults.errors import one_error


@pytest.mark.parametrize(
    ("flag", "value", "problem"),
    [
        ("--request-timeout", "nan", "nan is not a finite number"),
        ("--request-timeout", "inf", "inf is not a finite number"),
        ("--request-timeout", "-inf", "-inf is not a finite number"),
        ("--request-timeout", "0", "0 must be greater than 0"),
        ("--request-timeout", "1e12", "1e12 is more than the most allowed, 86400"),
        ("--client-timeout", "NaN", "NaN is not a finite number"),
        ("--client-timeout", "-2", "-2 must be greater than 0"),
        ("--max-connections", "0", "0 must be greater than 0"),
        ("--max-connections", "1.5", "'1.5' is not a number"),
        ("--max-queue", "nan", "'nan' is not a number"),
        ("--max-k", "-3", "-3 must be greater than 0"),
        ("--port", "65536", "65536 is outside the port range 1-65535"),
    ],
)
def test_a_setting_that_is_not_a_finite_positive_number_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, flag: str, value: str, problem: str
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["serve", str(tmp_path / "no-index"), f"{flag}={value}"])  # "=": argparse reads -inf as a flag
    assert stop.value.code == 2
    assert f"argument {flag}: {problem}" in one_error(capsys)


def test_more_connections_than_the_process_may_open_is_one_line(tmp_path: Path, capsys) -> None:
    assert main(["serve", str(tmp_path / "no-index"), "--max-connections", str(10**9)]) == 2
    line = one_error(capsys)
    assert "--max-connections 1000000000 is more than this process may open" in line and "ulimit -n" in line


@pytest.mark.parametrize(
    ("build", "problem"),
    [
        (lambda: Limits(request_timeout=math.nan), "Limits.request_timeout: nan is not a finite number"),
        (lambda: Limits(client_timeout=math.inf), "Limits.client_timeout: inf is not a finite number"),
        (lambda: Limits(max_body_bytes=0), "Limits.max_body_bytes: 0 must be greater than 0"),
        (lambda: Limits(max_queue=2.5), "Limits.max_queue: 2.5 is not a whole number"),
        (lambda: Limits(max_open=-1), "Limits.max_open: -1 must be greater than 0"),
        (lambda: create_app(None, max_batch=0), "max_batch: 0 must be greater than 0"),  # type: ignore[arg-type]
        (lambda: create_app(None, health_ttl=math.nan), "health_ttl: nan is not a finite number"),  # type: ignore[arg-type]
        (lambda: server.client_timeout_protocol(-1.0), "client_timeout: -1.0 must be greater than 0"),
    ],
)
def test_library_callers_get_the_same_rule(build, problem: str) -> None:
    with pytest.raises(BabelirError) as err:
        build()
    assert str(err.value) == f"<input>: {problem}"


def test_a_busy_port_is_one_line_naming_it_before_the_model_loads(built_index: Path, capsys) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        t0 = time.monotonic()
        assert main(["serve", str(built_index), "--port", str(port)]) == 2
        assert time.monotonic() - t0 < 5
    line = one_error(capsys)
    assert line.startswith(f"babelir: error: <input>: 127.0.0.1:{port} is already in use")
    assert "choose another --port" in line


def test_ctrl_c_stops_the_server_with_exit_130(
    built_index: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import babelir.serve.command

    monkeypatch.setattr(babelir.serve.command, "log_config", lambda base: None)  # keep pytest's logging
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    done = threading.Event()

    def interrupt_once_serving() -> None:
        deadline = time.monotonic() + 60
        while not done.is_set() and time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    os.kill(os.getpid(), signal.SIGINT)  # as a Ctrl-C in the terminal
                    return
            except httpx.HTTPError:
                time.sleep(0.05)

    thread = threading.Thread(target=interrupt_once_serving, daemon=True)
    thread.start()
    try:
        status = main(["serve", str(built_index), "--port", str(port), "--log-level", "warning"])
    finally:
        done.set()
        thread.join(10)
    assert status == 130  # was 0: uvicorn.run swallowed the KeyboardInterrupt
    assert capsys.readouterr().err.strip().splitlines()[-1] == "babelir: interrupted"


@pytest.mark.parametrize(
    ("stopped", "interrupted"),
    [
        (SimpleNamespace(_captured_signals=[signal.SIGINT], should_exit=True), True),
        (SimpleNamespace(_captured_signals=[signal.SIGTERM], should_exit=True), False),
        (SimpleNamespace(_captured_signals=[], should_exit=False), False),
        (SimpleNamespace(should_exit=True), True),  # a release that keeps no list: only a signal stops it
    ],
)
def test_a_release_that_swallows_the_signal_still_ends_in_an_interrupt(stopped, interrupted: bool) -> None:
    assert server.interrupted(stopped) is interrupted  # type: ignore[arg-type]
