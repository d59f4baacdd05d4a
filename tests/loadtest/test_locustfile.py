"""The load test's people do what their action names say: the locustfile, run by Locust for a
few seconds against a live server on the demo data (one person of each role, their waits a
hundred times shorter), succeeds at every action it tries and tries the floor's main ones.

``make loadtest`` runs this first (``-m loadtest``): an hour of load is worth little if the
locustfile's forms no longer match the pages. Locust runs in a process of its own (it patches
the standard library with gevent when imported)."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.test.utils import override_settings
from pytest_django.live_server_helper import LiveServer

from config.celery import app
from loadtest.dataset import credentials_for_run
from team.models import Role, User

pytestmark = [pytest.mark.loadtest, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 30

# The actions every run must have done (the others depend on chance: a hand-off is 15% of an
# SDR's cycles, a rejection 20% of an AE's answers), all without a failure.
REQUIRED = {
    "sdr: queue", "sdr: lead", "sdr: log touch", "ae: inbox", "ae: pipeline", "ae: opportunity",
    "am: renewals", "am: contract", "am: log conversation", "manager: breach review",
    "manager: team queues", "manager: insight overview", "marketing: lead list", "import: upload",
    "import: mapping", "webform: submit", "api: capture lead",
}  # fmt: skip

PLAIN_HTTP = {
    "SECURE_SSL_REDIRECT": False,
    "SECURE_HSTS_SECONDS": 0,
    "SESSION_COOKIE_SECURE": False,
    "CSRF_COOKIE_SECURE": False,
}


@pytest.fixture
def live_server():
    with override_settings(**PLAIN_HTTP):
        server = LiveServer("localhost")
        yield server
        server.stop()


@pytest.fixture
def eager_tasks():
    """The import's task runs in the request's thread: no worker here."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_the_locustfile_actions_succeed_against_the_pages(live_server, eager_tasks, tmp_path):
    call_command("seed_demo", leads=60, verbosity=0)
    User.objects.create(username="load-integration", role=Role.INTEGRATION, password=make_password("x"))
    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps(credentials_for_run()))
    env = {
        **os.environ,
        "LOADTEST_CREDENTIALS": str(credentials),
        "LOADTEST_PACE": "0.01",
        "LOADTEST_ONE_EACH": "1",
        "LOADTEST_IMPORT_SECONDS": "600",  # one import (0.01 x 600 = 6 s apart)
        "LOADTEST_IMPORT_ROWS": "5",
        "LOADTEST_WEBFORM_RATE": "0.3",  # under the form's 30 a minute per address
        "LOADTEST_API_RATE": "1",
    }
    prefix = tmp_path / "stats"
    command = [
        str(Path(sys.executable).parent / "locust"), "-f", str(ROOT / "loadtest" / "locustfile.py"),
        "--headless", "--host", live_server.url, "-u", "8", "-r", "8", "-t", f"{SECONDS}s",
        "--stop-timeout", "5", "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=SECONDS + 60)
    # 1 when a request failed (the failures are asserted below); no CSV when Locust could not start.
    assert done.returncode in (0, 1) and (tmp_path / "stats_stats.csv").exists(), done.stderr[-3000:]
    with (tmp_path / "stats_stats.csv").open() as f:
        stats = {row["Name"]: row for row in csv.DictReader(f) if row["Name"] != "Aggregated"}
    with (tmp_path / "stats_failures.csv").open() as f:
        failures = [f"{row['Name']}: {row['Error']} x{row['Occurrences']}" for row in csv.DictReader(f)]
    assert failures == []
    done_actions = {name for name, row in stats.items() if int(row["Request Count"])}
    assert REQUIRED - done_actions == set()
