"""The load test's own PostgreSQL 15 cluster: the machine's shared server does not preload
pg_stat_statements and must not be restarted, so the run starts a cluster of its own under
``var/loadtest/pgdata`` on port 55432 (``LOADTEST_PG_PORT``), with the extension preloaded,
lock waits logged and production-like settings for this machine (2 cores, 24 GB).

The cluster is made once (``initdb``) and kept: its data directory holds the data set's
template database, so a later run starts from it in seconds. Each run starts the server if it
is not running and stops it at the end. When the runner is root, the server runs as the
``postgres`` OS user (PostgreSQL refuses to run as root)."""

import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

import psycopg

BASE_DIR = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("LOADTEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_DIR = BASE_DIR / "var" / "loadtest"
DATA_DIR = PG_DIR / "pgdata"
LOG_FILE = PG_DIR / "postgresql.log"
PORT = int(os.environ.get("LOADTEST_PG_PORT", "55432"))
ADDRESS = f"127.0.0.1:{PORT}"

# Production-like for one 2-core, 24 GB machine that also runs the web, the worker and Redis:
# a quarter of the memory for shared buffers, the planner told SSD costs and the page cache,
# enough connections for 8 web processes' pools, a worker and the load test's monitor; the
# durability of production (fsync, synchronous_commit). The observability the report needs:
# pg_stat_statements, lock waits logged after 200 ms (deadlock_timeout), slow statements.
SETTINGS: dict[str, str] = {
    "listen_addresses": "'127.0.0.1'",
    "port": str(PORT),
    "max_connections": "300",
    "shared_buffers": "'4GB'",
    "effective_cache_size": "'12GB'",
    "work_mem": "'16MB'",
    "maintenance_work_mem": "'1GB'",
    "wal_buffers": "'64MB'",
    "max_wal_size": "'8GB'",
    "checkpoint_timeout": "'15min'",
    "checkpoint_completion_target": "0.9",
    "random_page_cost": "1.1",
    "effective_io_concurrency": "200",
    "jit": "off",
    "shared_preload_libraries": "'pg_stat_statements'",
    "pg_stat_statements.max": "10000",
    "pg_stat_statements.track": "'top'",
    "track_io_timing": "on",
    "log_lock_waits": "on",
    "deadlock_timeout": "'200ms'",
    "log_min_duration_statement": "'1s'",
    "log_line_prefix": "'%m [%p] %d '",
    "logging_collector": "off",
}


def _as_postgres() -> dict:
    """``subprocess`` arguments that run a command as the ``postgres`` OS user when root."""
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam("postgres")
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _run(*args: str) -> None:
    subprocess.run(args, check=True, cwd="/", **_as_postgres())


def dsn(db: str = "postgres") -> str:
    return f"postgresql://postgres@{ADDRESS}/{db}"


def initialised() -> bool:
    return (DATA_DIR / "PG_VERSION").exists()


def init() -> None:
    """``initdb`` the cluster (trust on loopback, as the shared server) and write its settings."""
    PG_DIR.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(PG_DIR, "postgres", "postgres")
    _run(
        str(PG_BIN / "initdb"), "-D", str(DATA_DIR), "-U", "postgres", "--auth=trust",
        "--encoding=UTF8", "--locale=C.UTF-8",
    )  # fmt: skip
    with (DATA_DIR / "postgresql.auto.conf").open("a") as conf:
        conf.write("# loadtest/pg.py: production-like settings for this machine\n")
        conf.writelines(f"{name} = {value}\n" for name, value in SETTINGS.items())


def running() -> bool:
    try:
        with psycopg.connect(dsn(), connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def start() -> bool:
    """Start the server (made first if needed). Returns whether this call started it."""
    if not initialised():
        init()
    if running():
        return False
    # The socket lives in the data directory: /var/run/postgresql may belong to another server.
    _run(
        str(PG_BIN / "pg_ctl"), "-D", str(DATA_DIR), "-l", str(LOG_FILE), "-w", "-t", "120",
        "-o", f"-k {DATA_DIR}", "start",
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not running():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the load test's PostgreSQL did not start; see {LOG_FILE}")
        time.sleep(0.5)
    with psycopg.connect(dsn(), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return True


def stop() -> None:
    if initialised() and running():
        _run(str(PG_BIN / "pg_ctl"), "-D", str(DATA_DIR), "-m", "fast", "-w", "stop")


def log_offset() -> int:
    """Where the server log ends now: the lock waits of a step are what it appends after."""
    return LOG_FILE.stat().st_size if LOG_FILE.exists() else 0


def log_since(offset: int) -> str:
    if not LOG_FILE.exists():
        return ""
    with LOG_FILE.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


if __name__ == "__main__":
    import sys

    {"start": start, "stop": stop}[sys.argv[1]]()
