"""The server's outer guard, a pure ASGI middleware in front of FastAPI: API key, body, in-flight caps, headers.

Why pure ASGI (not FastAPI dependencies): it runs before any body is read or parsed, so a request
without the key (401) or with an oversized body (413) costs the server nothing, and the security headers
are added to every response, errors and static files included.

The API key (``babelir serve --api-key`` or ``BABELIR_API_KEY``) is accepted as ``X-API-Key: KEY`` or
``Authorization: Bearer KEY`` and compared in constant time (:func:`hmac.compare_digest`), so response
timing does not leak how much of a guess was right. Only the search page's own files (``/`` and
``/static/...``, so the page can load and ask for the key) and ``/health`` (for load balancers and
the page's language list) are open without it.

Every request's body is read here, whole, before the app sees it, under two limits: ``max_body_bytes``
(413) and ``body_timeout`` seconds for all of it (408; a total, not a per-read limit, so a client that
trickles a byte now and then is cut off as surely as one that stopped). The open paths take no body at
all (any body is 413): a keyless client cannot park data on a server that has a key. Every answer given
before a body was read whole (401, 413, 408, 503) closes the connection, so the rest of it is never read.

Two in-flight caps count the requests inside the app: ``max_active`` for the API (validated, waiting for or
in the query batch: the query queue bounds the encoding work, this bounds the memory and event-loop time a
flood of requests could claim) and ``max_open`` for the open paths (each holds a worker thread while a
file or ``/health`` is answered), kept apart so that keyless clients cannot take the API's places and a
busy API still answers ``/health``. A request takes its place only once its body has arrived: a stalled
upload holds a connection (capped by uvicorn's ``limit_concurrency``, :mod:`babelir.serve.server`) until
``body_timeout``, never a place that answered requests need. A full cap is checked before the body is
read too, so a refused request costs nothing; beyond it: the same 503 + ``Retry-After`` as a full queue.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
]

OPEN_PATHS = ("/", "/health")  # and everything under /static/
CLOSE = [(b"connection", b"close")]  # uvicorn closes the connection after a response that says so


def is_open(path: str) -> bool:
    """Whether ``path`` is served without the API key: the search page's files and ``/health``."""
    return path in OPEN_PATHS or path.startswith("/static/")


def presented_key(headers: dict[bytes, bytes]) -> bytes | None:
    """The key a request carries: ``X-API-Key`` first, else an ``Authorization: Bearer`` token."""
    if b"x-api-key" in headers:
        return headers[b"x-api-key"].strip()
    scheme, _, token = headers.get(b"authorization", b"").strip().partition(b" ")
    if scheme.lower() == b"bearer" and token.strip():
        return token.strip()
    return None


def key_matches(headers: dict[bytes, bytes], api_key: str | bytes) -> bool:
    """Whether the request's headers carry ``api_key`` (compared in constant time)."""
    given = presented_key(headers)
    expected = api_key.encode() if isinstance(api_key, str) else api_key
    return given is not None and hmac.compare_digest(given, expected)


async def send_json(send: Any, status: int, detail: str, extra_headers: list | None = None) -> None:
    """A complete JSON error response ``{"detail": ...}`` straight on the ASGI channel."""
    payload = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra_headers or [])})
    await send({"type": "http.response.body", "body": payload})


def has_body(headers: dict[bytes, bytes]) -> bool:
    """Whether a request announces a body (a non-zero ``Content-Length`` or a chunked one)."""
    return headers.get(b"content-length", b"0").strip() not in (b"0", b"") or b"transfer-encoding" in headers


@dataclass
class Places:
    """Requests of one kind inside the app, against a cap (``None``: no cap). One event loop: no lock."""

    cap: int | None
    what: str  # names the requests in the 503's detail
    used: int = 0

    def full(self) -> bool:
        return self.cap is not None and self.used >= self.cap


class BodyRefused(Exception):
    """The body was not taken: ``status`` and ``detail`` to answer (``None``: the client left)."""

    def __init__(self, status: int | None = None, detail: str = ""):
        super().__init__(detail)
        self.status = status
        self.detail = detail


class GuardMiddleware:
    """Refuse requests without the API key (401), bodies over the limit (413) or too slow (408) and requests
    beyond the in-flight caps (503) before the app buffers anything; add the security headers to every
    response."""

    def __init__(
        self,
        app: Any,
        max_body_bytes: int,
        api_key: str | None = None,
        max_active: int | None = None,
        retry_after: Callable[[], int] = lambda: 1,
        max_open: int | None = None,
        body_timeout: float | None = None,
    ):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.api_key = api_key.encode() if api_key else None
        self.api = Places(max_active, "requests")
        self.open = Places(max_open, "requests for the page and /health")
        self.retry_after = retry_after
        self.body_timeout = body_timeout

    @property
    def active(self) -> int:
        """API requests inside the app now."""
        return self.api.used

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        headers = dict(scope.get("headers") or [])
        open_path = is_open(scope.get("path", ""))
        if not open_path and self.api_key is not None and not key_matches(headers, self.api_key):
            problem = (
                "a valid API key is required (header 'X-API-Key: KEY' or 'Authorization: Bearer KEY')"
            )
            unread = CLOSE if has_body(headers) else []
            await send_json(send_with_headers, 401, problem, [(b"www-authenticate", b"Bearer"), *unread])
            return
        places = self.open if open_path else self.api
        if places.full():  # before the body is read: a full server spends nothing on this one
            await self._busy(send_with_headers, places, CLOSE if has_body(headers) else [])
            return
        limit = 0 if open_path else self.max_body_bytes
        try:
            body = await self._read_body(receive, headers, limit)
        except BodyRefused as refused:
            if refused.status is not None:
                await send_json(send_with_headers, refused.status, refused.detail, CLOSE)
            return
        if places.full():  # filled up while this body arrived
            await self._busy(send_with_headers, places)
            return
        places.used += 1
        try:
            await self.app(scope, self._replay(body, receive), send_with_headers)
        finally:
            places.used -= 1

    async def _read_body(self, receive: Any, headers: dict, limit: int) -> bytes:
        """The whole body, at most ``limit`` bytes within ``body_timeout`` seconds; else :class:`BodyRefused`."""
        too_large = BodyRefused(413, f"request body larger than {limit} bytes" if limit else
                                "this path takes no request body")
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise too_large
        chunks, size = [], 0
        try:
            async with asyncio.timeout(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise BodyRefused()
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        raise too_large
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            raise BodyRefused(
                408, f"request body not received within {self.body_timeout:g} s; send it whole, without pauses"
            ) from None

    @staticmethod
    def _replay(body: bytes, receive: Any) -> Callable[[], Any]:
        """A ``receive`` that gives the app the body read here, then passes on (disconnect notices)."""
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

    async def _busy(self, send: Any, places: Places, extra_headers: list | None = None) -> None:
        detail = f"server busy: {places.used} {places.what} in progress; retry later"
        wait = str(self.retry_after()).encode()
        await send_json(send, 503, detail, [(b"retry-after", wait), *(extra_headers or [])])
