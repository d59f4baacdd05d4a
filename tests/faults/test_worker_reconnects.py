"""A worker survives its broker dying under it: Redis (the test's own) is killed while the
worker holds unacknowledged tasks, restarted, and the worker reconnects and runs everything,
the tasks queued before the outage and the ones sent after."""

import time

import pytest
from celery import Celery

from tests.servers import project_process

pytestmark = pytest.mark.faults

NAP = "tests.faults.worker_tasks.nap"


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.fixture
def worker(own_redis, tmp_path):
    """``celery -A config worker`` as production runs it (prefork), on the test's own Redis."""
    log = tmp_path / "worker.log"
    args = [
        *("celery", "-A", "config", "worker"),
        *("--include", "tests.faults.worker_tasks", "--concurrency", "2", "--loglevel", "INFO"),
        *("--hostname", f"faults-{own_redis.port}@%h"),
    ]
    env = {"REDIS_URL": own_redis.url(0), "CELERY_BROKER_URL": own_redis.url(0)}
    with project_process(args, log=log, env=env) as process:
        yield process, log


def test_a_worker_holding_unacknowledged_tasks_reconnects_after_redis_dies(own_redis, worker, tmp_path):
    process, log = worker
    done = tmp_path / "done"
    done.mkdir()
    sender = Celery("faults", broker=own_redis.url(0))
    sender.conf.broker_connection_timeout = 1.0

    def send(name: str, seconds: float) -> None:
        sender.send_task(NAP, args=(seconds, str(done), name))

    send("ready", 0)
    assert wait_for(lambda: (done / "ready").exists(), 60), log.read_text()[-3000:]

    for i in range(6):
        send(f"before{i}", 2.0)  # two run at once (acks late: unacknowledged), four wait
    # The first two are running: received, not yet acknowledged.
    assert wait_for(lambda: log.read_text().count("received") >= 3, 20), log.read_text()[-3000:]
    time.sleep(0.5)
    own_redis.kill()  # mid-drain
    time.sleep(6)
    assert process.poll() is None, log.read_text()[-3000:]
    own_redis.start()  # same data directory: the queue is as Redis last wrote it

    for i in range(3):
        send(f"after{i}", 0.1)
    expected = {f"before{i}" for i in range(6)} | {f"after{i}" for i in range(3)}
    finished = wait_for(lambda: expected <= {p.name for p in done.iterdir()}, 60)
    output = log.read_text()
    assert process.poll() is None, output[-3000:]  # alive, not "Unrecoverable error"
    assert "Unrecoverable error" not in output
    assert finished, (sorted(p.name for p in done.iterdir()), output[-3000:])
