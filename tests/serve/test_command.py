"""``babelir serve`` flags: the port range, the queue and time limits, the API key rule beyond loopback."""

from __future__ import annotations

import pytest

from babelir.cli import build_parser
from babelir.serve.command import API_KEY_ENV, api_key, run_serve
from babelir.utils.errors import BabelirError


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--port", "99999"], "99999 is outside the port range 1-65535"),
        (["--port", "0"], "0 is outside the port range 1-65535"),
        (["--port", "http"], "'http' is not a port number"),
        (["--max-queue", "0"], "0 must be greater than 0"),
        (["--request-timeout", "-1"], "-1 must be greater than 0"),
        (["--max-queries", "-1"], "-1 must be greater than 0"),
        (["--max-query-chars", "0"], "0 must be greater than 0"),
        (["--max-k", "0"], "0 must be greater than 0"),
    ],
)
def test_bad_numbers_are_one_line_usage_errors(flags: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["serve", "idx", *flags])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert err.strip().splitlines() == [err.strip()]  # one line, no usage block above it
    assert err.startswith("babelir: error: <input>: argument --") and "see 'babelir serve --help'" in err


def test_defaults_bind_loopback_with_a_bounded_queue() -> None:
    args = build_parser().parse_args(["serve", "idx", "--port", "65535"])
    assert (args.host, args.port, args.max_queue, args.request_timeout) == ("127.0.0.1", 65535, 64, 30.0)
    assert (args.client_timeout, args.max_connections) == (10.0, 256)  # stalled clients: cut off, and capped
    assert args.api_key is None and not args.insecure_no_api_key


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "localhost"])
def test_loopback_needs_no_key(host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    assert api_key(build_parser().parse_args(["serve", "idx", "--host", host])) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "example.org"])
def test_beyond_loopback_without_a_key_stops_before_loading(host: str, monkeypatch, tmp_path) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    args = build_parser().parse_args(["serve", str(tmp_path / "no-index"), "--host", host])
    with pytest.raises(BabelirError) as err:
        run_serve(args)  # the key rule comes first: no index is read, no port is bound
    assert err.value.path is None
    assert str(err.value).startswith(f"<input>: --host {host} makes the API reachable")
    assert "--api-key" in str(err.value) and "\n" not in str(err.value)


def test_a_key_from_the_flag_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    parse = build_parser().parse_args
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    assert api_key(parse(["serve", "idx", "--host", "0.0.0.0", "--api-key", "k1"])) == "k1"
    monkeypatch.setenv(API_KEY_ENV, "k2")
    assert api_key(parse(["serve", "idx", "--host", "0.0.0.0"])) == "k2"
    assert api_key(parse(["serve", "idx"])) == "k2"  # a key set is required on loopback too
    monkeypatch.setenv(API_KEY_ENV, "")
    with pytest.raises(BabelirError):  # an empty variable is no key
        api_key(parse(["serve", "idx", "--host", "0.0.0.0"]))


def test_insecure_no_api_key_is_explicit_and_warns(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    args = build_parser().parse_args(["serve", "idx", "--host", "0.0.0.0", "--insecure-no-api-key"])
    assert api_key(args) is None
    assert "babelir: warning: serving 0.0.0.0 without an API key" in capsys.readouterr().err


def test_the_api_key_in_the_page_address_never_reaches_the_access_log() -> None:
    import logging

    import uvicorn.config
    from uvicorn.logging import AccessFormatter

    from babelir.serve.command import log_config

    config = log_config(uvicorn.config.LOGGING_CONFIG)
    assert "redact_key" in config["handlers"]["access"]["filters"]
    assert "filters" not in uvicorn.config.LOGGING_CONFIG["handlers"]["access"]  # uvicorn's own dict untouched
    redact = config["filters"]["redact_key"]["()"]()
    args = ("127.0.0.1:5000", "GET", "/?lang=de&key=s3cret#top", "1.1", 200)  # as uvicorn logs a request
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None)
    assert redact.filter(record)
    line = AccessFormatter(fmt='%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(record)
    assert "s3cret" not in line and "/?lang=de&key=REDACTED#top" in line
