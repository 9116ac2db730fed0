"""The HTTP API with FastAPI's TestClient: results, filters, limits, malformed input, headers, the page."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from babelir.cli import build_parser
from babelir.index import Hit, Index
from babelir.serve import Limits, create_app


@pytest.fixture(scope="module")
def client(built_index: Path):
    app = create_app(
        Index.load(built_index), Limits(max_k=20, max_queries=4, max_query_chars=100, max_body_bytes=4096)
    )
    with TestClient(app) as c:
        yield c


def test_health(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["documents"] == 25
    assert body["languages"] == {"de": 6, "en": 7, "fr": 7, "ru": 5}
    assert body["limits"]["max_k"] == 20 and body["model"] == "tiny"


def test_search_one_query_matches_python_api(client: TestClient, built_index: Path) -> None:
    response = client.post("/search", json={"query": "the cat sleeps", "k": 3})
    assert response.status_code == 200
    body = response.json()
    hits = body["results"][0]["hits"]
    assert body["results"][0]["query"] == "the cat sleeps" and body["k"] == 3
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert list(hits[0]) == ["id", "score", "rank", "text", "title", "language"]
    assert list(hits[0]) == [f.name for f in dataclasses.fields(Hit)]  # one hit type for library and API
    expected = Index.load(built_index).search("the cat sleeps", k=3)
    assert [h["id"] for h in hits] == [h.id for h in expected]


def test_each_result_says_what_language_neutralization_did(client: TestClient) -> None:
    body = client.post("/search", json={"queries": ["violin", "Brücke"], "k": 2, "query_language": "DE"}).json()
    # the shared index has too few documents per language for statistics: searched as it is, and said so
    for result in body["results"]:
        assert result["query_language"] == {"language": None, "source": "none", "neutralized": False,
                                            "note": "this index has no language statistics"}
    assert client.get("/health").json()["neutralization"] is None
    bad = client.post("/search", json={"query": "x", "query_language": "klingon"})
    assert bad.status_code == 422 and "unknown language code 'klingon'" in bad.json()["detail"]


def test_search_many_queries_with_language_filter(client: TestClient) -> None:
    body = client.post("/search", json={"queries": ["violin", "Brücke"], "k": 10, "language": "FR"}).json()
    assert body["language"] == "fr" and len(body["results"]) == 2
    for result in body["results"]:
        assert len(result["hits"]) == 7 and {h["language"] for h in result["hits"]} == {"fr"}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"query": "x", "k": 21}, "k: Input should be less than or equal to 20"),
        ({"query": "x", "k": 0}, "k: Input should be greater than or equal to 1"),
        ({"query": "x" * 101}, "at most 100 characters"),
        ({"queries": ["a"] * 5}, "at most 4 items"),
        ({"queries": []}, "at least 1 item"),
        ({"k": 3}, "exactly one of 'query'"),
        ({"query": "a", "queries": ["b"]}, "exactly one of 'query'"),
        ({"query": "   "}, "must not be blank"),
        ({"query": "x", "language": "klingon"}, "unknown language code"),
        ({"query": "x", "extra": 1}, "extra: Extra inputs are not permitted"),
        ({"query": 5}, "query: Input should be a valid string"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_invalid_requests_get_422_with_a_message(client: TestClient, payload: object, message: str) -> None:
    response = client.post("/search", json=payload)
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert all(set(e) == {"field", "message"} for e in response.json()["errors"])  # input not echoed back


def test_malformed_json_and_oversized_body(client: TestClient) -> None:
    response = client.post(
        "/search", content=b'{"query": "x", ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and "malformed JSON" in response.json()["detail"]
    response = client.post(
        "/search", content=b"{" + b" " * 5000 + b"}", headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and "larger than 4096 bytes" in response.json()["detail"]

    def chunks():  # no Content-Length: the limit is enforced on the bytes actually received
        for _ in range(10):
            yield b" " * 1000

    response = client.post("/search", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_page_static_files_and_security_headers(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="search-form"' in page.text and "/static/app.js" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    script = client.get("/static/app.js")
    assert script.status_code == 200 and "textContent" in script.text and "innerHTML" not in script.text
    assert client.get("/static/../app.py").status_code == 404


def test_concurrent_requests_are_batched_and_all_answered(client: TestClient) -> None:
    texts = [f"query number {i}" for i in range(24)]
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda t: client.post("/search", json={"query": t, "k": 2}), texts))
    assert all(r.status_code == 200 for r in responses)
    assert [r.json()["results"][0]["query"] for r in responses] == texts


def test_serve_binds_loopback_by_default() -> None:
    args = build_parser().parse_args(["serve", "some/index"])
    assert args.host == "127.0.0.1" and args.port == 8000
