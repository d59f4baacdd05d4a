"""``python -m bench.search [requests]``: measure the search again on the data set an earlier
``bench/run.py --only search`` left in the bench database (no generation); prints the rows and
writes bench/results/benchmarks-search-reused.md."""

import sys

import django

from bench.env import RESULTS_DIR, apply_env

if __name__ == "__main__":
    apply_env()
    django.setup()
    from bench.mdwriter import render
    from bench.report import search as report

    from . import measure

    figures = measure(0, 0, int(sys.argv[1]) if len(sys.argv) > 1 else 50, [], log=print, reuse=True)
    for row in report.rows(figures):
        print(" | ".join(row.cells()))
    (RESULTS_DIR / "benchmarks-search-reused.md").write_text(
        "\n".join(render([report.section(figures)])) + "\n"
    )
