"""The HTTP API and search page over one :class:`~babelir.index.Index`.

* ``POST /search`` JSON ``{"query": str}`` or ``{"queries": [str, ...]}``, optional ``k``, ``language``
  (a document filter) and ``query_language`` -> ``{"results": [{"query", "hits": [{"id", "score", "rank",
  "text", "title", "language"}], "query_language": {"language", "source", "neutralized", "note"}}], ...}``
  (``query_language``: what language neutralization did to the query, :class:`babelir.index.QueryLanguage`)
* ``GET /health`` -> status, document count, languages, model, limits (the page reads its filter list
  here); 503 with ``reason`` when the index or the model is not usable (:mod:`babelir.serve.health`)
* ``GET /openapi.json`` -> the API's OpenAPI schema; ``GET /`` -> the search page (``static/``)

Safety: bodies above ``max_body_bytes`` get 413 before any parsing, bodies not in within
``client_timeout`` seconds 408, and the open paths take no body at all (:mod:`babelir.serve.guard`);
every field is validated by pydantic (too many or too long queries, ``k`` above the limit, unknown
fields, malformed JSON -> 422 with a readable message and without echoing the input back); the page is served with a strict
Content-Security-Policy and builds results with ``textContent``, so document text can never run as code.
Nothing is loaded with pickle: the index is faiss' own format, documents are SQLite, settings JSON.
With an API key, everything but the page's files and ``/health`` needs it (:mod:`babelir.serve.guard`).

Overload: at most ``max_queue`` requests wait for the query worker; one more gets **503** with
``Retry-After`` (seconds) at once, instead of joining a backlog nobody would wait for (and at most
``max_queue + max_batch`` API requests and ``max_open`` requests for the page and ``/health`` are inside
the app at all; a request still sending its body holds only its connection: :mod:`babelir.serve.guard`,
:mod:`babelir.serve.server`). A request not answered within ``request_timeout`` seconds (waiting
included) also gets 503 with ``Retry-After``, and its work is dropped if it has not started. 503 rather than 504 for the time limit: the cause is this
server's own backlog, not an upstream gateway, and clients and load balancers already retry a 503 after
``Retry-After``.

No interactive docs page (``/docs``, ``/redoc`` are 404): FastAPI's pages load Swagger UI / ReDoc
scripts from a CDN, which the Content-Security-Policy above blocks (and offline hosts cannot reach), and
no installed package ships those assets. ``/openapi.json`` stays: load it in any OpenAPI viewer.
"""

# No ``from __future__ import annotations`` here: FastAPI must see the real (locally built) body class
# of ``/search``, not a string it cannot resolve from the module namespace.
import asyncio
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from importlib import resources
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from babelir.data.errors import DataError
from babelir.data.languages import language_code
from babelir.index.search import Hit, Index, QueryLanguage
from babelir.serve.batching import QueryBatcher, QueueFull
from babelir.serve.guard import GuardMiddleware, key_matches
from babelir.serve.health import HealthCheck
from babelir.serve.settings import MOST_SECONDS, check_number


@dataclass(frozen=True)
class Limits:
    """Request limits: each bounds the CPU or memory one request (or one client) can claim on a small shared
    machine. Every one must be a finite number above 0 (whole for counts and sizes, at most a day for
    times): anything else is refused here, with :class:`~babelir.utils.errors.BabelirError`."""

    max_k: int = 100
    max_queries: int = 32
    max_query_chars: int = 2000
    max_body_bytes: int = 256 * 1024
    max_queue: int = 64  # requests waiting for the query worker; more get 503 + Retry-After
    request_timeout: float = 30.0  # seconds from arrival to answer; later: 503, unstarted work dropped
    client_timeout: float = 10.0  # seconds for a request's whole body once its headers are in; later: 408
    max_open: int = 16  # requests for the page's files and /health inside the app at once; more: 503

    def __post_init__(self) -> None:
        for setting in fields(self):
            seconds = setting.name.endswith("_timeout")
            check_number(
                f"Limits.{setting.name}", getattr(self, setting.name), whole=not seconds,
                most=MOST_SECONDS if seconds else None,
            )


class QueryResult(BaseModel):
    query: str
    hits: list[Hit]  # the search's own dataclass: the API's hit fields cannot drift from the library's
    query_language: QueryLanguage  # what language neutralization did to this query (and why not, if not)
    fusion: str = ""  # the lexical + dense fusion that ranked the hits (e.g. convex@0.3); "": dense alone


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
        query_language: str | None = Field(
            None, max_length=16, description="the queries' language (default: identified per query)"
        )
        fusion: str | None = Field(
            None, max_length=32, description="lexical + dense fusion for an index built with --lexical: convex@W, "
            "rrf[@K], either with :slots, or none (default: the index's fusion.json from babelir tune-fusion, "
            "else convex@0.5:slots for an index with a lexical part)",
        )

        @model_validator(mode="after")
        def _check(self) -> "SearchRequest":
            if (self.query is None) == (self.queries is None):
                raise ValueError("give exactly one of 'query' (a string) or 'queries' (a list of strings)")
            for text in self.texts():
                if not text.strip():
                    raise ValueError("query texts must not be blank")
            try:
                if self.language is not None:
                    self.language = language_code(self.language)
                if self.query_language is not None:
                    self.query_language = language_code(self.query_language)
            except DataError as err:
                raise ValueError(err.problem) from None  # the problem alone: there is no file here
            return self

        def texts(self) -> list[str]:
            return [self.query] if self.query is not None else list(self.queries or [])

    return SearchRequest


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


def busy(detail: str, retry_after: int) -> JSONResponse:
    """503 with ``Retry-After``: the server is overloaded, the request may succeed later."""
    return JSONResponse(
        status_code=503,
        content={"detail": detail, "retry_after": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def create_app(
    index: Index,
    limits: Limits | None = None,
    max_batch: int = 64,
    api_key: str | None = None,
    health_ttl: float = 5.0,
) -> FastAPI:
    """A FastAPI app serving ``index``; the query encoder is loaded at startup, not on the first request.

    ``api_key``: when given, every endpoint but the page's files and ``/health`` requires it.
    ``health_ttl``: seconds one ``/health`` check is reused for (0: none). A ``max_batch`` or ``health_ttl``
    that is not a finite number in range is a :class:`~babelir.utils.errors.BabelirError`, as in ``Limits``.
    """
    limits = limits or Limits()
    check_number("max_batch", max_batch, whole=True)
    check_number("health_ttl", health_ttl, zero=True, most=MOST_SECONDS)
    batcher = QueryBatcher(index, max_batch=max_batch, max_queue=limits.max_queue)
    health_check = HealthCheck(index, batcher, ttl=health_ttl)
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
        docs_url=None,  # see the module docstring: the CDN-hosted pages cannot work here
        redoc_url=None,
    )
    app.state.index = index
    app.state.batcher = batcher
    app.state.limits = limits
    app.state.health = health_check
    static = resources.files("babelir.serve") / "static"

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        errors = _messages(err)
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse(status_code=422, content={"detail": summary, "errors": errors})

    @app.get("/health", responses={503: {"description": "the index or the model is not usable"}})
    def health(request: Request) -> JSONResponse:
        state = health_check()
        if not state.ok:
            reason = state.reason
            if api_key is not None and not key_matches(dict(request.scope["headers"]), api_key):
                reason = "the index or the model is not usable (the reason goes to requests with the API key)"
            return JSONResponse(status_code=503, content={"status": "unavailable", "reason": reason})
        manifest = index.manifest
        return JSONResponse(
            {
                "status": "ok",
                "documents": len(index),
                "languages": index.languages(),
                "model": manifest["model"]["name"],
                "index_type": manifest["index"]["index_type"],
                "neutralization": (
                    {"method": index.neutralizer.method, "languages": sorted(index.neutralizer.languages)}
                    if index.neutralizer is not None else None
                ),
                "lexical": index.has_lexical,
                "fusion": index.fusion.spec if index.fusion else None,
                "limits": {
                    "max_k": limits.max_k,
                    "max_queries": limits.max_queries,
                    "max_query_chars": limits.max_query_chars,
                    "max_queue": limits.max_queue,
                    "request_timeout": limits.request_timeout,
                    "client_timeout": limits.client_timeout,
                },
                "waiting": batcher.waiting,
            }
        )

    @app.post(
        "/search",
        response_model=SearchResponse,
        responses={503: {"description": "busy: the queue is full or the time limit passed (Retry-After)"}},
    )
    async def search(body: SearchRequest) -> Any:  # type: ignore[valid-type]
        t0 = time.perf_counter()
        texts = body.texts()
        try:
            fusion = index.fusion_for(body.fusion or "default")
        except ValueError as err:  # a bad spec, or no lexical part: the request's mistake, 422 as a bad field
            problem = getattr(err, "problem", str(err))
            return JSONResponse(status_code=422, content={"detail": f"fusion: {problem}",
                                                          "errors": [{"field": "fusion", "message": problem}]})
        try:
            future = batcher.submit(texts, body.k, body.language, body.query_language, fusion)
        except QueueFull as full:
            return busy(
                f"server busy: {full.waiting} requests already waiting; retry later", full.retry_after
            )
        try:
            results = await asyncio.wait_for(asyncio.wrap_future(future), limits.request_timeout)
        except TimeoutError:
            future.cancel()  # dropped if the worker has not started it (a started one runs to its end)
            detail = f"server busy: no answer within the {limits.request_timeout:g} s time limit; retry later"
            return busy(detail, batcher.retry_after())
        return SearchResponse(
            results=[
                QueryResult(query=text, hits=result.hits, query_language=result.language, fusion=result.fusion)
                for text, result in zip(texts, results, strict=True)
            ],
            k=body.k,
            language=body.language,
            took_ms=round((time.perf_counter() - t0) * 1000, 3),
        )

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(str(static / "index.html"), media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.add_middleware(
        GuardMiddleware,
        max_body_bytes=limits.max_body_bytes,
        api_key=api_key,
        max_active=limits.max_queue + max_batch,  # the waiting ones + at most one batch being answered
        retry_after=batcher.retry_after,
        max_open=limits.max_open,
        body_timeout=limits.client_timeout,
    )
    return app
