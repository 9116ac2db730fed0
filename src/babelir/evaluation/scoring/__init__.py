"""Scoring a retriever on benchmarks: metrics (ir-measures), the runner that evaluates and saves results,
and the Markdown tables written from saved results."""
