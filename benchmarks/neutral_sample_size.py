"""How many documents per language the query side of language neutralization needs (pool dev).

``babelir index`` encodes a sample of each language's documents a second time, in the query role, to
estimate where that language's queries sit (:mod:`babelir.encoding.neutral`); that sample is its only
cost beyond the encoding itself. This script scores a model on the pools' dev queries with the sample
at several sizes (and with the documents' own statistics, which cost nothing), exactly as
``babelir evaluate --scoring neutral`` does, so the default size can be chosen on dev.

    python benchmarks/neutral_sample_size.py me5-small
    python benchmarks/neutral_sample_size.py runs/models/<hash>/model --sizes 25,50,100,200
"""

from __future__ import annotations

import argparse

from babelir.encoding.neutral import NeutralSettings
from babelir.evaluation.benchmarks import load_benchmark
from babelir.evaluation.retrieval.encoders import SentenceTransformerEncoder
from babelir.evaluation.retrieval.neutral import CorpusNeutralRetriever
from babelir.evaluation.scoring.runner import evaluate_benchmark


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--benchmarks", default="bible-xref-pool-dev,wiki-pool-dev")
    ap.add_argument("--method", default="centered")
    ap.add_argument("--sizes", default="10,25,50,100,200")
    args = ap.parse_args()
    encoder = SentenceTransformerEncoder.load(args.model)
    benches = [load_benchmark(name) for name in args.benchmarks.split(",")]
    rows = [("documents' own statistics (no extra encoding)", NeutralSettings(args.method, "documents"))]
    rows += [(f"{n} documents per language as queries", NeutralSettings(args.method, query_sample=int(n)))
             for n in args.sizes.split(",")]
    print(f"# {args.model}, neutralization {args.method}; main metric x100 (mAP@20 / min(R, 20))")
    print("| query statistics | " + " | ".join(b.name for b in benches) + " |")
    print("|---|" + "---:|" * len(benches))
    for label, settings in rows:
        retriever = CorpusNeutralRetriever(encoder, f"neutral:{args.method}", settings=settings)
        scores = [evaluate_benchmark(retriever, bench, 32, None, False).main_score for bench in benches]
        print(f"| {label} | " + " | ".join(f"{100 * s:.1f}" for s in scores) + " |", flush=True)


if __name__ == "__main__":
    main()
