"""What late interaction costs at search time, next to dense retrieval with the same model, in one run.

Both retrievers of :mod:`babelir.evaluation.retrieval.retrievers` on the same benchmark and model:

* ``dense`` (the baseline): one pooled vector per text, exact cosine search;
* ``late-interaction``: one vector per token, exact MaxSim (:func:`babelir.losses.maxsim`).

Reported side by side: encoding time (the same transformer forward; late interaction keeps every token
vector), scoring time, memory of the document representation (float32), and nDCG@10 of each on the
benchmark. Timings are the median of ``--rounds`` round-robin rounds, so a neighbour's load hits both.
Dense embeddings are encoded without babelir's disk cache, like the token vectors.

Usage::

    nice python benchmarks/late_interaction_cost.py                       # me5-small, ~3 min on 2 cores
    nice python benchmarks/late_interaction_cost.py --model runs/li/model --benchmark bible-xref-sw
    nice python benchmarks/late_interaction_cost.py --model tiny --rounds 1 --queries 20 --documents 100
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads sleep (see encode_speed.py)

import argparse
import platform
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="me5-small", help="backbone name or model folder")
    ap.add_argument("--benchmark", default="bible-xref-en")
    ap.add_argument("--queries", type=int, default=200, help="mini subset: queries (0: the whole benchmark)")
    ap.add_argument("--documents", type=int, default=1500, help="mini subset: documents")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    import numpy as np
    import torch

    from babelir.evaluation.benchmarks import load_benchmark
    from babelir.evaluation.benchmarks.mini import mini_benchmark
    from babelir.evaluation.retrieval.encoders import SentenceTransformerEncoder
    from babelir.evaluation.retrieval.retrievers import LateInteractionRetriever
    from babelir.evaluation.retrieval.search import exact_search, rank_scores
    from babelir.evaluation.scoring.metrics import aggregate, evaluate_run

    torch.set_num_threads(args.threads)
    bench = (
        mini_benchmark(args.benchmark, args.queries, args.documents)
        if args.queries
        else load_benchmark(args.benchmark)
    )
    qids, dids = list(bench.queries), list(bench.corpus)
    queries, docs = [bench.queries[q] for q in qids], [bench.corpus[d] for d in dids]
    encoder = SentenceTransformerEncoder.load(args.model)
    late = LateInteractionRetriever(encoder)
    q_role, d_role = bench.meta.query_role, bench.meta.document_role

    def dense() -> tuple[dict, dict]:
        t0 = time.perf_counter()
        q = encoder.encode(queries, q_role, args.batch_size, None)
        d = encoder.encode(docs, d_role, args.batch_size, None)
        t1 = time.perf_counter()
        run = exact_search(q, d, qids, dids, k=100, exclude=bench.exclude)
        t2 = time.perf_counter()
        return run, {"encode_s": t1 - t0, "score_s": t2 - t1, "doc_bytes": d.nbytes, "vectors": len(d)}

    def maxsim() -> tuple[dict, dict]:
        t0 = time.perf_counter()
        q = late.encode_tokens(queries, q_role, args.batch_size, False, "")
        d = late.encode_tokens(docs, d_role, args.batch_size, False, "")
        t1 = time.perf_counter()
        run = rank_scores(late.scores(q, d), qids, dids, k=100, exclude=bench.exclude)
        t2 = time.perf_counter()
        n_vectors = sum(len(t) for t in d)
        return run, {"encode_s": t1 - t0, "score_s": t2 - t1, "doc_bytes": n_vectors * d[0].shape[1] * 4,
                     "vectors": n_vectors}

    runners = {"dense": dense, "late-interaction": maxsim}
    timings: dict[str, list[dict]] = {name: [] for name in runners}
    quality: dict[str, float] = {}
    for _ in range(args.rounds):
        for name, fn in runners.items():
            run, t = fn()
            timings[name].append(t)
            quality[name] = aggregate(evaluate_run(bench.qrels, run, ["nDCG@10"]))["nDCG@10"]

    print(f"# late interaction vs dense: {args.model} on {bench.name} ({len(qids)} queries, {len(dids)} "
          f"documents), {args.threads} threads, median of {args.rounds} rounds; {platform.processor() or platform.machine()}")
    print()
    print("| retriever | encode s | score s | document vectors | document MB (float32) | nDCG@10 |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, rows in timings.items():
        enc = statistics.median(r["encode_s"] for r in rows)
        score = statistics.median(r["score_s"] for r in rows)
        print(f"| {name} | {enc:.2f} | {score:.3f} | {rows[0]['vectors']:,} | {rows[0]['doc_bytes'] / 2**20:.1f} "
              f"| {100 * quality[name]:.1f} |")
    ratio = np.mean([r["doc_bytes"] for r in timings["late-interaction"]]) / timings["dense"][0]["doc_bytes"]
    print(f"\nlate interaction stores {ratio:.0f}x the document floats of dense retrieval")


if __name__ == "__main__":
    main()
