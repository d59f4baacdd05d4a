"""A real Celery worker for a test: a solo worker in a thread of the test process, consuming
from the Redis broker the test settings point at.

It starts on an empty queue (tasks an earlier test sent and nobody ran would otherwise run
here, against this test's database), and each task closes the database connections the
worker's thread opened, so the test database is not held open when the suite tears it down.
"""

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def real_worker() -> Iterator[object]:
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connections

    from config.celery import app

    assert app.conf.broker_url.startswith("redis://"), "this test needs REDIS_URL pointing at Redis"
    app.control.purge()

    def close_connections(**_kwargs) -> None:
        connections.close_all()

    task_postrun.connect(close_connections, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
            yield worker
    finally:
        task_postrun.disconnect(close_connections)
