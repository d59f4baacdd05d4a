"""Tasks the fault tests' worker loads (``--include``): slow enough to be mid-run when Redis
dies, and leaving a file behind, so the test sees what ran without a database."""

import time
from pathlib import Path

from celery import shared_task


@shared_task(acks_late=True)
def nap(seconds: float, done_dir: str, name: str) -> None:
    time.sleep(seconds)
    (Path(done_dir) / name).touch()
