"""``babelir serve INDEX [--host 127.0.0.1 --port 8000]``: the search API and page.

Why a key is required beyond loopback: the API has no other access control, and an index may hold
private documents; binding another address without ``--api-key`` (or ``BABELIR_API_KEY``) stops with
an error unless ``--insecure-no-api-key`` says that a proxy in front does the access control.

Why the order of :func:`run_serve` (the key rule, every number, the port, then the index and its model):
each refusal is one line within a second, never after the model has loaded; a number that is not finite
and in range is refused by argparse already (:mod:`babelir.serve.settings`).
"""

from __future__ import annotations

import argparse
import copy
import ipaddress
import logging
import os
import re
import sys

from babelir.encoding import BACKENDS
from babelir.encoding.model import BACKEND_HELP
from babelir.serve.settings import MOST_SECONDS, number_problem
from babelir.utils.commands import add_command
from babelir.utils.devices import add_device_argument, resolve_device
from babelir.utils.errors import BabelirError

API_KEY_ENV = "BABELIR_API_KEY"


def port_number(text: str) -> int:
    """``--port``: an integer in 1..65535 (argparse turns the error into its one-line usage error)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is outside the port range 1-65535")
    return port


def _positive(kind: type[int] | type[float], most: float | None = None):
    """A flag's type: a finite number above 0 (and at most ``most``), as :mod:`babelir.serve.settings` rules."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        problem = number_problem(value, whole=kind is int, most=most, shown=text)
        if problem is not None:
            raise argparse.ArgumentTypeError(problem)
        return value

    return parse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(
        subparsers,
        "serve",
        "serve an index over HTTP: POST /search, GET /health and a search page at /",
        "Serve INDEX with a JSON API (POST /search, GET /health, the OpenAPI schema at /openapi.json) and\n"
        "a search page at /. Binds 127.0.0.1 unless --host says otherwise; another address needs an API\n"
        f"key (--api-key or ${API_KEY_ENV}).\n\n"
        "Overload: beyond --max-queue waiting requests, or after --request-timeout seconds, a request\n"
        "gets 503 with a Retry-After header; beyond --max-connections open connections, 503 too.\n"
        "Slow clients: a request's headers, and then its body, must each arrive within --client-timeout\n"
        "seconds; a stalled client is disconnected (408 for a body) and never blocks the others.\n\n"
        "example:\n"
        f"  {API_KEY_ENV}=$(openssl rand -hex 16) babelir serve runs/idx --host 0.0.0.0 --port 8080",
    )
    p.add_argument("index", help="index folder written by 'babelir index'")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    p.add_argument("--port", type=port_number, default=8000, help="TCP port, 1-65535 (default: 8000)")
    p.add_argument("--backend", choices=BACKENDS, default="torch", help=f"query encoder: {BACKEND_HELP}")
    add_device_argument(p)
    p.add_argument("--model", default=None, help="query encoder (default: the one in the manifest)")
    p.add_argument("--no-neutralize", dest="neutralize", action="store_false",
                   help="answer without the index's language statistics (see 'babelir index --neutralization')")
    p.add_argument("--max-k", type=_positive(int), default=100, help="largest k a request may ask for")
    p.add_argument("--max-queries", type=_positive(int), default=32, help="most queries in one request")
    p.add_argument("--max-query-chars", type=_positive(int), default=2000, help="longest query text")
    p.add_argument(
        "--max-queue",
        type=_positive(int),
        default=64,
        help="most requests waiting; beyond: 503 (default: 64)",
    )
    p.add_argument(
        "--request-timeout",
        type=_positive(float, most=MOST_SECONDS),
        default=30.0,
        help="seconds a request may wait and run; beyond: 503, unstarted work dropped (default: 30)",
    )
    p.add_argument(
        "--client-timeout",
        type=_positive(float, most=MOST_SECONDS),
        default=10.0,
        help="seconds a client may take to send a request's headers, and again its body; beyond: "
        "disconnected (408 for a body) (default: 10)",
    )
    p.add_argument(
        "--max-connections",
        type=_positive(int),
        default=256,
        help="most open connections, idle and stalled ones included; beyond: 503 (default: 256; at most "
        "'ulimit -n' less 64)",
    )
    p.add_argument(
        "--api-key",
        default=None,
        help=f"require this key (header X-API-Key or 'Authorization: Bearer') everywhere but the page and "
        f"/health; prefer ${API_KEY_ENV}, which other users cannot read in the process list",
    )
    p.add_argument(
        "--insecure-no-api-key",
        action="store_true",
        help="allow a non-loopback --host without a key (only behind a proxy that controls access)",
    )
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    p.set_defaults(func=run_serve)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api_key(args: argparse.Namespace) -> str | None:
    """The key from ``--api-key`` or the environment (empty means none); a non-loopback ``--host``
    without one is an error unless ``--insecure-no-api-key``."""
    key = args.api_key or os.environ.get(API_KEY_ENV) or None
    if key is None and not _is_loopback(args.host):
        if not args.insecure_no_api_key:
            raise BabelirError(
                None,
                None,
                f"--host {args.host} makes the API reachable from other machines: give --api-key KEY (or set "
                f"{API_KEY_ENV}), or --insecure-no-api-key if a proxy in front controls access",
            )
        print(f"babelir: warning: serving {args.host} without an API key", file=sys.stderr)
    return key


def run_serve(args: argparse.Namespace) -> int:
    from babelir.utils.extras import require

    require("uvicorn", extra="serve")
    require("fastapi", extra="serve")  # babelir.serve.app imports it: fail with the install hint first
    import uvicorn.config

    from babelir.index.search import Index
    from babelir.serve import server
    from babelir.serve.app import Limits, create_app

    key = api_key(args)  # before loading: a refused bind should not wait for the model
    limits = Limits(
        max_k=args.max_k,
        max_queries=args.max_queries,
        max_query_chars=args.max_query_chars,
        max_queue=args.max_queue,
        request_timeout=args.request_timeout,
        client_timeout=args.client_timeout,
    )
    server.check_connections(args.max_connections)
    sockets = server.listen(args.host, args.port)  # a busy port fails here, at once, in one line
    try:
        index = Index.load(  # errors name the bad file
            args.index, model=args.model, backend=args.backend, device=resolve_device(args.device),
            neutralize=args.neutralize,
        )
        index.model  # noqa: B018 - load the query model here, so a bad one is babelir's one-line error, not uvicorn's startup traceback
        uvicorn_server = server.build(
            create_app(index, limits, api_key=key), max_connections=args.max_connections,
            client_timeout=args.client_timeout, request_timeout=args.request_timeout, log_level=args.log_level,
            log_config=log_config(uvicorn.config.LOGGING_CONFIG),
        )
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    where = server.address(args.host, args.port)
    print(f"serving {len(index)} documents on http://{where}/ (Ctrl-C to stop)", file=sys.stderr, flush=True)
    return server.run(uvicorn_server, sockets)


KEY_IN_QUERY = re.compile(r"(?<=[?&])key=[^&#\s]*")


def redact_key(path: str) -> str:
    """``path`` with the value of a ``key=`` query parameter hidden: the search page accepts ``/?key=KEY``."""
    return KEY_IN_QUERY.sub("key=REDACTED", path)


class RedactKeyFilter(logging.Filter):
    """Hides ``?key=`` in uvicorn's access lines (args: client, method, path with query, version, status),
    so the API key never reaches a log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) > 2 and isinstance(record.args[2], str):
            record.args = (*record.args[:2], redact_key(record.args[2]), *record.args[3:])
        return True


def log_config(base: dict) -> dict:
    """uvicorn's logging configuration with :class:`RedactKeyFilter` on its access handler."""
    config = copy.deepcopy(base)
    config.setdefault("filters", {})["redact_key"] = {"()": RedactKeyFilter}
    config["handlers"]["access"].setdefault("filters", []).append("redact_key")
    return config
