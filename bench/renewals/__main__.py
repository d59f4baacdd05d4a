"""``python -m bench.renewals run ISO-DATETIME WARM-UP``: one of the two processes of the
concurrent run (``task.worker_main``)."""

import sys

from .task import worker_main

if __name__ == "__main__":
    if sys.argv[1:2] != ["run"] or len(sys.argv) != 4:
        sys.exit("usage: python -m bench.renewals run ISO-DATETIME WARM-UP-ISO-DATETIME")
    worker_main(sys.argv[2], sys.argv[3])
