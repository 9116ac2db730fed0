"""The server's outer guard, a pure ASGI middleware in front of FastAPI: API key, body size, headers.

Why pure ASGI (not FastAPI dependencies): it runs before any body is read or parsed, so a request
without the key (401) or with an oversized body (413) costs the server nothing, and the security headers
are added to every response, errors and static files included.

The API key (``babelir serve --api-key`` or ``BABELIR_API_KEY``) is accepted as ``X-API-Key: KEY`` or
``Authorization: Bearer KEY`` and compared in constant time (:func:`hmac.compare_digest`), so response
timing does not leak how much of a guess was right. Only the search page's own files (``/`` and
``/static/...``, so the page can load and ask for the key) and ``/health`` (for load balancers and
the page's language list) are open without it.

``max_active`` caps the API requests inside the app at once (bodies being read, validated, waiting for
or in the query batch): the query queue bounds the encoding work, this bounds the memory and event-loop
time a flood of connections could claim (each may hold a body of up to ``max_body_bytes``). Beyond it a
request gets the same 503 + ``Retry-After`` as a full queue, before its body is read.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
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


class GuardMiddleware:
    """Refuse requests without the API key (401) and bodies over the limit (413) before the app buffers
    them; add the security headers to every response."""

    def __init__(
        self,
        app: Any,
        max_body_bytes: int,
        api_key: str | None = None,
        max_active: int | None = None,
        retry_after: Callable[[], int] = lambda: 1,
    ):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.api_key = api_key.encode() if api_key else None
        self.max_active = max_active
        self.retry_after = retry_after
        self.active = 0  # API requests inside the app now (one event loop: no lock needed)

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
        if is_open(scope.get("path", "")):
            await self._guarded(scope, receive, send_with_headers, headers)
            return
        if self.api_key is not None and not key_matches(headers, self.api_key):
            problem = (
                "a valid API key is required (header 'X-API-Key: KEY' or 'Authorization: Bearer KEY')"
            )
            await send_json(send_with_headers, 401, problem, [(b"www-authenticate", b"Bearer")])
            return
        if self.max_active is not None and self.active >= self.max_active:
            detail = f"server busy: {self.active} requests in progress; retry later"
            wait = str(self.retry_after()).encode()
            await send_json(send_with_headers, 503, detail, [(b"retry-after", wait)])
            return
        self.active += 1
        try:
            await self._guarded(scope, receive, send_with_headers, headers)
        finally:
            self.active -= 1

    async def _guarded(self, scope: dict, receive: Any, send_with_headers: Any, headers: dict) -> None:
        """Body size limit, then the app."""
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await self._too_large(send_with_headers)
            return
        if scope.get("method") in ("POST", "PUT", "PATCH"):
            chunks, size, more = [], 0, True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body_bytes:
                    await self._too_large(send_with_headers)
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
            body = b"".join(chunks)
            sent = False

            async def replay() -> dict:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    async def _too_large(self, send: Any) -> None:
        await send_json(send, 413, f"request body larger than {self.max_body_bytes} bytes")
