"""Slow and stalled clients against a real server (uvicorn on loopback, raw sockets, a 1 s client time limit).

Each case once hurt every other client (issue "Lose nothing, part two"): stalled ``POST /search`` uploads
held the in-flight places until all other requests got 503, for as long as they stayed connected; a body
on a ``GET`` to an open path was taken (and open paths counted toward no cap) on a server that had a key;
a client that never finished its headers held its connection for ever. Now a body is read whole, within
``client_timeout``, before its request takes a place (408 after), open paths take no body and have their
own cap, headers have the same time limit, and the connections have a cap.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from babelir.index import Index
from babelir.serve import Limits, create_app, server
from babelir.serve.guard import GuardMiddleware

KEY = "k3y"
LIMIT = 1.0  # client_timeout: seconds for the headers, and again for the body
MAX_CONNECTIONS = 24
QUERY = b'{"query": "the cat sleeps", "k": 2}'


@dataclass
class Live:
    port: int
    app: object

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def connect(self, request: bytes = b"") -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        if request:
            sock.sendall(request)
        return sock


@pytest.fixture(scope="module")
def live(built_index: Path) -> Iterator[Live]:
    """A server with a key, 3 places for the API (queue 2 + batch 1), 2 for the open paths, a 1 s client
    time limit and 24 connections."""
    limits = Limits(max_queue=2, max_open=2, client_timeout=LIMIT, request_timeout=10.0)
    app = create_app(Index.load(built_index), limits, max_batch=1, api_key=KEY, health_ttl=0.0)
    sockets = server.listen("127.0.0.1", 0)
    port = sockets[0].getsockname()[1]
    uv = server.build(app, max_connections=MAX_CONNECTIONS, client_timeout=LIMIT,
                      request_timeout=limits.request_timeout, log_level="warning", log_config=None)
    thread = threading.Thread(target=server.run, args=(uv, sockets), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    yield Live(port, app)
    uv.should_exit = True
    thread.join(15)


def upload_head(length: int, path: str = "/search", key: str | None = KEY) -> bytes:
    """A request's headers announcing a body of ``length`` bytes, which is then sent slowly or not at all."""
    auth = f"X-API-Key: {key}\r\n" if key else ""
    return (f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n{auth}"
            f"Content-Length: {length}\r\n\r\n").encode()


def answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def search(live: Live) -> httpx.Response:
    return httpx.post(live.url("/search"), content=QUERY, timeout=10,
                      headers={"X-API-Key": KEY, "Content-Type": "application/json"})


def test_stalled_uploads_hold_no_place_and_are_cut_off(live: Live) -> None:
    stalled = [live.connect(upload_head(len(QUERY)) + QUERY[:5]) for _ in range(8)]  # 8 > the 3 places
    try:
        time.sleep(0.2)  # the server has them all
        t0 = time.monotonic()
        response = search(live)
        assert response.status_code == 200, response.text  # was 503: the stalls held every place
        for sock in stalled:
            reply = answer(sock)  # then closed by the server
            assert reply.startswith(b"HTTP/1.1 408 "), reply[:200]
            assert b"connection: close" in reply.lower() and b"within 1 s" in reply
        assert time.monotonic() - t0 < LIMIT + 2
    finally:
        for sock in stalled:
            sock.close()


def test_a_trickled_body_is_cut_at_the_time_limit(live: Live) -> None:
    with live.connect(upload_head(len(QUERY))) as sock:
        t0 = time.monotonic()
        reply = b""
        for byte in QUERY:  # a byte every 0.1 s: the whole body would take 3.6 s
            if select.select([sock], [], [], 0.1)[0]:  # the server answered
                reply = answer(sock)
                break
            sock.sendall(bytes([byte]))
        elapsed = time.monotonic() - t0
    assert reply.startswith(b"HTTP/1.1 408 "), reply[:200]
    assert LIMIT * 0.9 <= elapsed < LIMIT + 2  # cut at the limit, although bytes kept coming


@pytest.mark.parametrize("start", [b"", b"GET /health HTTP/1.1\r\nHost: t\r\n"], ids=["silent", "half-headers"])
def test_a_request_whose_headers_never_end_is_disconnected(live: Live, start: bytes) -> None:
    with live.connect(start) as sock:
        t0 = time.monotonic()
        assert answer(sock) == b""  # closed without an answer
        assert time.monotonic() - t0 < LIMIT + 2


def test_open_paths_take_no_body(live: Live) -> None:
    big = b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000  # no key: an open path
    chunked = b"GET /health HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" + b"x" * 1024
    for request in (big, chunked):
        with live.connect(request) as sock:
            reply = answer(sock)  # refused at once, the connection closed: the rest is never read
        assert reply.startswith(b"HTTP/1.1 413 "), reply[:200]
        assert b"takes no request body" in reply
    assert httpx.get(live.url("/"), timeout=10).status_code == 200  # without a body: served


def test_open_paths_count_toward_their_own_cap(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    gate, inside = threading.Event(), threading.Semaphore(0)
    real = live.app.state.health.check

    def slow_check():
        inside.release()
        assert gate.wait(10)
        return real()

    monkeypatch.setattr(live.app.state.health, "check", slow_check)
    guard = live.app.middleware_stack  # built at startup; the guard is one of its layers
    while not isinstance(guard, GuardMiddleware):
        guard = guard.app
    with ThreadPoolExecutor(2) as pool:
        held = [pool.submit(httpx.get, live.url("/health"), timeout=20) for _ in range(2)]  # 2 = max_open
        assert inside.acquire(timeout=10)
        deadline = time.monotonic() + 10
        while guard.open.used < 2:  # the second waits for the first's check: inside the app too
            assert time.monotonic() < deadline
            time.sleep(0.01)
        busy = httpx.get(live.url("/static/app.js"), timeout=10)  # no key, as a flood of keyless clients
        assert busy.status_code == 503 and int(busy.headers["retry-after"]) >= 1
        assert "2 requests for the page and /health in progress" in busy.json()["detail"]
        assert search(live).status_code == 200  # the API's places are not theirs
        gate.set()
        assert [f.result(20).status_code for f in held] == [200, 200]
    assert httpx.get(live.url("/static/app.js"), timeout=10).status_code == 200


def test_connections_beyond_the_cap_get_503_until_stalled_ones_time_out(live: Live) -> None:
    idle = [live.connect() for _ in range(MAX_CONNECTIONS - 1)]  # with the next request's own: the cap
    try:
        time.sleep(0.2)
        assert search(live).status_code == 503  # uvicorn's limit_concurrency
        t0 = time.monotonic()
        for sock in idle:
            assert answer(sock) == b""  # each closed after the header time limit
        assert time.monotonic() - t0 < LIMIT + 2
    finally:
        for sock in idle:
            sock.close()
    assert search(live).status_code == 200
