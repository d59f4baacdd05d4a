"""The benchmark environment: variables every bench process runs with, the dedicated
database, subprocess helpers and the machine facts printed beside the figures."""

import fcntl
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DIR = BASE_DIR / "bench"
RESULTS_DIR = BENCH_DIR / "results"  # gitignored: generated CSVs, media, logs
PYTHON = str(BASE_DIR / ".venv" / "bin" / "python")
GUNICORN = str(BASE_DIR / ".venv" / "bin" / "gunicorn")
CELERY = str(BASE_DIR / ".venv" / "bin" / "celery")

# A second checkout may run the bench beside the first on a database and Redis db of its own
# (CI, a helper's worktree): both are dropped or flushed at the start, so never share them.
DB_NAME = os.environ.get("REFINERY_BENCH_DB", "refinery_bench")
if not re.fullmatch(r"[a-z_][a-z0-9_]*", DB_NAME):  # it is spliced into DROP DATABASE
    raise SystemExit(f"REFINERY_BENCH_DB={DB_NAME!r}: use lower-case letters, digits and _")
# The PostgreSQL server (host:port): the machine's shared one, or a cluster of a run's own
# (``make loadtest`` starts one with pg_stat_statements preloaded, see loadtest/pg.py).
PG_ADDRESS = os.environ.get("REFINERY_BENCH_PG", "127.0.0.1:5432")
SERVER_DSN = f"postgresql://postgres@{PG_ADDRESS}/postgres"
BENCH_DSN = f"postgresql://postgres@{PG_ADDRESS}/{DB_NAME}"
# A database of its own, flushed at the start.
REDIS_URL = os.environ.get("REFINERY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")

# Production-like configuration, from variables only (no setting exists only for the bench)
# except two: the public form's per-client rate limit is lifted, because every wrk request
# comes from one address, and the URLconf adds the baseline endpoint (bench.settings).
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "PYTHONPATH": str(BASE_DIR),
    "DATABASE_URL": f"postgres://postgres@{PG_ADDRESS}/{DB_NAME}",
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),  # with DEBUG off the settings refuse to start without one
    "SECURE_SSL_REDIRECT": "0",
    "ALLOWED_HOSTS": "127.0.0.1",
    "REDIS_URL": REDIS_URL,
    "WEBFORM_RATE": "1000000/s",
    "REFINERY_VAR_DIR": str(RESULTS_DIR / "var"),
    "MEDIA_ROOT": str(RESULTS_DIR / "media"),
    "STATIC_ROOT": str(RESULTS_DIR / "static"),
    "LOG_LEVEL": "WARNING",
}


def apply_env() -> None:
    """Put the bench variables into this process (before ``django.setup()``) so that the
    subprocesses it starts inherit them."""
    os.environ.update(BENCH_ENV)
    for name in ("var", "media", "static"):
        (RESULTS_DIR / name).mkdir(parents=True, exist_ok=True)
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))


@contextmanager
def exclusive_run():
    """Hold a lock for the whole run: two runs at once would drop each other's database
    and share the machine's cores. A second run waits for the first to finish."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    with (RESULTS_DIR / ".lock").open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            print(
                f"waiting for another bench run ({lock.read().strip() or 'unknown'}) to finish...", flush=True
            )
            fcntl.flock(lock, fcntl.LOCK_EX)
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()}")
        lock.flush()
        yield


def clear_media() -> None:
    """Delete the previous run's uploads (each import job stores a copy of its CSV)."""
    shutil.rmtree(RESULTS_DIR / "media", ignore_errors=True)
    (RESULTS_DIR / "media").mkdir(parents=True)


def connect(dsn: str = BENCH_DSN) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=True)


def one_row(
    conn: psycopg.Connection, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
) -> tuple:
    """The one row of a statement that always returns one (an aggregate, ``SHOW``)."""
    row = conn.execute(sql, params).fetchone()
    assert row is not None, sql
    return row


def scalar(
    conn: psycopg.Connection, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
) -> Any:
    """The value of a statement that always returns one row of one column (a count, a max)."""
    return one_row(conn, sql, params)[0]


def recreate_database() -> None:
    """Drop and create the bench database (``refinery_bench``) and migrate it, so every run
    starts alike."""
    with connect(SERVER_DSN) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR, check=True, env=os.environ
    )


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def run_worker(*args: str) -> dict:
    """Run ``python -m bench.worker ARGS`` in a fresh process and return the JSON it prints:
    a fresh process, so its peak memory is the measured work's and nothing else's."""
    done = subprocess.run(
        [PYTHON, "-m", "bench.worker", *args], cwd=BASE_DIR, env=os.environ, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"bench.worker {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine_facts() -> dict[str, str]:
    """What a reader needs to compare these figures with their own."""
    import django

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    with connect() as conn:
        pg_version = scalar(conn, "SHOW server_version")
        pg_settings = {
            name: scalar(conn, f"SHOW {name}")
            for name in ("shared_buffers", "work_mem", "synchronous_commit", "max_wal_size")
        }
    # wrk is only installed by ``make bench`` (for the capture figure); a partial run may lack it.
    wrk = (
        subprocess.run(["wrk", "--version"], capture_output=True, text=True)
        if shutil.which("wrk")
        else subprocess.CompletedProcess([], 0, "wrk: not installed", "")
    )
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu or platform.processor() or "unknown",
        "memory": f"{mem_gib:.0f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg_version,
        "postgresql_settings": ", ".join(f"{k}={v}" for k, v in pg_settings.items()),
        "wrk": (wrk.stdout or wrk.stderr).strip().splitlines()[0] if (wrk.stdout or wrk.stderr) else "wrk",
    }


def create_team(
    t: int,
    name: str,
    zone: str,
    *,
    kind: str,
    role: str,
    size: int,
    tag: str,
    member_tag: str,
    word: str,
    manager_email: str,
    manager_joins: bool = True,
    holiday_years: range = range(2025, 2028),
    **member_fields,
):
    """A team of ``size`` people of ``role`` with its manager and a Mon-Fri 9-17 calendar in
    ``zone`` (Christmas off): the people every bench section sets up the same way. Usernames
    are ``{tag}-{member_tag}-{t}-{n:02d}``. Returns (team, members)."""
    from datetime import date
    from datetime import time as clock

    from team.models import BusinessCalendar, Holiday, Role, Team, User, WorkingHours

    calendar = BusinessCalendar.objects.create(name=f"{name} calendar", timezone=zone)
    WorkingHours.objects.bulk_create(
        WorkingHours(calendar=calendar, weekday=d, opens=clock(9), closes=clock(17)) for d in range(5)
    )
    Holiday.objects.bulk_create(
        Holiday(calendar=calendar, date=date(year, 12, 25), name="Christmas Day") for year in holiday_years
    )
    manager = User.objects.create(
        username=f"{tag}-manager-{t}", role=Role.MANAGER, email=manager_email, password="!"
    )
    team = Team.objects.create(name=name, kind=kind, manager=manager, calendar=calendar)
    if manager_joins:
        manager.team = team
        manager.save(update_fields=["team"])
    members = User.objects.bulk_create(
        User(
            username=f"{tag}-{member_tag}-{t}-{n:02d}",
            first_name=f"{word}{n}",
            last_name=name.split()[-1],
            email=f"{member_tag}{t}.{n}@refinery.example",
            role=role,
            team=team,
            password="!",
            **member_fields,
        )
        for n in range(size)
    )
    return team, members
