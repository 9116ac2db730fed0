"""Benchmarks by name (:mod:`.registry`), their metadata and BEIR folders (:mod:`.base`), and one module per
family (:mod:`.bible`, :mod:`.wiki`, :mod:`.wiki_xling`, :mod:`.pool`) and split (:mod:`.splits`,
:mod:`.mini`). The names below are the package's public API."""

from babelir.evaluation.benchmarks.base import Benchmark, BenchmarkMeta
from babelir.evaluation.benchmarks.registry import (
    BUILD_VERSION,
    SUITES,
    VARIANT_SUFFIXES,
    UnknownBenchmarkError,
    benchmark_dir,
    benchmark_names,
    cache_key,
    family_info,
    get_meta,
    load_benchmark,
    resolve_names,
    write_benchmark,
)

__all__ = [
    "BUILD_VERSION", "SUITES", "VARIANT_SUFFIXES", "Benchmark", "BenchmarkMeta", "UnknownBenchmarkError",
    "benchmark_dir", "benchmark_names", "cache_key", "family_info", "get_meta", "load_benchmark",
    "resolve_names", "write_benchmark",
]
