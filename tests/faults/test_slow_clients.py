"""The production web server (gunicorn with config/gunicorn.py, two workers, on 127.0.0.1):
slow clients do not stall it, and it keeps a bounded number of database connections."""

import contextlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from tests.faults.slow_clients import get_latency, measure
from tests.servers import production_web

pytestmark = pytest.mark.faults

WORKERS, POOL = 2, 8  # config/gunicorn.py's pool per worker


@contextlib.contextmanager
def gunicorn(log: Path, **env: str):
    with production_web(log, workers=WORKERS, **env) as port:
        assert get_latency(port)[0] == 200, log.read_text()[-3000:]  # warm the workers up
        assert get_latency(port)[0] == 200
        yield port


def test_the_login_page_stays_fast_while_slow_clients_trickle_their_bodies(tmp_path):
    with gunicorn(tmp_path / "gunicorn.log") as port:
        results = measure(port, slow_clients=6, trickle_seconds=10.0, gets=8)

    assert [status for status, _ in results] == [200] * 8
    slowest = max(seconds for _, seconds in results)
    assert slowest < 1.0, f"GET /login/ took {slowest:.1f} s behind 6 slow clients"


def connections_to(name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_web_processes_keep_a_bounded_number_of_database_connections(tmp_path):
    assert connection.vendor == "postgresql"
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    paths = [f"/f/no-such-form-{i}/" for i in range(120)]  # each looks its form up: a query

    # Admission control would keep the public form's requests within half the pool anyway;
    # here more of them run at once than the pool has connections, to show the pool's bound.
    admit_all = {"WEB_PUBLIC_CONCURRENCY": "32", "WEB_PUBLIC_QUEUE": "128", "WEB_PUBLIC_WAIT_MS": "60000"}
    with gunicorn(tmp_path / "gunicorn.log", DATABASE_URL=url, **admit_all) as port:
        with ThreadPoolExecutor(max_workers=24) as pool:
            statuses = list(pool.map(lambda path: get_latency(port, path)[0], paths))
        open_connections = connections_to(db["NAME"])

    assert statuses == [404] * 120
    # The workers' pools and this test's own connection; a connection kept per request
    # thread would leave about one per request.
    assert open_connections <= WORKERS * POOL + 1
