"""Benchmarks for ``make bench``: each figure measured beside a raw-SQL baseline in the same run.

Run with ``make bench`` (full sizes) or ``make bench BENCH_ARGS=--quick`` (a smoke run). Never
collected by pytest: benchmarks are not tests.
"""
