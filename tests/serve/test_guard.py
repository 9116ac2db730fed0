"""The optional API key (401 without it, constant-time compare, the page and /health open) and the docs."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from babelir.index import Index
from babelir.serve import create_app, guard

KEY = "s3cret-key"
QUERY = {"query": "the cat sleeps", "k": 2}


@pytest.fixture(scope="module")
def keyed(built_index: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Index.load(built_index), api_key=KEY)) as client:
        yield client


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-Key": "wrong"}, {"Authorization": f"Basic {KEY}"}, {"Authorization": "Bearer"}],
    ids=["none", "wrong", "not-bearer", "empty-bearer"],
)
def test_search_without_the_right_key_is_401(keyed: TestClient, headers: dict[str, str]) -> None:
    response = keyed.post("/search", json=QUERY, headers=headers)
    assert response.status_code == 401 and "API key" in response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("headers", [{"X-API-Key": KEY}, {"Authorization": f"Bearer {KEY}"}])
def test_search_with_the_key_works(keyed: TestClient, headers: dict[str, str]) -> None:
    response = keyed.post("/search", json=QUERY, headers=headers)
    assert response.status_code == 200 and len(response.json()["results"][0]["hits"]) == 2


def test_schema_needs_the_key_the_page_and_health_do_not(keyed: TestClient) -> None:
    assert keyed.get("/openapi.json").status_code == 401
    assert keyed.get("/openapi.json", headers={"X-API-Key": KEY}).status_code == 200
    for path in ("/", "/static/app.js", "/static/style.css", "/health"):
        assert keyed.get(path).status_code == 200, path
    assert keyed.get("/static/../search").status_code in (401, 404)  # no way round the key


def test_the_key_is_compared_in_constant_time(keyed: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = guard.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(guard.hmac, "compare_digest", spy)
    assert keyed.post("/search", json=QUERY, headers={"X-API-Key": "guess"}).status_code == 401
    assert calls == [(b"guess", KEY.encode())]


def test_the_page_sends_a_key_it_was_given() -> None:
    script = (resources.files("babelir.serve") / "static" / "app.js").read_text(encoding="utf-8")
    assert '"X-API-Key"' in script and 'params.has("key")' in script and "sessionStorage" in script


def test_without_a_key_everything_is_open(built_index: Path) -> None:
    with TestClient(create_app(Index.load(built_index))) as client:
        assert client.post("/search", json=QUERY).status_code == 200
        assert client.get("/openapi.json").status_code == 200


def test_no_docs_page_that_needs_a_cdn_but_the_schema_is_served(keyed: TestClient) -> None:
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert keyed.get(path, headers={"X-API-Key": KEY}).status_code == 404, path
    schema = keyed.get("/openapi.json", headers={"X-API-Key": KEY}).json()
    assert "/search" in schema["paths"] and "/health" in schema["paths"]
    assert "503" in schema["paths"]["/search"]["post"]["responses"]
    static = resources.files("babelir.serve") / "static"
    for name in ("index.html", "app.js", "style.css"):
        text = (static / name).read_text(encoding="utf-8").lower()
        assert "cdn" not in text and "http://" not in text and "https://" not in text, name
