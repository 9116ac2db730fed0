"""Fault injection: damaged files, one module per file type (see docs/CONTRIBUTING.md)."""
