"""Micro-batching of concurrent queries: one worker thread encodes everything that is waiting at once.

Why: encoding dominates a search (a transformer forward vs. a sub-millisecond faiss lookup), and a
forward pass over 16 queries costs far less than 16 passes over one. The worker takes whatever queued
up while it was busy, so an idle server adds no delay and a loaded one batches by itself. A single
worker also keeps PyTorch from running many multi-threaded forwards at once on two cores.

Why a bound (``max_queue``): without one, a burst of clients queues work the server cannot finish in any
useful time, every caller waits longer and memory grows with the backlog. Beyond ``max_queue`` waiting
requests :meth:`QueryBatcher.submit` raises :class:`QueueFull` at once (the app answers 503 with
``Retry-After``), and a caller that gives up cancels its future: a request not yet started is dropped
and frees its place in the queue at once.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from babelir.index.search import Index, QueryResult
from babelir.utils.errors import check_count


class QueueFull(Exception):
    """``max_queue`` requests are already waiting; ``retry_after`` estimates (in seconds) when to retry."""

    def __init__(self, waiting: int, retry_after: int):
        super().__init__(f"{waiting} requests waiting")
        self.waiting = waiting
        self.retry_after = retry_after


@dataclass
class _Request:
    texts: list[str]
    k: int
    language: str | None
    query_language: str | None = None
    fusion: Any = "default"  # a babelir.retrieval.fusion.FusionSettings, None (dense alone) or the index's own
    future: Future = field(default_factory=Future)


class QueryBatcher:
    """Submit ``(texts, k, language[, query_language, fusion])``; get a ``Future`` of one
    :class:`~babelir.index.search.QueryResult` per text."""

    def __init__(self, index: Index, max_batch: int = 64, max_queue: int = 64):
        check_count("max_queue", max_queue)
        check_count("max_batch", max_batch)
        self.index = index
        self.max_batch = max_batch
        self.max_queue = max_queue
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._waiting = 0  # submitted, neither started nor cancelled (guarded by _lock)
        self._waiting_texts = 0
        self.batch_seconds = 0.05  # moving average of one batch's duration, for Retry-After
        self.batches = 0  # how many forward passes ran (observability, tests)

    @property
    def waiting(self) -> int:
        return self._waiting

    def alive(self) -> bool:
        """Whether the worker thread runs (``/health`` reports a dead worker as unusable)."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="babelir-query-batcher", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def submit(self, texts: list[str], k: int, language: str | None, query_language: str | None = None,
               fusion: Any = "default") -> Future:
        """Queue one request; :class:`QueueFull` when ``max_queue`` requests already wait."""
        self.start()
        request = _Request(list(texts), k, language, query_language, fusion)
        with self._lock:
            if self._waiting >= self.max_queue:
                raise QueueFull(self._waiting, self._retry_after_locked())
            self._waiting += 1
            self._waiting_texts += len(request.texts)
        request.future.add_done_callback(lambda f, r=request: self._cancelled(f, r))
        self._queue.put(request)
        return request.future

    def retry_after(self) -> int:
        """Seconds until the backlog has likely drained (the ``Retry-After`` of a 503)."""
        with self._lock:
            return self._retry_after_locked()

    def _retry_after_locked(self) -> int:
        """Batches still to run x a batch's recent duration, at least one second."""
        batches = 1 + self._waiting_texts // max(1, self.max_batch)
        return max(1, math.ceil(batches * self.batch_seconds))

    def _cancelled(self, future: Future, request: _Request) -> None:
        if future.cancelled():  # cancelled while waiting: its place in the queue is free now
            self._release(request)

    def _release(self, request: _Request) -> None:
        with self._lock:
            self._waiting -= 1
            self._waiting_texts -= len(request.texts)

    def _take(self) -> list[_Request] | None:
        """The next batch: every started (not cancelled) request waiting, up to ``max_batch`` texts."""
        batch: list[_Request] = []
        size = 0
        while size < self.max_batch:
            try:
                nxt = self._queue.get() if not batch else self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                if batch:
                    self._queue.put(None)  # stop after this batch
                    break
                return None
            if nxt.future.set_running_or_notify_cancel():  # False: cancelled, already released
                self._release(nxt)
                batch.append(nxt)
                size += len(nxt.texts)
        return batch

    def _run(self) -> None:
        while (batch := self._take()) is not None:
            t0 = time.perf_counter()
            self._answer(batch)
            self.batch_seconds = 0.8 * self.batch_seconds + 0.2 * (time.perf_counter() - t0)

    def _answer(self, live: list[_Request]) -> None:
        try:
            vectors = self.index.encode_queries([t for r in live for t in r.texts])
            self.batches += 1
        except Exception as err:  # the callers get the error; the worker lives on
            for r in live:
                r.future.set_exception(err)
            return
        start = 0
        for r in live:
            part = vectors[start : start + len(r.texts)]
            start += len(r.texts)
            try:
                result: list[QueryResult] = self.index.search_encoded(r.texts, part, r.k, r.language,
                                                                      r.query_language, r.fusion)
                r.future.set_result(result)
            except Exception as err:
                r.future.set_exception(err)
