"""A bounded load test of ``babelir serve`` on loopback: N requests from C concurrent clients, then overload.

Starts ``babelir serve INDEX`` in a child process on 127.0.0.1 (never another address), sends
``--requests`` POST /search requests (one query each, cycling through multilingual Bible verses) from
``--clients`` concurrent HTTP clients, and prints throughput, latency p50/p99 and errors. The baseline
beside it is the same queries through the Python API (``Index.search``, one at a time, no HTTP), i.e.
what the server adds or saves (it batches concurrent queries into one forward pass). The run is bounded
in count and in time (``--max-seconds``) and stops the server itself.

The overload phase (``--phases overload``) starts a second server with a small queue
(``--max-queue``, default 8) and sends ``--overload-requests`` requests from ``--overload-clients``
(default 64) concurrent clients, each sending its next request as soon as it has an answer (no backoff:
the worst case). It reports the responses by status, and checks what overload must not break: no 5xx
other than 503, every 503 with a ``Retry-After``, and no lost request (each one gets an HTTP answer);
plus the p50/p99 latency of the 200s and of the 503s. Exit status 1 when a check fails.

The slow-client phase (``--phases slow``) starts a server with its default limits and measures normal
searches (``--slow-clients`` clients, default 8, for ``--slow-seconds`` each) twice in the same run: alone,
then while ``--stalled`` (default 100) slow clients stay connected: each sends the headers of a POST
/search with a ``Content-Length`` and then its body a byte every ``--trickle`` seconds (0: never), and
reconnects whenever the server cuts it off (``--client-timeout``: 408), so that many are connected
throughout. It prints both latencies side by side, how the stalled connections ended and how long they
lasted, and checks the target: p99 within 3x the unloaded p99 and no 503 (nor any other non-200).

Without INDEX, a demo index (``tiny`` backbone, the Gospel of John in en/fr/ru: 2,637 verses) is built
once under the babelir cache. Client and server share the machine's cores, so on 2 cores the figures
are a floor for the server alone.

Usage::

    nice python benchmarks/serve_load.py                        # demo index, 2,000 requests, 16 clients
    nice python benchmarks/serve_load.py --phases overload      # the overload run only
    nice python benchmarks/serve_load.py --phases slow --stalled 100 --slow-seconds 15
    nice python benchmarks/serve_load.py INDEX --backend onnx-int8 --requests 500
"""

from __future__ import annotations

import os

# idle OpenMP threads sleep rather than spin (see benchmarks/encode_speed.py); inherited by the server
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

HOST = "127.0.0.1"  # loopback only, by design


def demo_index() -> Path:
    from babelir.index import build_index
    from babelir.utils.cache import cache_dir

    out = cache_dir("demo-indexes") / "tiny-bible-john-en-fr-ru"
    build_index("tiny", "bible:en,fr,ru:43", out)
    return out


def query_texts(n: int) -> list[str]:
    from babelir.data.sources import bible

    texts: list[str] = []
    for lang in ("en", "fr", "de", "ru", "es", "zh"):
        texts += list(bible.load_verses(lang, range(42, 43)).values())[:200]  # Luke: not in the demo index
    return [texts[i % len(texts)] for i in range(n)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


async def load(url: str, texts: list[str], clients: int, k: int, deadline: float) -> tuple[list[float], dict]:
    import httpx

    latencies: list[float] = []
    errors: dict[str, int] = {}
    position = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal position
        while position < len(texts) and time.monotonic() < deadline:
            text = texts[position]
            position += 1
            t0 = time.perf_counter()
            try:
                response = await client.post(url + "/search", json={"query": text, "k": k})
                ok = response.status_code == 200 and len(response.json()["results"][0]["hits"]) == k
                if not ok:
                    errors[f"HTTP {response.status_code}"] = errors.get(f"HTTP {response.status_code}", 0) + 1
            except httpx.HTTPError as err:
                errors[type(err).__name__] = errors.get(type(err).__name__, 0) + 1
                continue
            latencies.append(time.perf_counter() - t0)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=60.0) as client:
        await asyncio.gather(*(worker(client) for _ in range(clients)))
    return latencies, errors


async def overload(url: str, texts: list[str], clients: int, k: int, deadline: float) -> dict:
    """Every request's outcome: HTTP status (or the transport error), latency, Retry-After present."""
    import httpx

    statuses: Counter = Counter()
    lost: Counter = Counter()
    latencies: dict[int, list[float]] = {}
    no_retry_after = 0
    position = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal position, no_retry_after
        while position < len(texts) and time.monotonic() < deadline:
            text = texts[position]
            position += 1
            t0 = time.perf_counter()
            try:
                response = await client.post(url + "/search", json={"query": text, "k": k})
            except httpx.HTTPError as err:
                lost[type(err).__name__] += 1
                continue
            statuses[response.status_code] += 1
            latencies.setdefault(response.status_code, []).append(time.perf_counter() - t0)
            if response.status_code == 503 and not response.headers.get("retry-after", "").isdigit():
                no_retry_after += 1

    # a new connection per request, as from many separate users; it also keeps uvicorn's keep-alive
    # timeout (5 s) from closing a pooled connection just as a starved client reuses it (a reset that
    # would count as a lost request without the server having dropped any)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=0)
    t0 = time.perf_counter()
    async with httpx.AsyncClient(limits=limits, timeout=120.0) as client:
        await asyncio.gather(*(worker(client) for _ in range(clients)))
    return {
        "seconds": time.perf_counter() - t0,
        "sent": position,
        "statuses": statuses,
        "lost": lost,
        "latencies": latencies,
        "no_retry_after": no_retry_after,
    }


async def stalled_client(
    port: int, stop: asyncio.Event, trickle: float, length: int, outcomes: Counter, held: list[float], connected
) -> None:
    """One slow client: the headers of a POST /search announcing ``length`` bytes, then a byte of the body
    every ``trickle`` seconds (0: none), until the server answers or closes; then again, until ``stop``.
    ``connected.value`` counts the connections open now; ``held`` gets how long each one lasted."""
    head = (
        f"POST /search HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n{{"
    ).encode()
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError as err:
            outcomes[f"connect failed ({type(err).__name__})"] += 1
            await asyncio.sleep(0.1)
            continue
        t0 = time.monotonic()
        connected.value += 1
        sent = 1
        try:
            writer.write(head)
            await writer.drain()
            while True:
                if stop.is_set():
                    outcomes["still stalled at the end"] += 1
                    break
                try:
                    data = await asyncio.wait_for(reader.read(4096), timeout=trickle or 0.25)
                except TimeoutError:
                    if trickle and sent < length - 1:
                        writer.write(b" ")  # JSON whitespace: the body stays valid, only slow
                        await writer.drain()
                        sent += 1
                    continue
                status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "closed, no answer"
                outcomes[f"HTTP {status}" if status.isdigit() else status] += 1
                held.append(time.monotonic() - t0)
                break
        except OSError as err:
            outcomes[f"reset ({type(err).__name__})"] += 1
            held.append(time.monotonic() - t0)
        finally:
            connected.value -= 1
            writer.close()


def stalled_process(port: int, count: int, trickle: float, stop, connected, results) -> None:
    """``count`` stalled clients in a process of their own (as they would be on other machines: their
    event loop must not slow the measured clients' one), until ``stop``; then (outcomes, held) to ``results``."""

    async def run() -> tuple[Counter, list[float]]:
        done, outcomes, held = asyncio.Event(), Counter(), []
        tasks = [
            asyncio.create_task(stalled_client(port, done, trickle, 1024, outcomes, held, connected))
            for _ in range(count)
        ]
        while not stop.is_set():
            await asyncio.sleep(0.05)
        done.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return outcomes, held

    outcomes, held = asyncio.run(run())
    results.put((dict(outcomes), held))


def slow_clients(
    url: str, port: int, texts: list[str], args: argparse.Namespace
) -> tuple[tuple[list[float], dict, float], tuple[list[float], dict, float], Counter, list[float]]:
    """Normal searches alone, then beside ``args.stalled`` stalled clients: (latencies, errors, seconds) each,
    how the stalled connections ended, how long each one was held."""
    import multiprocessing

    half = len(texts) // 2

    def measured(batch: list[str]) -> tuple[list[float], dict, float]:
        t0 = time.perf_counter()
        latencies, errors = asyncio.run(
            load(url, batch, args.slow_clients, args.k, time.monotonic() + args.slow_seconds)
        )
        return latencies, errors, time.perf_counter() - t0

    asyncio.run(load(url, texts[: 4 * args.slow_clients], args.slow_clients, args.k, time.monotonic() + 60))
    alone = measured(texts[:half])
    context = multiprocessing.get_context("spawn")
    stop, connected, results = context.Event(), context.Value("i", 0), context.Queue()
    proc = context.Process(target=stalled_process, args=(port, args.stalled, args.trickle, stop, connected, results))
    proc.start()
    try:
        deadline = time.monotonic() + 60
        while connected.value < args.stalled and time.monotonic() < deadline and proc.is_alive():
            time.sleep(0.05)
        time.sleep(0.5)  # the server has read their headers: each is inside, waiting for its body
        beside = measured(texts[half:])
    finally:
        stop.set()
        outcomes, held = results.get(timeout=60)
        proc.join(30)
    return alone, beside, Counter(outcomes), held


def report_slow(alone: tuple, beside: tuple, outcomes: Counter, held: list[float], args: argparse.Namespace) -> bool:
    """Print the slow-client figures beside the unloaded ones; ``True`` when the target holds."""

    def row(name: str, figures: tuple) -> tuple[str, float, int]:
        latencies, errors, seconds = figures
        ms = np.array(latencies) * 1000
        p50, p99 = (np.percentile(ms, 50), np.percentile(ms, 99)) if len(ms) else (float("nan"),) * 2
        bad = sum(errors.values())
        line = f"{name:<34} {len(latencies):>6} {len(latencies) / seconds:>9.1f} {p50:>8.1f} {p99:>8.1f} {bad:>8}"
        return line, p99, bad

    print(
        f"\n# slow clients: {args.stalled} stalled POST /search uploads (Content-Length 1024, "
        f"{f'a byte every {args.trickle:g} s' if args.trickle else 'no body'}) held connected; "
        f"{args.slow_clients} clients x {args.slow_seconds:g} s of searches; server defaults"
    )
    print(f"{'':<34} {'done':>6} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-200':>8}")
    line, p99_alone, bad_alone = row("searches alone", alone)
    print(line)
    line, p99_beside, bad_beside = row(f"searches beside {args.stalled} stalled", beside)
    print(line)
    for name, (_, errors, _) in (("alone", alone), ("beside the stalled", beside)):
        if errors:
            print(f"# non-200 {name}: {dict(errors)}")
    print(
        "stalled connections: " + ", ".join(f"{k}: {n}" for k, n in sorted(outcomes.items()))
        + f"; those the server ended lasted {np.mean(held) if held else float('nan'):.1f} s on average, "
        f"{max(held, default=float('nan')):.1f} s at most"
    )
    ratio = p99_beside / p99_alone if p99_alone else float("nan")
    ok = ratio <= 3.0 and bad_beside == 0 and bad_alone == 0
    print(f"p99 beside / alone: {ratio:.2f}x (target <= 3x); non-200 beside the stalled: {bad_beside} (target 0)")
    print(f"slow-client checks: {'PASS' if ok else 'FAIL'}")
    return ok


def percentiles(seconds: list[float]) -> str:
    if not seconds:
        return "p50 -, p99 -"
    ms = np.array(seconds) * 1000
    return f"p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms"


def report_overload(result: dict, clients: int, max_queue: int) -> bool:
    """Print the overload figures; ``True`` when overload broke nothing."""
    statuses, lost = result["statuses"], result["lost"]
    other_5xx = sum(n for code, n in statuses.items() if code >= 500 and code != 503)
    answered = sum(statuses.values())
    print(
        f"\n# overload: {clients} clients against a queue of {max_queue}; {result['sent']} requests sent "
        f"in {result['seconds']:.1f} s ({statuses.get(200, 0) / result['seconds']:.1f} answers 200/s)"
    )
    print("responses by status: " + ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items())))
    print(f"5xx other than 503: {other_5xx}")
    print(f"503 without Retry-After: {result['no_retry_after']}")
    print(f"lost (no HTTP answer): {sum(lost.values())}{f' {dict(lost)}' if lost else ''}")
    print(f"200 latency: {percentiles(result['latencies'].get(200, []))}")
    print(f"503 latency: {percentiles(result['latencies'].get(503, []))}")
    ok = other_5xx == 0 and not lost and result["no_retry_after"] == 0 and answered == result["sent"]
    ok = ok and set(statuses) <= {200, 503}
    print(f"overload checks: {'PASS' if ok else 'FAIL'}")
    return ok


@contextlib.contextmanager
def server(index_path: Path, backend: str, extra: list[str], port: int | None = None) -> Iterator[str]:
    """``babelir serve`` in a child process on a free loopback port; its URL once healthy; stopped after."""
    port = port or free_port()
    url = f"http://{HOST}:{port}"
    cmd = [sys.executable, "-m", "babelir", "serve", str(index_path), "--host", HOST, "--port", str(port)]
    cmd += ["--backend", backend, "--log-level", "warning", *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 180.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            if httpx.get(url + "/health", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError("the server did not become healthy in time")


def summary(name: str, latencies: list[float], seconds: float, errors: int) -> str:
    ms = np.array(latencies) * 1000
    p50, p99 = (np.percentile(ms, 50), np.percentile(ms, 99)) if len(ms) else (float("nan"),) * 2
    return (
        f"{name:<34} {len(latencies):>6} {len(latencies) / seconds:>9.1f} {p50:>8.1f} {p99:>8.1f} {errors:>6}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("index", nargs="?", help="index folder (default: build the demo index)")
    ap.add_argument("--phases", default="load,overload,slow", help="comma-separated: load, overload, slow")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--backend", choices=("torch", "onnx", "onnx-int8"), default="torch")
    ap.add_argument("--baseline-queries", type=int, default=200, help="queries for the in-process baseline")
    ap.add_argument("--max-seconds", type=float, default=600.0, help="hard stop for each load phase")
    ap.add_argument("--overload-requests", type=int, default=2000)
    ap.add_argument("--overload-clients", type=int, default=64, help="more than --max-queue")
    ap.add_argument("--max-queue", type=int, default=8, help="the overload server's --max-queue")
    ap.add_argument("--request-timeout", type=float, default=10.0, help="the overload server's time limit")
    ap.add_argument("--stalled", type=int, default=100, help="slow phase: stalled clients held connected")
    ap.add_argument("--trickle", type=float, default=1.0,
                    help="slow phase: seconds between the stalled clients' body bytes (0: they send none)")
    ap.add_argument("--slow-clients", type=int, default=8, help="slow phase: clients sending normal searches")
    ap.add_argument("--slow-seconds", type=float, default=15.0,
                    help="slow phase: seconds of normal searches alone, then again beside the stalled clients")
    args = ap.parse_args()
    phases = set(args.phases.split(","))
    known = {"load", "overload", "slow"}
    if not phases <= known:
        ap.error(f"--phases: unknown {sorted(phases - known)}; choose from load, overload, slow")
    if not (0 < args.stalled <= 1000 and 0 < args.slow_seconds <= 300 and 0 <= args.trickle <= 60):
        ap.error("the slow phase is bounded: --stalled 1-1000, --slow-seconds up to 300, --trickle 0-60")

    index_path = Path(args.index) if args.index else demo_index()
    print(
        f"# serve_load: phases {args.phases}, k={args.k}, backend {args.backend}, index {index_path}; "
        f"{os.cpu_count()} cores shared by client and server, load average {os.getloadavg()[0]:.1f} at start"
    )
    if "load" in phases:
        run_load(args, index_path)
    ok = True
    if "overload" in phases:
        texts = query_texts(args.overload_requests)
        extra = ["--max-queue", str(args.max_queue), "--request-timeout", str(args.request_timeout)]
        with server(index_path, args.backend, extra) as url:
            result = asyncio.run(
                overload(url, texts, args.overload_clients, args.k, time.monotonic() + args.max_seconds)
            )
        ok = report_overload(result, args.overload_clients, args.max_queue)
    if "slow" in phases:
        texts = query_texts(20000)  # more than --slow-seconds can use: the phase ends by time
        port = free_port()
        with server(index_path, args.backend, [], port=port) as url:
            alone, beside, outcomes, held = slow_clients(url, port, texts, args)
        ok = report_slow(alone, beside, outcomes, held, args) and ok
    sys.exit(0 if ok else 1)


def run_load(args: argparse.Namespace, index_path: Path) -> None:
    """The plain load phase: throughput and latency against the in-process baseline."""
    texts = query_texts(args.requests)
    print(f"\n# load: {args.requests} requests, {args.clients} clients")
    with server(index_path, args.backend, []) as url:
        asyncio.run(
            load(url, texts[: 4 * args.clients], args.clients, args.k, time.monotonic() + 60)
        )  # warm-up
        t0 = time.perf_counter()
        latencies, errors = asyncio.run(
            load(url, texts, args.clients, args.k, time.monotonic() + args.max_seconds)
        )
        seconds = time.perf_counter() - t0

    from babelir.index import Index

    index = Index.load(index_path, backend=args.backend)
    base_texts = texts[: args.baseline_queries]
    index.search(base_texts[:8], k=args.k)  # warm-up (loads the model)
    base_lat = []
    t1 = time.perf_counter()
    for text in base_texts:
        t = time.perf_counter()
        index.search(text, k=args.k)
        base_lat.append(time.perf_counter() - t)
    base_seconds = time.perf_counter() - t1

    print(f"\n{'':<34} {'done':>6} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    print(summary("Index.search in-process, 1 at a time", base_lat, base_seconds, 0))
    failed = sum(errors.values()) + (args.requests - len(latencies) - sum(errors.values()))
    print(summary(f"HTTP POST /search, {args.clients} clients", latencies, seconds, failed))
    if errors:
        print(f"# errors: {errors}")
    if len(latencies) + sum(errors.values()) < args.requests:
        print(f"# stopped by --max-seconds after {len(latencies)} requests")


if __name__ == "__main__":
    main()
