"""Encoding throughput of babelir's backends against plain ``SentenceTransformer.encode``, and what
int8 costs in retrieval quality.

Five encoders of the same model on the same texts, in one run:

* ``sentence-transformers``: ``SentenceTransformer.encode`` as a user would call it (the baseline);
* ``babelir torch fp32``: :func:`babelir.encoding.encode` on the same model (length-sorted batches);
* ``babelir torch bf16``: the same with bfloat16 weights (``--backend torch-bf16``): native only where the
  processor has avx512_bf16 or AMX, which the first line prints;
* ``babelir onnx fp32``: ONNX Runtime, BERT-fused graph, length-sorted token batches;
* ``babelir onnx int8``: the same with dynamically quantised int8 weights.

Speed is measured round-robin (each encoder encodes the same sample once per round, ``--rounds``
rounds, median reported), so a neighbour's load on a shared machine hits every encoder alike. Quality:
nDCG@10 (and MRR@10) of each backend on one babelir benchmark (default ``bible-xref-fr``: 250 French
New Testament verses -> the verses they cross-reference, among 1,500), scored by
:mod:`babelir.evaluation`, plus the cosine between int8 and fp32 embeddings and their top-10 overlap.

Usage::

    nice python benchmarks/encode_speed.py                          # me5-small, ~10 min on 2 cores
    nice python benchmarks/encode_speed.py --model tiny --speed-texts 256 --rounds 1 --quality-queries 50
"""

from __future__ import annotations

import os

# Before torch/faiss load libgomp: idle OpenMP threads sleep instead of spinning. On a machine shared
# with other jobs, spinning threads make multi-threaded PyTorch and faiss up to ~40x slower (measured:
# tiny-model encoding 43 -> 1,624 texts/s at load average 9). It applies to every encoder alike.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import platform
import statistics
import time

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="me5-small")
    ap.add_argument("--benchmark", default="bible-xref-fr")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--speed-texts", type=int, default=512, help="corpus texts encoded per speed round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quality-queries", type=int, default=0, help="0: all queries of the benchmark")
    ap.add_argument("--skip-quality", action="store_true")
    args = ap.parse_args()

    import onnxruntime
    import sentence_transformers
    from sentence_transformers import SentenceTransformer

    from babelir.backbones import resolve_backbone
    from babelir.encoding import encode, load_model, prompt_for
    from babelir.evaluation.benchmarks import load_benchmark
    from babelir.utils.devices import processor_paths

    torch.set_num_threads(args.threads)
    path = str(resolve_backbone(args.model))
    bench = load_benchmark(args.benchmark)
    doc_ids = list(bench.corpus)
    sample = [bench.corpus[d] for d in doc_ids[: args.speed_texts]]
    print(
        f"# encode_speed: model {args.model}, benchmark {args.benchmark}, {args.threads} threads, "
        f"batch {args.batch_size}; torch {torch.__version__}, sentence-transformers "
        f"{sentence_transformers.__version__}, onnxruntime {onnxruntime.__version__}; "
        f"{platform.machine()}"
    )
    print(f"# processor paths: {processor_paths()} (bf16 without avx512_bf16/amx_bf16 is emulated)")

    st = SentenceTransformer(path, device="cpu")
    half = load_model(path, device="cpu", backend="torch-bf16")
    t0 = time.perf_counter()
    fast = {b: load_model(path, backend=b) for b in ("onnx", "onnx-int8")}
    for m in fast.values():
        m.session.get_session_options().intra_op_num_threads = args.threads
    print(f"# ONNX export + quantisation (cached after the first run): {time.perf_counter() - t0:.1f} s")
    prompt = prompt_for(st, "document")

    encoders = {
        "sentence-transformers": lambda texts: st.encode(
            texts, prompt=prompt, batch_size=args.batch_size, normalize_embeddings=True, convert_to_numpy=True
        ),
        "babelir torch fp32": lambda texts: encode(st, texts, "document", batch_size=args.batch_size),
        "babelir torch bf16": lambda texts: encode(half, texts, "document", batch_size=args.batch_size),
        "babelir onnx fp32": lambda texts: encode(
            fast["onnx"], texts, "document", batch_size=args.batch_size
        ),
        "babelir onnx int8": lambda texts: encode(
            fast["onnx-int8"], texts, "document", batch_size=args.batch_size
        ),
    }
    tokens = sum(len(e.ids) for e in fast["onnx"].tokenizer.encode_batch([prompt + t for t in sample]))
    print(f"# speed sample: {len(sample)} corpus texts, {tokens / len(sample):.1f} tokens on average")
    for fn in encoders.values():
        fn(sample[:16])  # warm-up: first-call allocations and lazy initialisation
    rates: dict[str, list[float]] = {name: [] for name in encoders}
    for _ in range(args.rounds):
        for name, fn in encoders.items():
            t0 = time.perf_counter()
            fn(sample)
            rates[name].append(len(sample) / (time.perf_counter() - t0))
    base = statistics.median(rates["sentence-transformers"])
    fp32 = statistics.median(rates["babelir torch fp32"])
    int8 = statistics.median(rates["babelir onnx int8"])
    print(f"\n{'encoder':<24} {'texts/s':>9} {'vs ST':>7} {'vs fp32':>8} {'vs int8':>8}   rounds")
    for name, values in rates.items():
        med = statistics.median(values)
        print(f"{name:<24} {med:>9.1f} {med / base:>6.2f}x {med / fp32:>7.2f}x {med / int8:>7.2f}x   "
              f"{', '.join(f'{v:.1f}' for v in values)}")

    if args.skip_quality:
        return
    from babelir.evaluation.retrieval.search import exact_search
    from babelir.evaluation.scoring.metrics import aggregate, evaluate_run

    qids = list(bench.queries)[: args.quality_queries or None]
    qrels = {q: bench.qrels[q] for q in qids if q in bench.qrels}
    query_texts = [bench.queries[q] for q in qids]
    corpus_texts = [bench.corpus[d] for d in doc_ids]
    print(f"\n# quality: {len(qids)} queries, {len(doc_ids)} documents")
    models = {
        "babelir torch fp32": st,
        "babelir torch bf16": half,
        "babelir onnx fp32": fast["onnx"],
        "babelir onnx int8": fast["onnx-int8"],
    }
    embs, scores, runs = {}, {}, {}
    for name, model in models.items():
        q = encode(model, query_texts, "query", batch_size=args.batch_size)
        d = encode(model, corpus_texts, "document", batch_size=args.batch_size)
        embs[name] = (q, d)
        runs[name] = exact_search(q, d, qids, doc_ids, k=100, exclude=bench.exclude)
        scores[name] = aggregate(evaluate_run(qrels, runs[name], ["nDCG@10", "RR@10"]))
    ref = scores["babelir torch fp32"]
    print(f"{'encoder':<24} {'nDCG@10':>8} {'delta':>7} {'MRR@10':>8}")
    for name, s in scores.items():
        print(
            f"{name:<24} {100 * s['nDCG@10']:>8.2f} {100 * (s['nDCG@10'] - ref['nDCG@10']):>+7.2f} "
            f"{100 * s['RR@10']:>8.2f}"
        )
    q32, d32 = embs["babelir torch fp32"]
    q8, d8 = embs["babelir onnx int8"]
    cos = np.concatenate([np.sum(q32 * q8, axis=1), np.sum(d32 * d8, axis=1)])

    def top10(run: dict[str, dict[str, float]], qid: str) -> set[str]:
        return set(sorted(run[qid], key=lambda d: -run[qid][d])[:10])

    overlap = np.mean(
        [len(top10(runs["babelir torch fp32"], q) & top10(runs["babelir onnx int8"], q)) / 10 for q in qids]
    )
    print(
        f"# int8 vs torch fp32: embedding cosine mean {cos.mean():.4f}, min {cos.min():.4f}; "
        f"top-10 overlap {overlap:.3f} (nDCG in points, x100)"
    )


if __name__ == "__main__":
    main()
