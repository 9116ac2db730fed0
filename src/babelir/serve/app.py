"""The HTTP API and search page over one :class:`~babelir.index.Index`.

* ``POST /search`` JSON ``{"query": str}`` or ``{"queries": [str, ...]}``, optional ``k`` and ``language``
  -> ``{"results": [{"query", "hits": [{"id", "score", "rank", "text", "title", "language"}]}], ...}``
* ``GET /health`` -> status, document count, languages, model, limits (the page reads its filter list here)
* ``GET /`` -> the search page (``static/index.html`` + ``app.js`` + ``style.css``)

Safety: bodies above ``max_body_bytes`` get 413 before any parsing; every field is validated by pydantic
(too many or too long queries, ``k`` above the limit, unknown fields, malformed JSON -> 422 with a
readable message and without echoing the input back); the page is served with a strict
Content-Security-Policy and builds results with ``textContent``, so document text can never run as code.
Nothing is loaded with pickle: the index is faiss' own format, documents are SQLite, settings JSON.
"""

# No ``from __future__ import annotations`` here: FastAPI must see the real (locally built) body class
# of ``/search``, not a string it cannot resolve from the module namespace.
import asyncio
import json
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from babelir.data.errors import DataError
from babelir.data.languages import language_code
from babelir.index.search import Hit, Index
from babelir.serve.batching import QueryBatcher

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


@dataclass(frozen=True)
class Limits:
    """Request limits: each bounds the CPU one request can claim on a small shared machine."""

    max_k: int = 100
    max_queries: int = 32
    max_query_chars: int = 2000
    max_body_bytes: int = 256 * 1024


class QueryResult(BaseModel):
    query: str
    hits: list[Hit]  # the search's own dataclass: the API's hit fields cannot drift from the library's


class SearchResponse(BaseModel):
    results: list[QueryResult]
    k: int
    language: str | None
    took_ms: float


def request_model(limits: Limits) -> type[BaseModel]:
    """The ``POST /search`` body schema with this server's limits baked into its constraints."""
    Text = Annotated[str, StringConstraints(min_length=1, max_length=limits.max_query_chars)]

    class SearchRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")

        query: Text | None = Field(None, description="one query text")
        queries: list[Text] | None = Field(None, min_length=1, max_length=limits.max_queries)
        k: int = Field(10, ge=1, le=limits.max_k, description="hits per query")
        language: str | None = Field(None, max_length=16, description="only documents of this language")

        @model_validator(mode="after")
        def _check(self) -> "SearchRequest":
            if (self.query is None) == (self.queries is None):
                raise ValueError("give exactly one of 'query' (a string) or 'queries' (a list of strings)")
            for text in self.texts():
                if not text.strip():
                    raise ValueError("query texts must not be blank")
            if self.language is not None:
                try:
                    self.language = language_code(self.language)
                except DataError as err:
                    raise ValueError(err.problem) from None  # the problem alone: there is no file here
            return self

        def texts(self) -> list[str]:
            return [self.query] if self.query is not None else list(self.queries or [])

    return SearchRequest


class GuardMiddleware:
    """Pure ASGI: refuse bodies over the limit (413) before the app buffers them, add security headers."""

    def __init__(self, app: Any, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

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
        payload = json.dumps({"detail": f"request body larger than {self.max_body_bytes} bytes"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _messages(err: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic errors without the offending input (it may be large, and reflecting it helps no one)."""
    out = []
    for e in err.errors():
        loc = [str(x) for x in e.get("loc", ()) if x != "body"]
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        if e.get("type") == "json_invalid":
            where = f" at character {loc[0]}" if loc else ""
            loc, msg = [], f"malformed JSON{where}: {e.get('ctx', {}).get('error', 'cannot parse the body')}"
        elif not loc and e.get("type") in ("model_attributes_type", "dict_type"):
            msg = 'expected a JSON object such as {"query": "...", "k": 10} (Content-Type: application/json)'
        out.append({"field": ".".join(loc) or "body", "message": msg})
    return out


def create_app(index: Index, limits: Limits | None = None, max_batch: int = 64) -> FastAPI:
    """A FastAPI app serving ``index``; the query encoder is loaded at startup, not on the first request."""
    limits = limits or Limits()
    batcher = QueryBatcher(index, max_batch=max_batch)
    SearchRequest = request_model(limits)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        await asyncio.to_thread(lambda: index.model)  # warm: the first user should not wait for loading
        batcher.start()
        yield
        batcher.stop()

    app = FastAPI(
        title="babelir search",
        description="Language-agnostic multilingual retrieval over one index.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.index = index
    app.state.batcher = batcher
    app.state.limits = limits
    static = resources.files("babelir.serve") / "static"

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        errors = _messages(err)
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse(status_code=422, content={"detail": summary, "errors": errors})

    @app.get("/health")
    def health() -> dict[str, Any]:
        manifest = index.manifest
        return {
            "status": "ok",
            "documents": len(index),
            "languages": index.languages(),
            "model": manifest["model"]["name"],
            "index_type": manifest["index"]["index_type"],
            "limits": {
                "max_k": limits.max_k,
                "max_queries": limits.max_queries,
                "max_query_chars": limits.max_query_chars,
            },
        }

    @app.post("/search", response_model=SearchResponse)
    async def search(body: SearchRequest) -> SearchResponse:  # type: ignore[valid-type]
        t0 = time.perf_counter()
        texts = body.texts()
        future = batcher.submit(texts, body.k, body.language)
        results = await asyncio.wrap_future(future)
        return SearchResponse(
            results=[
                QueryResult(query=text, hits=hits)
                for text, hits in zip(texts, results, strict=True)
            ],
            k=body.k,
            language=body.language,
            took_ms=round((time.perf_counter() - t0) * 1000, 3),
        )

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(str(static / "index.html"), media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.add_middleware(GuardMiddleware, max_body_bytes=limits.max_body_bytes)
    return app
