"""``/health`` checks the index files and the model for real: damage after start turns it to 503."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from babelir.index import Index
from babelir.serve import create_app


@pytest.fixture
def own_index(built_index: Path, tmp_path: Path) -> Path:
    """A private copy of the shared index: these tests damage it."""
    return Path(shutil.copytree(built_index, tmp_path / "idx"))


@pytest.fixture
def serve(own_index: Path) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def start(ttl: float = 0.0, index: Index | None = None) -> TestClient:
        client = TestClient(create_app(index or Index.load(own_index), health_ttl=ttl))
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def unavailable(client: TestClient) -> str:
    response = client.get("/health")
    assert response.status_code == 503, response.text
    assert response.json()["status"] == "unavailable"
    return response.json()["reason"]


def test_healthy_index_reports_ok_with_the_queue_limits(serve) -> None:
    body = serve().get("/health").json()
    assert body["status"] == "ok" and body["documents"] == 25 and body["waiting"] == 0
    assert body["limits"]["max_queue"] == 64 and body["limits"]["request_timeout"] == 30.0


def test_truncated_index_faiss_after_start_is_503_naming_the_file(serve, own_index: Path) -> None:
    client = serve()
    assert client.get("/health").status_code == 200
    faiss_file = own_index / "index.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    reason = unavailable(client)
    assert "index.faiss: truncated" in reason and "rebuild" in reason


def test_deleted_index_faiss_after_start_is_503_missing(serve, own_index: Path) -> None:
    client = serve()
    (own_index / "index.faiss").unlink()
    reason = unavailable(client)
    assert "index.faiss" in reason and "missing" in reason


def test_replaced_document_store_is_503_restart(serve, own_index: Path) -> None:
    client = serve()
    docs = own_index / "docs.sqlite"
    shutil.copy(docs, own_index / "copy.sqlite")
    (own_index / "copy.sqlite").replace(docs)  # same content, another file: not what the server holds
    reason = unavailable(client)
    assert "docs.sqlite" in reason and "restart" in reason


def test_a_broken_model_is_503_with_the_reason(serve, own_index: Path, monkeypatch) -> None:
    index = Index.load(own_index)
    client = serve(index=index)

    def broken(texts: list[str]):
        raise RuntimeError("weights went missing")

    monkeypatch.setattr(index, "encode_queries", broken)
    assert "test search failed: RuntimeError: weights went missing" in unavailable(client)


def test_the_check_is_cached_for_ttl_seconds(serve, own_index: Path) -> None:
    client = serve(ttl=3600)
    assert client.get("/health").status_code == 200
    (own_index / "index.faiss").unlink()
    assert client.get("/health").status_code == 200  # the cached answer: /health stays cheap
    client.app.state.health.ttl = 0
    assert client.get("/health").status_code == 503


def test_the_probe_is_one_search_through_the_query_worker(serve) -> None:
    client = serve()
    batcher = client.app.state.batcher
    before = batcher.batches
    assert client.get("/health").status_code == 200
    assert batcher.batches == before + 1  # encoded by the one worker, not beside it


def test_a_full_queue_is_healthy_only_while_the_worker_answers(serve) -> None:
    from babelir.serve.batching import QueueFull

    client = serve()
    check = client.app.state.health
    assert check().ok
    batcher = client.app.state.batcher

    def full(*args, **kwargs):
        raise QueueFull(64, 1)

    batcher.submit = full
    batcher.batches += 1  # answered a batch since the last check: busy, not broken
    assert check.check().ok
    reason = check.check().reason  # nothing answered since: stuck
    assert "64 searches waiting and none answered" in reason


def test_without_the_key_a_503_does_not_say_which_file(own_index: Path) -> None:
    with TestClient(create_app(Index.load(own_index), health_ttl=0, api_key="sesame")) as client:
        (own_index / "index.faiss").unlink()
        anonymous = client.get("/health")
        assert anonymous.status_code == 503 and "index.faiss" not in anonymous.text
        assert "API key" in anonymous.json()["reason"]
        keyed = client.get("/health", headers={"X-API-Key": "sesame"})
        assert keyed.status_code == 503 and "index.faiss" in keyed.json()["reason"]
