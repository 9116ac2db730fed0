"""Vector search speed and recall of babelir's faiss index types (Flat, HNSW, IVF-PQ).

Builds each index type exactly as ``babelir index`` does (:mod:`babelir.index.ann`) over ``--n`` unit
vectors of dimension ``--dim``, then measures single-query latency (p50/p99, one query per call, as a
server sees them) and recall@k against exact search, sweeping efSearch (HNSW) and nprobe (IVF-PQ).
Exact Flat search is the baseline printed beside them.

Random Gaussian vectors are a worst case for approximate search: they have no cluster structure and a
high intrinsic dimension, so every neighbour is nearly as far as any other point, whereas real text
embeddings concentrate on a low-dimensional manifold. ``--data structured`` (clusters in a
32-dimensional subspace plus small noise) gives a rough idea of that easier, realistic case.

``--index DIR`` measures instead what a search of a built index costs end to end (``Index.query``: encode
the query, identify its language, remove its language statistics, search the neutral index, fetch the
documents), one query per call, with language neutralization and without it (``neutralize=False``), the
two alternating query by query so that both see the same machine load; ``--queries-file`` gives the
queries (TSV ``id<TAB>text`` or JSONL), else the index's own documents' first words are used.
``--index DIR --fusion SPEC`` (an index built with ``--lexical``) measures hybrid search the same way:
``Index.query`` with that fusion and with none (dense alone, neutralization as the index has it),
alternating, plus the lexical part's share of the folder's size and of its build time.

Usage::

    nice python benchmarks/search_speed.py                       # 1M x 384, the target setting
    nice python benchmarks/search_speed.py --n 100000 --queries 300   # quick
    python benchmarks/search_speed.py --index indexes/john --queries 200   # neutralization's cost
    python benchmarks/search_speed.py --index indexes/john --fusion convex@0.5:slots   # fusion's cost
"""

from __future__ import annotations

import os

# Before torch/faiss load libgomp: idle OpenMP threads sleep instead of spinning. On a machine shared
# with other jobs, spinning threads make multi-threaded PyTorch and faiss up to ~40x slower (measured:
# tiny-model encoding 43 -> 1,624 texts/s at load average 9). It applies to every encoder alike.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import platform
import time

import faiss
import numpy as np

from babelir.index.ann import AnnSettings, new_index, resolved, search_params


def unit(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def make_data(kind: str, n: int, nq: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if kind == "random":
        base = np.empty((n, dim), dtype=np.float32)
        for i in range(0, n, 100_000):  # in blocks: keeps the float64 temporaries small
            base[i : i + 100_000] = rng.standard_normal((min(100_000, n - i), dim), dtype=np.float32)
        return unit(base), unit(rng.standard_normal((nq, dim), dtype=np.float32))
    # "structured": clusters on a 32-dimensional subspace plus a little isotropic noise, a rough stand-in
    # for text embeddings, whose intrinsic dimension is far below their 384 coordinates
    latent = 32
    basis = rng.standard_normal((latent, dim), dtype=np.float32) / np.sqrt(latent)
    centers = rng.standard_normal((max(n // 1000, 16), latent), dtype=np.float32)

    def draw(m: int) -> np.ndarray:
        out = np.empty((m, dim), dtype=np.float32)
        for i in range(0, m, 100_000):
            size = min(100_000, m - i)
            z = centers[rng.integers(0, len(centers), size)] + 0.5 * rng.standard_normal(
                (size, latent), dtype=np.float32
            )
            out[i : i + size] = z @ basis + 0.02 * rng.standard_normal((size, dim), dtype=np.float32)
        return unit(out)

    return draw(n), draw(nq)


def latencies(index: faiss.Index, queries: np.ndarray, k: int, params: faiss.SearchParameters) -> tuple:
    times, rows = [], np.empty((len(queries), k), dtype=np.int64)
    for i in range(len(queries)):
        t0 = time.perf_counter()
        _, found = index.search(queries[i : i + 1], k, params=params)
        times.append(time.perf_counter() - t0)
        rows[i] = found[0]
    ms = np.array(times) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99)), rows


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(f[:k]) & set(t)) / k for f, t in zip(found, truth, strict=True)]))


def neutralization_cost(path: str, n: int, k: int, queries_file: str | None) -> None:
    """End-to-end latency of ``Index.query`` with and without the index's language statistics."""
    from babelir.index.search import Index

    with_stats, without = Index.load(path), Index.load(path, neutralize=False)
    if with_stats.neutralizer is None:
        raise SystemExit(f"{path} has no language statistics: build it with babelir index (default settings)")
    without._model = with_stats.model  # one encoder for both: the difference is neutralization alone
    texts = _sample_queries(with_stats, n, queries_file)
    for warm in texts[:5]:  # first calls load the identifier and warm the caches
        with_stats.query([warm], k), without.query([warm], k)
    times: dict[str, list[float]] = {"with": [], "without": []}
    neutralized = 0
    for text in texts:
        for name, index in (("with", with_stats), ("without", without)):
            t0 = time.perf_counter()
            [result] = index.query([text], k)
            times[name].append(time.perf_counter() - t0)
            neutralized += name == "with" and result.language.neutralized
    print(f"# {path}: {len(with_stats):,} documents, {with_stats.manifest['index']['index_type']} index, "
          f"neutralization {with_stats.neutralizer.method}; {len(texts)} queries, k={k}, one per call, "
          f"alternating; {neutralized} neutralized; {platform.processor() or platform.machine()}")
    print(f"{'search':<26} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for name, label in (("without", "without neutralization"), ("with", "with neutralization")):
        ms = np.array(times[name]) * 1000
        print(f"{label:<26} {np.percentile(ms, 50):>8.2f} {np.percentile(ms, 99):>8.2f} {ms.mean():>8.2f}")
    ratio = np.mean(times["with"]) / np.mean(times["without"])
    print(f"# mean latency with / without: {ratio:.3f} ({100 * (ratio - 1):+.1f}%)")


def _sample_queries(index, n: int, queries_file: str | None) -> list[str]:
    from babelir.index.corpus import iter_query_file

    if queries_file:
        return [text for _, text in iter_query_file(queries_file)][:n]
    docs = index.store.get(np.random.default_rng(0).choice(len(index), min(n, len(index)), replace=False))
    return [" ".join(doc[2].split()[:8]) for doc in docs.values()]


def _folder_bytes(path) -> int:
    from pathlib import Path

    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def fusion_cost(path: str, spec: str, n: int, k: int, queries_file: str | None) -> None:
    """End-to-end latency of ``Index.query`` with a fusion and with dense alone; the lexical part's size."""
    from babelir.index.search import Index

    index = Index.load(path)
    if not index.has_lexical:
        raise SystemExit(f"{path} has no lexical part: build it with babelir index ... --lexical")
    texts = _sample_queries(index, n, queries_file)
    for warm in texts[:5]:  # first calls load the encoder, the identifier and the memory-mapped BM25 files
        index.query([warm], k, fusion=None), index.query([warm], k, fusion=spec)
    times: dict[str, list[float]] = {"dense": [], "fused": []}
    for text in texts:
        for name, fusion in (("dense", None), ("fused", spec)):
            t0 = time.perf_counter()
            index.query([text], k, fusion=fusion)
            times[name].append(time.perf_counter() - t0)
    lexical = index.manifest["lexical"]
    total = _folder_bytes(path)
    print(f"# {path}: {len(index):,} documents, {index.manifest['index']['index_type']} index, neutralization "
          f"{index.neutralizer.method if index.neutralizer else 'none'}; fusion {spec}; {len(texts)} queries, k={k}, "
          f"one per call, alternating; {platform.processor() or platform.machine()}")
    print(f"# lexical part: {lexical['bytes'] / 1e6:.2f} MB of the folder's {total / 1e6:.2f} MB "
          f"({100 * lexical['bytes'] / total:.1f}%); built in {lexical['seconds']:.2f} s "
          f"(faiss index {index.manifest['build_seconds'].get('index', 0):.2f} s)")
    print(f"{'search':<26} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for name, label in (("dense", "dense alone"), ("fused", f"fused ({spec})")):
        ms = np.array(times[name]) * 1000
        print(f"{label:<26} {np.percentile(ms, 50):>8.2f} {np.percentile(ms, 99):>8.2f} {ms.mean():>8.2f}")
    p99 = {name: np.percentile(np.array(t), 99) for name, t in times.items()}
    print(f"# p99 latency fused / dense: {p99['fused'] / p99['dense']:.3f}; "
          f"mean: {np.mean(times['fused']) / np.mean(times['dense']):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", help="a built index folder: measure neutralization's end-to-end cost instead")
    ap.add_argument("--queries-file", help="with --index: the queries (TSV or JSONL)")
    ap.add_argument("--fusion", help="with --index (built with --lexical): measure this fusion against dense alone")
    ap.add_argument("--n", type=int, default=1_000_000, help="database vectors")
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--data", choices=("random", "structured"), default="random")
    ap.add_argument(
        "--threads", type=int, default=2, help="OpenMP threads for building (search is 1 query/call)"
    )
    ap.add_argument("--types", default="flat,hnsw,ivfpq")
    ap.add_argument("--hnsw-m", type=int, default=32)
    ap.add_argument("--ef-construction", type=int, default=80)
    ap.add_argument("--ef-search", default="16,32,64,128,256,512")
    ap.add_argument("--nprobe", default="8,16,32,64,128")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.index and args.fusion:
        fusion_cost(args.index, args.fusion, args.queries, args.k, args.queries_file)
        return
    if args.index:
        neutralization_cost(args.index, args.queries, args.k, args.queries_file)
        return
    faiss.omp_set_num_threads(args.threads)
    types = args.types.split(",")

    print(
        f"# search_speed: {args.n:,} {args.data} unit vectors, dim {args.dim}, {args.queries} queries, "
        f"k={args.k}; faiss {faiss.__version__}, {args.threads} build threads, {platform.processor() or platform.machine()}"
    )
    t0 = time.perf_counter()
    base, queries = make_data(args.data, args.n, args.queries, args.dim, args.seed)
    print(f"# data generated in {time.perf_counter() - t0:.1f} s")

    flat = faiss.IndexFlatIP(args.dim)
    flat.add(base)
    t0 = time.perf_counter()
    _, truth = flat.search(queries, args.k)  # batched exact search: the ground truth
    print(f"# ground truth (batched exact search) in {time.perf_counter() - t0:.1f} s\n")

    header = f"{'index':<8} {'setting':<14} {'build s':>8} {'p50 ms':>8} {'p99 ms':>8} {'recall@' + str(args.k):>10}"
    print(header)
    print("-" * len(header))
    if "flat" in types:
        p50, p99, found = latencies(flat, queries, args.k, faiss.SearchParameters())
        print(
            f"{'flat':<8} {'exact':<14} {0.0:>8.1f} {p50:>8.2f} {p99:>8.2f} {recall(found, truth):>10.3f}",
            flush=True,
        )
    del flat

    for kind in ("hnsw", "ivfpq"):
        if kind not in types:
            continue
        settings = resolved(
            AnnSettings(index_type=kind, hnsw_m=args.hnsw_m, ef_construction=args.ef_construction),
            args.n,
            args.dim,
        )
        index = new_index(settings, args.dim)
        t0 = time.perf_counter()
        if not index.is_trained:
            sample = base[
                np.random.default_rng(1).choice(args.n, min(args.n, settings.train_size), replace=False)
            ]
            index.train(sample)
        index.add(base)
        build = time.perf_counter() - t0
        sweep = args.ef_search if kind == "hnsw" else args.nprobe
        for value in (int(v) for v in sweep.split(",")):
            if kind == "hnsw":
                settings.ef_search = value
                label = f"efSearch={value}"
            else:
                settings.nprobe = value
                label = f"nprobe={value}"
            p50, p99, found = latencies(index, queries, args.k, search_params(index, settings))
            name = kind if kind == "hnsw" else "ivfpq"
            print(
                f"{name:<8} {label:<14} {build:>8.1f} {p50:>8.2f} {p99:>8.2f} {recall(found, truth):>10.3f}",
                flush=True,
            )
        if kind == "ivfpq":
            print(
                f"#   ivfpq: nlist={settings.nlist}, pq_m={settings.pq_m} ({settings.pq_m} bytes/vector), "
                f"trained on {min(args.n, settings.train_size):,} vectors"
            )
        else:
            print(f"#   hnsw: M={settings.hnsw_m}, efConstruction={settings.ef_construction}")
        del index


if __name__ == "__main__":
    main()
