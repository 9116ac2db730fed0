"""Figures for docs/scaling.md: encoding throughput and memory, and per-index-type build time and memory.

Two measurements, each printed with what it extrapolates to per 1M passages:

* ``encode``: :func:`babelir.encoding.encode` (what ``babelir index`` runs) of ``--texts`` real passages
  (Bible verses in seven languages, the ``bible`` corpus of ``babelir index``) with ``--model``;
  texts/s and the process's peak resident memory.
* ``index``: each faiss index type built exactly as ``babelir index`` does (:mod:`babelir.index.ann`)
  over ``--n`` embedding-like unit vectors (clusters in a 32-d subspace, as in
  ``benchmarks/search_speed.py --data structured``): build seconds, bytes per vector of the written index
  (what loading it costs in memory), resident memory growth, single-query p50 latency.

Usage::

    nice python benchmarks/scaling.py encode --model me5-small --texts 1000
    nice python benchmarks/scaling.py index --n 100000
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads sleep on a shared machine

import argparse
import platform
import resource
import tempfile
import time
from pathlib import Path

import numpy as np


def rss_mb() -> float:
    """Current resident memory of this process (MB)."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def encode_figures(args: argparse.Namespace) -> None:
    import torch

    from babelir.encoding import encode, load_model
    from babelir.index.corpus import DEFAULT_BIBLE, CorpusReader, passage

    torch.set_num_threads(args.threads)
    docs = []
    for doc in CorpusReader(DEFAULT_BIBLE):
        docs.append(passage(doc))
    rng = np.random.default_rng(0)
    texts = [docs[i] for i in rng.choice(len(docs), size=min(args.texts, len(docs)), replace=False)]
    before = rss_mb()
    model = load_model(args.model)
    encode(model, texts[:32], role="document", batch_size=args.batch_size)  # warm-up
    t0 = time.perf_counter()
    emb = encode(model, texts, role="document", batch_size=args.batch_size)
    seconds = time.perf_counter() - t0
    rate = len(texts) / seconds
    chars = sum(len(t) for t in texts) / len(texts)
    print(f"# encode: {args.model}, {len(texts)} Bible verses (mean {chars:.0f} chars), batch {args.batch_size}, "
          f"{args.threads} torch threads, {platform.machine()}, load average {load_average()}")
    print(f"texts/s: {rate:.1f}  ({seconds:.1f} s)")
    print(f"memory: {rss_mb() - before:.0f} MB resident for the model and encoding, peak {peak_mb():.0f} MB")
    per_million = 1e6 / rate
    print(f"per 1M passages: {per_million / 3600:.1f} h on one such process; embeddings "
          f"{emb.shape[1] * 4 * 1e6 / 1e9:.2f} GB float32 (dimension {emb.shape[1]})")


def index_figures(args: argparse.Namespace) -> None:
    import faiss

    from babelir.index.ann import AnnSettings, new_index, resolved, search_params, write_index

    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    latent, dim = 32, args.dim
    basis = rng.standard_normal((latent, dim), dtype=np.float32) / np.sqrt(latent)
    centers = rng.standard_normal((max(args.n // 1000, 16), latent), dtype=np.float32)

    def draw(m: int) -> np.ndarray:
        z = centers[rng.integers(0, len(centers), m)] + 0.5 * rng.standard_normal((m, latent), dtype=np.float32)
        x = z @ basis + 0.02 * rng.standard_normal((m, dim), dtype=np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    base, queries = draw(args.n), draw(200)
    print(f"# index: {args.n:,} structured unit vectors, dim {dim}; faiss {faiss.__version__}, "
          f"{args.threads} threads, {platform.machine()}, load average {load_average()}")
    print(f"{'type':<6} {'settings':<28} {'train s':>8} {'add s':>8} {'bytes/vec':>10} {'RSS +MB':>8} "
          f"{'p50 ms':>8}")
    for kind in args.types.split(","):
        settings = resolved(AnnSettings(index_type=kind), args.n, dim)
        before = rss_mb()
        t0 = time.perf_counter()
        index = new_index(settings, dim)
        if not index.is_trained:
            index.train(base[rng.choice(args.n, min(args.n, settings.train_size), replace=False)])
        train = time.perf_counter() - t0
        index.add(base)
        add = time.perf_counter() - t0 - train
        grown = rss_mb() - before
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "index.faiss"
            write_index(index, path)
            per_vector = path.stat().st_size / args.n
        params = search_params(index, settings)
        times = []
        for q in queries:
            t1 = time.perf_counter()
            index.search(q[None], 10, params=params)
            times.append(time.perf_counter() - t1)
        p50 = 1000 * float(np.median(times))
        label = {"flat": "exact", "hnsw": f"M={settings.hnsw_m} efC={settings.ef_construction} "
                 f"ef={settings.ef_search}", "ivfpq": f"nlist={settings.nlist} m={settings.pq_m} "
                 f"nprobe={settings.nprobe}"}[kind]
        print(f"{kind:<6} {label:<28} {train:>8.1f} {add:>8.1f} {per_vector:>10.0f} {grown:>8.0f} "
              f"{p50:>8.2f}", flush=True)
        del index


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    enc = sub.add_parser("encode")
    enc.add_argument("--model", default="me5-small")
    enc.add_argument("--texts", type=int, default=1000)
    enc.add_argument("--batch-size", type=int, default=32)
    enc.add_argument("--threads", type=int, default=2)
    idx = sub.add_parser("index")
    idx.add_argument("--n", type=int, default=100_000)
    idx.add_argument("--dim", type=int, default=384)
    idx.add_argument("--types", default="flat,hnsw,ivfpq")
    idx.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    encode_figures(args) if args.what == "encode" else index_figures(args)


if __name__ == "__main__":
    main()
