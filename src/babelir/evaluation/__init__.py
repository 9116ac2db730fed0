"""Zero-shot multilingual evaluation: benchmarks by name, cached embeddings, ir-measures metrics, bias.

Python API::

    from babelir.evaluation import evaluate
    results = evaluate("me5-small", "bible-xref-*,wiki-*", run_dir="runs/me5")
    results.scores()              # {"bible-xref-en": 0.41, ...} main metric per benchmark
    print(results.to_markdown())  # per-language and per-benchmark tables
    results.save("me5.json")      # metadata, model fingerprint, versions, timings

    from babelir.evaluation import bias_report
    bias_report("me5-small", "reports/bias/me5-small")

The command line is ``babelir evaluate`` and ``babelir bias`` (``command.py``).
"""

from babelir.evaluation.benchmarks import (
    Benchmark,
    BenchmarkMeta,
    benchmark_names,
    get_meta,
    load_benchmark,
    resolve_names,
)
from babelir.evaluation.retrieval.encoders import (
    Encoder,
    SentenceTransformerEncoder,
    UniversalSentenceEncoder,
)
from babelir.evaluation.retrieval.loading import load_retriever
from babelir.evaluation.retrieval.retrievers import BM25Retriever, DenseRetriever, Retriever
from babelir.evaluation.scoring.runner import BenchmarkResult, Results, evaluate, evaluate_benchmark


def bias_report(*args, **kwargs):
    """See :func:`babelir.evaluation.analysis.bias.bias_report` (imported lazily: it pulls in scikit-learn)."""
    from babelir.evaluation.analysis.bias import bias_report as _bias_report

    return _bias_report(*args, **kwargs)


__all__ = [
    "BM25Retriever",
    "Benchmark",
    "BenchmarkMeta",
    "BenchmarkResult",
    "DenseRetriever",
    "Encoder",
    "Results",
    "Retriever",
    "SentenceTransformerEncoder",
    "UniversalSentenceEncoder",
    "benchmark_names",
    "bias_report",
    "evaluate",
    "evaluate_benchmark",
    "get_meta",
    "load_benchmark",
    "load_retriever",
    "resolve_names",
]
