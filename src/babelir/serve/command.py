"""``babelir serve INDEX [--host 127.0.0.1 --port 8000]``: the search API and page."""

from __future__ import annotations

import argparse
import ipaddress
import sys

from babelir.data.errors import DataError
from babelir.encoding import BACKENDS
from babelir.index.command import BACKEND_HELP
from babelir.utils.commands import add_command


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(
        subparsers,
        "serve",
        "serve an index over HTTP: POST /search, GET /health and a search page at /",
        "Serve INDEX with a JSON API (POST /search, GET /health, OpenAPI docs at /docs) and a search page\n"
        "at /. Binds 127.0.0.1 unless --host says otherwise.",
    )
    p.add_argument("index", help="index folder written by 'babelir index'")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--backend", choices=BACKENDS, default="torch", help=f"query encoder: {BACKEND_HELP}")
    p.add_argument("--model", default=None, help="query encoder (default: the one in the manifest)")
    p.add_argument("--max-k", type=int, default=100, help="largest k a request may ask for")
    p.add_argument("--max-queries", type=int, default=32, help="most queries in one request")
    p.add_argument("--max-query-chars", type=int, default=2000, help="longest query text")
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    p.set_defaults(func=run_serve)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_serve(args: argparse.Namespace) -> int:
    from babelir.utils.extras import require

    uvicorn = require("uvicorn", extra="serve")
    require("fastapi", extra="serve")  # babelir.serve.app imports it: fail with the install hint first
    from babelir.index.search import Index
    from babelir.serve.app import Limits, create_app

    try:
        index = Index.load(args.index, model=args.model, backend=args.backend)
    except (DataError, ValueError, FileNotFoundError) as err:
        print(f"babelir: error: {err}", file=sys.stderr)
        return 2
    if not _is_loopback(args.host):
        print(
            f"babelir: warning: binding {args.host}: the API is reachable from other machines and has no "
            "authentication; put it behind a proxy that has",
            file=sys.stderr,
        )
    limits = Limits(max_k=args.max_k, max_queries=args.max_queries, max_query_chars=args.max_query_chars)
    app = create_app(index, limits)
    print(f"serving {len(index)} documents on http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, workers=1)
    return 0
