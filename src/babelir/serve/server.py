"""The process around the app: listening sockets, the connection cap, client time limits, how a stop ends.

Why not ``uvicorn.run``: on a busy port it logs its own lines and exits 3, and it swallows Ctrl-C (exit
0); babelir's contract is one ``babelir: error:`` line with exit 2, and 130 for an interrupted command.
So :func:`listen` binds the sockets first (before the model loads, so a busy port fails at once, naming
the address and what to do), and :func:`run` runs a ``uvicorn.Server`` on them, letting Ctrl-C through.

Connections: uvicorn's ``limit_concurrency`` (``babelir serve --max-connections``) caps the open
connections; a request on one beyond it gets uvicorn's 503. A connection holds at most one body (the
guard reads it, up to ``max_body_bytes``) and uvicorn's read buffer (64 KiB), so the cap bounds memory,
and each stalled client holds a connection, never one of the in-flight places answered requests need
(:mod:`babelir.serve.guard`). uvicorn's ``timeout_keep_alive`` (5 s) closes idle connections and h11's
``max_incomplete_event_size`` caps a request's headers at 16 KiB.

Slow clients: the guard gives a body ``client_timeout`` seconds (then 408). uvicorn has no time limit for
the headers before it: a client that sends half a request line, or keeps one byte coming, holds its
connection (and its place under the cap) for ever. :class:`ClientTimeoutProtocol` is uvicorn's own h11
protocol plus one timer for that: from a connection's start and from each answer, the next request's
headers must be in within ``client_timeout`` seconds, or the connection is closed. (h11 even where
httptools is installed: the timer hooks one protocol's methods, so the server runs that one.)
"""

from __future__ import annotations

import asyncio
import errno
import math
import signal
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from babelir.serve.settings import MOST_SECONDS, check_number
from babelir.utils.errors import BabelirError

MAX_HEADER_BYTES = 16 * 1024  # h11's default, stated: a request's line and headers together
BACKLOG = 2048  # uvicorn's default queue of connections not yet accepted
SPARE_FILES = 64  # file descriptors left beside the connections: the index, the model, logs, the loop


class ClientTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol with a time limit for a request's headers (``header_timeout`` seconds, from
    the connection's start or the previous answer); a connection without a complete request by then is
    closed. A request in progress is never cut by it: its body has the guard's limit, its answer
    ``request_timeout``."""

    header_timeout: float = 10.0
    _header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_overdue)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_overdue(self) -> None:
        self._header_deadline = None
        waiting_for_headers = self.cycle is None or self.cycle.response_complete  # else: a request runs
        if waiting_for_headers and not self.transport.is_closing():
            self.logger.debug("%s: no complete request within %g s: closing", self.client, self.header_timeout)
            self.transport.close()


def client_timeout_protocol(seconds: float) -> type[ClientTimeoutProtocol]:
    """:class:`ClientTimeoutProtocol` with ``seconds`` for the headers (uvicorn builds protocols itself)."""
    check_number("client_timeout", seconds, most=MOST_SECONDS)
    return type("ClientTimeoutProtocol", (ClientTimeoutProtocol,), {"header_timeout": float(seconds)})


def address(host: str, port: int) -> str:
    """``host:port``, with brackets around an IPv6 host."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def bind_problem(host: str, port: int, err: OSError) -> str:
    """What a failed bind means and what to do, in one line."""
    where = address(host, port)
    if err.errno == errno.EADDRINUSE:
        return (f"{where} is already in use (another server, or another 'babelir serve'?): choose another "
                "--port, or stop the program listening there")
    if err.errno == errno.EACCES:
        return f"not permitted to listen on {where} (ports below 1024 need privileges): choose a --port of 1024 or more"
    if err.errno == errno.EADDRNOTAVAIL:
        return (f"cannot listen on {where}: {host} is not an address of this machine; give one of its own "
                "with --host (127.0.0.1: this machine only)")
    return f"cannot listen on {where}: {(err.strerror or str(err)).lower()}"


def listen(host: str, port: int) -> list[socket.socket]:
    """Listening sockets on every address ``host`` resolves to (as asyncio's ``create_server`` would open
    them); a busy port, a foreign address or a privileged port is a :class:`BabelirError`."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        raise BabelirError(None, None, f"--host {host}: cannot resolve it ({err.strerror}); give an IP address "
                           "or a name of this machine") from None
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, where in dict.fromkeys(infos):
            try:
                sock = socket.socket(family, kind, proto)
            except OSError:  # an address family this system lacks (IPv6 turned off): skip it, as asyncio does
                continue
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(where)
            sock.listen(BACKLOG)
            sock.setblocking(False)
    except OSError as err:
        for sock in sockets:
            sock.close()
        raise BabelirError(None, None, bind_problem(host, port, err)) from None
    if not sockets:
        raise BabelirError(None, None, f"cannot listen on {address(host, port)}: no usable address; check --host")
    return sockets


def check_connections(max_connections: int) -> None:
    """``--max-connections`` must be a whole number above 0 that the open-file limit allows (each
    connection is a file descriptor; beyond the limit, accepting fails in a loop of log lines)."""
    check_number("max_connections", max_connections, whole=True)
    try:
        import resource
    except ImportError:  # not on Unix: no limit to read
        return
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and max_connections > soft - SPARE_FILES:
        raise BabelirError(
            None, None, f"--max-connections {max_connections} is more than this process may open (ulimit -n "
            f"{soft}, less {SPARE_FILES} for its own files): give at most {max(1, soft - SPARE_FILES)}, or raise "
            "'ulimit -n'",
        )


def interrupted(server: uvicorn.Server) -> bool:
    """Whether a Ctrl-C (SIGINT) stopped ``server``. uvicorn catches the signal to shut down gracefully;
    releases that raise it again afterwards end in ``KeyboardInterrupt`` before this is asked, the others
    return normally, with the signal in the list they captured (``should_exit`` where there is none: only a
    signal sets it here, no request limit is configured)."""
    captured = getattr(server, "_captured_signals", None)
    if captured is None:
        return bool(server.should_exit)
    return signal.SIGINT in captured


def build(
    app: Any,
    *,
    max_connections: int,
    client_timeout: float,
    request_timeout: float,
    log_level: str = "info",
    log_config: dict | None = None,
) -> uvicorn.Server:
    """A ``uvicorn.Server`` for ``app`` with the connection cap and the client time limits (not started)."""
    check_connections(max_connections)
    check_number("request_timeout", request_timeout, most=MOST_SECONDS)
    config = uvicorn.Config(
        app,
        log_level=log_level,
        log_config=log_config,
        workers=1,
        http=client_timeout_protocol(client_timeout),
        ws="none",  # the app has no WebSocket route: an upgrade request is plain HTTP (and under the timer)
        limit_concurrency=max_connections,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        # a stop waits for the requests in progress, each bounded by its body and answer time limits
        timeout_graceful_shutdown=math.ceil(client_timeout + request_timeout),
    )
    return uvicorn.Server(config)


def run(server: uvicorn.Server, sockets: list[socket.socket]) -> int:
    """Serve on ``sockets`` (closed after) until stopped. Ctrl-C raises ``KeyboardInterrupt`` (the command
    line's 130); SIGTERM ends the process as that signal does (uvicorn raises it again after its graceful
    shutdown); a failed startup is a :class:`BabelirError` (uvicorn has logged why)."""
    try:
        server.run(sockets=sockets)
    except SystemExit:  # uvicorn's exit on a failed startup (the app's lifespan), after logging why
        if server.started:
            raise
        raise BabelirError(None, None, "the server did not start: see uvicorn's message above") from None
    finally:
        for sock in sockets:
            sock.close()
    if interrupted(server):
        raise KeyboardInterrupt
    return 0
