"""``python -m bench.opportunities hand_off|accept``: the worker of the two-process throughput
run (``handoffs.worker_main``)."""

import sys

from .handoffs import worker_main

if __name__ == "__main__":
    worker_main(sys.argv[1])
