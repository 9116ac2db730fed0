"""Micro-batching of concurrent queries: one worker thread encodes everything that is waiting at once.

Why: encoding dominates a search (a transformer forward vs. a sub-millisecond faiss lookup), and a
forward pass over 16 queries costs far less than 16 passes over one. The worker takes whatever queued
up while it was busy, so an idle server adds no delay and a loaded one batches by itself. A single
worker also keeps PyTorch from running many multi-threaded forwards at once on two cores.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

from babelir.index.search import Hit, Index


@dataclass
class _Request:
    texts: list[str]
    k: int
    language: str | None
    future: Future = field(default_factory=Future)


class QueryBatcher:
    """Submit ``(texts, k, language)``; get a ``Future`` of one hit list per text."""

    def __init__(self, index: Index, max_batch: int = 64):
        self.index = index
        self.max_batch = max_batch
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0  # how many forward passes ran (observability, tests)

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

    def submit(self, texts: list[str], k: int, language: str | None) -> Future:
        self.start()
        request = _Request(list(texts), k, language)
        self._queue.put(request)
        return request.future

    def _take(self) -> list[_Request] | None:
        first = self._queue.get()
        if first is None:
            return None
        batch, size = [first], len(first.texts)
        while size < self.max_batch:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                self._queue.put(None)  # stop after this batch
                break
            batch.append(nxt)
            size += len(nxt.texts)
        return batch

    def _run(self) -> None:
        while (batch := self._take()) is not None:
            live = [r for r in batch if r.future.set_running_or_notify_cancel()]
            if not live:
                continue
            try:
                vectors = self.index.encode_queries([t for r in live for t in r.texts])
                self.batches += 1
            except Exception as err:  # the callers get the error; the worker lives on
                for r in live:
                    r.future.set_exception(err)
                continue
            start = 0
            for r in live:
                part = vectors[start : start + len(r.texts)]
                start += len(r.texts)
                try:
                    scores, rows = self.index.search_vectors(part, r.k, r.language)
                    result: list[list[Hit]] = self.index.hits(scores, rows)
                    r.future.set_result(result)
                except Exception as err:
                    r.future.set_exception(err)
