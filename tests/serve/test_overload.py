"""Overload: the bounded queue (503 + Retry-After when full) and the per-request time limit.

The index's query encoder is replaced by a slow or gated fake (monkeypatch on the instance), so the
tests decide exactly when the worker is busy; faiss and the document store stay real.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from babelir.index import Index
from babelir.serve import Limits, create_app


class GatedEncoder:
    """``encode_queries`` that blocks until ``release`` (or sleeps ``delay``), recording every batch."""

    def __init__(self, index: Index, delay: float = 0.0, gated: bool = True):
        self.real = index.encode_queries
        self.delay = delay
        self.gate = threading.Event()
        if not gated:
            self.gate.set()
        self.busy = threading.Event()  # set once the worker is inside a batch
        self.batches: list[list[str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        self.busy.set()
        assert self.gate.wait(30), "the test never released the encoder"
        time.sleep(self.delay)
        return self.real(texts)


@pytest.fixture
def serve(built_index: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., tuple]]:
    """``serve(limits, **encoder_options) -> (client, encoder, batcher)``; closes the clients after."""
    clients: list[TestClient] = []

    def start(
        limits: Limits, max_batch: int = 64, **options: object
    ) -> tuple[TestClient, GatedEncoder, object]:
        index = Index.load(built_index)
        encoder = GatedEncoder(index, **options)  # type: ignore[arg-type]
        monkeypatch.setattr(index, "encode_queries", encoder)
        app = create_app(index, limits, max_batch=max_batch)
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client, encoder, app.state.batcher

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def wait_until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_a_full_queue_answers_503_with_retry_after_at_once(serve) -> None:
    client, encoder, batcher = serve(Limits(max_queue=3))
    with ThreadPoolExecutor(4) as pool:
        running = pool.submit(client.post, "/search", json={"query": "first", "k": 2})
        assert encoder.busy.wait(20)  # the worker holds "first"; the next three wait in the queue
        queued = [pool.submit(client.post, "/search", json={"query": f"q{i}", "k": 2}) for i in range(3)]
        wait_until(lambda: batcher.waiting == 3)

        t0 = time.perf_counter()
        refused = client.post("/search", json={"query": "one too many", "k": 2})
        assert time.perf_counter() - t0 < 5  # refused without waiting for the busy worker
        assert refused.status_code == 503
        assert int(refused.headers["retry-after"]) >= 1
        body = refused.json()
        assert "busy" in body["detail"] and body["retry_after"] == int(refused.headers["retry-after"])
        assert refused.headers["x-content-type-options"] == "nosniff"  # the guard's headers too

        encoder.gate.set()
        answers = [running.result(30)] + [f.result(30) for f in queued]
    assert [r.status_code for r in answers] == [200] * 4
    assert [r.json()["results"][0]["query"] for r in answers] == ["first", "q0", "q1", "q2"]
    assert batcher.waiting == 0
    assert client.post("/search", json={"query": "after", "k": 2}).status_code == 200  # room again


def test_requests_beyond_queue_and_batch_are_refused_before_their_body_is_read(serve) -> None:
    client, encoder, batcher = serve(Limits(max_queue=2), max_batch=1)  # at most 3 inside the app
    with ThreadPoolExecutor(3) as pool:
        inside = [pool.submit(client.post, "/search", json={"query": "first", "k": 2})]
        assert encoder.busy.wait(20)
        inside += [pool.submit(client.post, "/search", json={"query": f"q{i}", "k": 2}) for i in range(2)]
        wait_until(lambda: batcher.waiting == 2)
        refused = client.post(
            "/search", content=b"not even JSON", headers={"content-type": "application/json"}
        )
        assert refused.status_code == 503 and "3 requests in progress" in refused.json()["detail"]
        assert int(refused.headers["retry-after"]) >= 1
        assert client.get("/static/app.js").status_code == 200  # the page's files have places of their own
        encoder.gate.set()
        assert [f.result(30).status_code for f in inside] == [200] * 3


def test_many_concurrent_clients_get_200_or_503_and_every_one_an_answer(serve) -> None:
    client, encoder, _ = serve(Limits(max_queue=4), delay=0.05, gated=False)
    texts = [f"query number {i}" for i in range(48)]

    def ask(text: str):
        return client.post("/search", json={"query": text, "k": 2})

    with ThreadPoolExecutor(24) as pool:
        responses = list(pool.map(ask, texts))
    statuses = [r.status_code for r in responses]
    assert len(responses) == len(texts) and set(statuses) <= {200, 503}
    assert statuses.count(200) >= 1 and statuses.count(503) >= 1  # 24 clients, 4 places: some refused
    for text, response in zip(texts, responses, strict=True):
        if response.status_code == 200:
            assert response.json()["results"][0]["query"] == text
        else:
            assert int(response.headers["retry-after"]) >= 1 and "busy" in response.json()["detail"]
    answered = sum(len(batch) for batch in encoder.batches)
    assert answered == statuses.count(200)  # refused requests were never encoded


def test_the_time_limit_answers_503_and_drops_work_not_started(serve) -> None:
    client, encoder, batcher = serve(Limits(request_timeout=1.0))
    with ThreadPoolExecutor(2) as pool:
        running = pool.submit(client.post, "/search", json={"query": "started", "k": 2})
        assert encoder.busy.wait(20)
        waiting = pool.submit(client.post, "/search", json={"query": "never started", "k": 2})
        late = [running.result(30), waiting.result(30)]
    for response in late:
        assert response.status_code == 503 and "1 s time limit" in response.json()["detail"]
        assert int(response.headers["retry-after"]) >= 1
    assert batcher.waiting == 0  # the cancelled request gave its place back at once
    encoder.gate.set()
    assert client.post("/search", json={"query": "next", "k": 2}).status_code == 200
    assert encoder.batches == [["started"], ["next"]]  # "never started" was dropped, not encoded
