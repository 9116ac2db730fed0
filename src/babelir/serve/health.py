"""``GET /health``: whether the index and the query model are really usable, checked for real but cheaply.

Why more than "the process is up": a server whose ``index.faiss`` was deleted or truncated, or whose
``docs.sqlite`` was replaced by a rebuild, still answers from memory but cannot restart, and a replaced
document store no longer matches the vectors in memory (hits would carry the wrong texts). So a check:

1. the index files (manifest, vectors, documents) are where they were, unchanged since the server
   loaded them (size, mtime, inode: a ``stat`` each). When they changed, the folder is validated again
   (:func:`babelir.index.search.validate_index`: headers and sizes, its error names the damaged file)
   to say what is wrong; even a valid changed folder is reported: the server still holds the old one;
2. the batching worker thread is alive;
3. one short real search (encode a query, search faiss for one hit, read it from ``docs.sqlite``), queued
   to that worker like a user's search: the one worker is what keeps two forward passes from competing
   for the cores, so the probe never encodes beside it. When the queue is full, the probe is skipped if the
   worker has answered a batch since the previous check (it is busy, not broken) and is a failure if not.

The answer is cached for ``ttl`` seconds (and computed by one caller at a time), so ``/health`` stays
cheap under polling and under load; a failure is answered 503 with the reason by the app (the reason names
files, so a server with an API key gives it only to requests that carry the key).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from babelir.index.layout import MANIFEST
from babelir.index.search import Index, validate_index
from babelir.serve.batching import QueryBatcher, QueueFull
from babelir.utils.errors import BabelirError

PROBE_QUERY = "health check"


@dataclass(frozen=True)
class Health:
    ok: bool
    reason: str | None = None


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ino


class HealthCheck:
    """Checks ``index`` (and its model, through one probe search) at most once per ``ttl`` seconds."""

    def __init__(self, index: Index, batcher: QueryBatcher, ttl: float = 5.0, probe_timeout: float = 30.0):
        self.index = index
        self.batcher = batcher
        self.ttl = ttl
        self.probe_timeout = probe_timeout
        self._batches_seen = -1  # the worker's batch count at the previous check
        self.files = [index.path / MANIFEST, index.path / index.manifest["index"]["file"]]
        self.files.append(index.path / index.manifest["docs"])
        self.loaded = {f: _signature(f) for f in self.files}  # as the server loaded them
        self._lock = threading.Lock()
        self._cached: tuple[float, Health] | None = None
        self._validated: tuple[list, str] | None = None  # (signatures, reason): validate once per change

    def __call__(self) -> Health:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= self.ttl:
                self._cached = (now, self.check())
            return self._cached[1]

    def check(self) -> Health:
        """The uncached check: files, then the worker, then the probe search through it."""
        changed = [f for f in self.files if _signature(f) != self.loaded[f]]
        if changed:
            return Health(False, self._files_problem(changed))
        if not self.batcher.alive():
            return Health(False, "the query worker thread is not running: restart the server")
        answered, self._batches_seen = self._batches_seen, self.batcher.batches
        try:
            probe = self.batcher.submit([PROBE_QUERY], 1, None)
        except QueueFull as full:
            if self.batcher.batches > answered:
                return Health(True)  # busy with users' searches, and answering them
            return Health(False, f"{full.waiting} searches waiting and none answered since the last check: restart")
        try:
            probe.result(timeout=self.probe_timeout)
        except TimeoutError:
            probe.cancel()
            return Health(False, f"a test search got no answer within {self.probe_timeout:g} s: overloaded or stuck")
        except Exception as err:  # whatever breaks the probe breaks the users' searches too
            return Health(False, f"a test search failed: {type(err).__name__}: {err}")
        return Health(True)

    def _files_problem(self, changed: list[Path]) -> str:
        missing = [f for f in changed if not f.exists()]
        if missing:
            return f"{missing[0]}: missing (deleted after the server started): rebuild the index and restart"
        now = [_signature(f) for f in self.files]
        if self._validated is None or self._validated[0] != now:  # once per change, not once per poll
            self._validated = (now, self._validate(changed[0]))
        return self._validated[1]

    def _validate(self, changed: Path) -> str:
        try:
            validate_index(self.index.path)  # headers and sizes only: cheap even for a large index
        except BabelirError as err:  # names the damaged file and what to do
            return str(err)
        except Exception as err:  # an unforeseen reader error: name the file that changed
            first = (str(err).strip().splitlines() or [""])[0]
            return f"{changed}: unreadable ({type(err).__name__}: {first}): rebuild the index and restart"
        return f"{changed}: changed on disk since the server loaded it: restart the server to serve it"
