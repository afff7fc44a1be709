"""Benchmark of render, validate, diff and deploy at scale (issue 9); run with `python -m benchmarks`."""
