"""``make loadtest``: the mixed load of a sales floor on one machine, step by step, and what
gives first.

    .venv/bin/python loadtest/run.py                         # 1,000,000 leads; 250 -> 1,250 reps
    .venv/bin/python loadtest/run.py --quick                 # 200,000 leads; 50, 100 reps, short steps
    .venv/bin/python loadtest/run.py --steps 500,1000 --step-seconds 300 --modes pool,persistent

What it runs, all on this machine:

- its own PostgreSQL 15 cluster (``loadtest/pg.py``: pg_stat_statements preloaded, lock waits
  logged, production-like settings), started if it is not running and stopped at the end
  (``--keep-pg`` leaves it running);
- the data set (``loadtest/dataset.py``) built once into a template database and copied for
  every mode, so each starts from the same state;
- gunicorn with ``--workers`` processes, a Celery worker and Celery beat (every periodic task
  on its production schedule), on Redis (``LOADTEST_REDIS_URL``, flushed at the start);
- Locust, headless, once per step with that many people (``loadtest/locustfile.py``), ramped
  up over ``--ramp-seconds`` then measured for ``--step-seconds`` (``--reset-stats``: the
  figures are the steady state's).

Connection handling (``--modes``): ``pool`` is production's (config/gunicorn.py: uvicorn's
workers on the ASGI application, psycopg's pool of ``DATABASE_POOL_SIZE`` per process);
``persistent`` is gunicorn's gthread workers on the WSGI application (``--threads`` each)
with persistent connections (``CONN_MAX_AGE=600``, one per thread).

Per step it reports, per action, requests, p50/p95/p99, requests/s and failures; database
connections and lock waits (sampled every 2 s; and the lock waits PostgreSQL logged); the
slowest statements by total and by mean time (pg_stat_statements, reset per step); CPU by
process group; the machine's load. The ceiling is the largest step at which every page's
(GET) p95 is under 200 ms and no action failed.

Writes ``bench/results/loadtest.md`` (the report), ``bench/results/loadtest.json`` (the
figures) and ``bench/results/loadtest-section.md`` (a section for docs/benchmarks.md).
"""

import argparse
import csv
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
import psycopg.sql

from loadtest import pg
from loadtest.monitor import Monitor, ProcessGroups

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = BASE_DIR / ".venv" / "bin"
RESULTS_DIR = BASE_DIR / "bench" / "results"
RUN_DIR = BASE_DIR / "var" / "loadtest" / "run"
RUN_DB = "refinery_load"
REDIS_URL = os.environ.get("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/13")
PAGE_P95_MS = 200
HEADROOM_SECONDS = 30  # a step's Locust run may take this much longer before it is stopped


def template_name(leads: int) -> str:
    return f"refinery_load_tpl_{leads}"


def base_env(db: str) -> dict[str, str]:
    """The variables every process of the run gets: the bench's production-like set
    (bench/env.py: DEBUG off, the web form's per-client rate lifted as in the bench) on the
    load test's own PostgreSQL and Redis."""
    env = dict(os.environ)
    env.update(REFINERY_BENCH_PG=pg.ADDRESS, REFINERY_BENCH_DB=db, REFINERY_BENCH_REDIS_URL=REDIS_URL)
    code = "import json; from bench import env; print(json.dumps(env.BENCH_ENV))"
    bench_env = json.loads(
        subprocess.run(
            [str(BIN / "python"), "-c", code],
            cwd=BASE_DIR,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    env.update(bench_env)
    env.update(
        # The bench's settings add only its baseline URLs; the load test runs production's.
        DJANGO_SETTINGS_MODULE="config.settings",
        REFINERY_VAR_DIR=str(RUN_DIR / "var"),
        MEDIA_ROOT=str(RUN_DIR / "media"),
        STATIC_ROOT=str(RUN_DIR / "static"),
        # Emails go to the local SMTP server (bin/mail-servers), as the mail figure's.
        EMAIL_URL=os.environ.get("LOADTEST_EMAIL_URL", "smtp://127.0.0.1:10025"),
        SITE_URL="http://127.0.0.1",
        # Plain HTTP on loopback (production has TLS in front): cookies a browser would send.
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
    )
    return env


def ensure_template(leads: int, log) -> str:
    """The data set's template database, built (or rebuilt when stale) first."""
    from loadtest.dataset import template_label

    name = template_name(leads)
    label = template_label(leads)
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if row is not None and row[0] == label:
            log(f"data set: template {name} ({label})")
            return name
    if row is not None and _same_data_set(row[0], label) and _migrate(name, log):
        # Only migrations changed since the build: bring the data forward as production
        # would (minutes), instead of generating a million leads again (10-15 minutes).
        with psycopg.connect(pg.dsn(), autocommit=True) as conn:
            conn.execute(f"COMMENT ON DATABASE {name} IS {psycopg.sql.quote(label)}")
        log(f"data set: template {name} migrated ({label})")
        return name
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        log(f"data set: building {name} ({label}); a million leads take 10-15 minutes")
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    subprocess.run(
        [str(BIN / "python"), "-m", "loadtest.dataset", "build", "--leads", str(leads)],
        cwd=BASE_DIR, env=base_env(name), check=True,
    )  # fmt: skip
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute(f"COMMENT ON DATABASE {name} IS {psycopg.sql.quote(label)}")
    return name


def _same_data_set(built: str | None, wanted: str) -> bool:
    """The template was made by this data set's version and size, under other migrations."""
    return bool(built) and built.split(" migrations=")[0] == wanted.split(" migrations=")[0]


def _migrate(name: str, log) -> bool:
    """Apply the migrations added since the template was built; False when that fails (a
    migration was renamed or edited after it was applied there): the caller rebuilds."""
    log(f"data set: migrating {name} to the current migrations")
    done = subprocess.run(
        [str(BIN / "python"), "manage.py", "migrate", "--noinput"],
        cwd=BASE_DIR, env=base_env(name), capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        log(f"data set: migrating failed, rebuilding: {done.stderr.strip().splitlines()[-1:]}")
    return done.returncode == 0


def _static_stale() -> bool:
    manifest = RUN_DIR / "static" / "staticfiles.json"
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    return any(p.stat().st_mtime > built for p in (BASE_DIR / "config" / "static").rglob("*") if p.is_file())


def fresh_database(template: str) -> None:
    """A copy of the template, read into shared buffers (``pg_prewarm``): a production
    database that has been serving all day has its tables in memory; a fresh copy's first
    minutes would measure the disk instead."""
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {RUN_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {RUN_DB} TEMPLATE {template}")
    with psycopg.connect(pg.dsn(RUN_DB), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        conn.execute(
            "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 'm')"
        )


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


class Processes:
    """gunicorn, the Celery worker and beat for one mode; stopped (TERM, then KILL) at exit."""

    def __init__(self, mode: str, workers: int, threads: int, concurrency: int, env: dict[str, str]) -> None:
        self.mode, self.workers, self.threads, self.concurrency = mode, workers, threads, concurrency
        self.env = dict(env)
        self.port = 18000 + os.getpid() % 1000
        self.procs: dict[str, subprocess.Popen] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def gunicorn_command(self) -> list[str]:
        common = [f"--bind=127.0.0.1:{self.port}", f"--workers={self.workers}", "--log-level=warning"]
        if self.mode == "pool":
            return [str(BIN / "gunicorn"), "--config=config/gunicorn.py", "config.asgi:application", *common]
        return [
            str(BIN / "gunicorn"), "config.wsgi:application", "--worker-class=gthread",
            f"--threads={self.threads}", "--timeout=30", "--keep-alive=5", *common,
        ]  # fmt: skip

    def __enter__(self) -> "Processes":
        env = dict(self.env)
        if self.mode == "persistent":
            env.update(DATABASE_POOL_SIZE="0", CONN_MAX_AGE="600")
        else:
            env.setdefault("DATABASE_POOL_SIZE", "8")
        logs = RUN_DIR / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        commands = {
            "gunicorn": self.gunicorn_command(),
            "celery worker": [
                str(BIN / "celery"), "-A", "config", "worker", f"--concurrency={self.concurrency}",
                "--loglevel=WARNING", "--without-gossip", "--without-mingle",
            ],
            "celery beat": [
                str(BIN / "celery"), "-A", "config", "beat", "--loglevel=WARNING",
                f"--schedule={RUN_DIR / 'celerybeat-schedule'}",
            ],
        }  # fmt: skip
        (RUN_DIR / "celerybeat-schedule").unlink(missing_ok=True)
        try:
            self._start(commands, env, logs)
        except BaseException:  # an interrupted start leaves nothing running either
            self.__exit__()
            raise
        return self

    def _start(self, commands: dict[str, list[str]], env: dict[str, str], logs: Path) -> None:
        for name, command in commands.items():
            log = (logs / f"{name.replace(' ', '-')}-{self.mode}.log").open("w")
            self.procs[name] = subprocess.Popen(
                command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if self.procs["gunicorn"].poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start; see {logs}") from None
                time.sleep(0.5)

    def __exit__(self, *exc) -> None:
        for process in self.procs.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.procs.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def pids(self) -> dict[str, int]:
        return {name: p.pid for name, p in self.procs.items()}


def postmaster_pid() -> int:
    return int((pg.DATA_DIR / "postmaster.pid").read_text().split()[0])


STATEMENTS_SQL = """
SELECT calls, round(total_exec_time::numeric, 1), round(mean_exec_time::numeric, 2),
       round((100 * total_exec_time / nullif(sum(total_exec_time) OVER (), 0))::numeric, 1),
       rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 220)
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
WHERE d.datname = %s AND calls >= %s
ORDER BY {order} DESC LIMIT %s
"""


def top_statements(order: str, min_calls: int = 1, limit: int = 10) -> list[dict]:
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        rows = conn.execute(STATEMENTS_SQL.format(order=order), [RUN_DB, min_calls, limit]).fetchall()
    keys = ("calls", "total_ms", "mean_ms", "share", "rows", "query")
    return [
        dict(
            zip(
                keys,
                (float(v) if i in (1, 2, 3) and v is not None else v for i, v in enumerate(r)),
                strict=True,
            )
        )
        for r in rows
    ]


def reset_statements() -> None:
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")


def db_counters() -> dict[str, float]:
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit, xact_rollback, deadlocks, blks_hit, blks_read, temp_bytes"
            " FROM pg_stat_database WHERE datname = %s",
            [RUN_DB],
        ).fetchone()
    assert row is not None
    return dict(
        zip(("commits", "rollbacks", "deadlocks", "blks_hit", "blks_read", "temp_bytes"), row, strict=True)
    )


LOCK_WAIT_RE = re.compile(r"still waiting for (\w+) on (.*?) after ([\d.]+) ms")


def lock_waits(log_text: str) -> dict:
    """The lock waits PostgreSQL logged (``log_lock_waits``: each wait longer than
    ``deadlock_timeout``, 200 ms here), with the statements that waited."""
    waits = LOCK_WAIT_RE.findall(log_text)
    statements: dict[str, int] = {}
    lines = log_text.splitlines()
    for i, line in enumerate(lines):
        if "still waiting for" in line:
            for follow in lines[i + 1 : i + 4]:
                if "STATEMENT:" in follow:
                    query = re.sub(r"\s+", " ", follow.split("STATEMENT:", 1)[1]).strip()[:160]
                    statements[query] = statements.get(query, 0) + 1
                    break
    return {
        "count": len(waits),
        "kinds": sorted({f"{mode} on {what.split(' of ')[-1]}" for mode, what, _ in waits})[:5],
        "statements": dict(sorted(statements.items(), key=lambda kv: -kv[1])[:5]),
        "deadlocks": log_text.count("deadlock detected"),
    }


def _number(text: str) -> float:
    """A Locust CSV cell: "N/A" for an action that never ran."""
    try:
        return float(text)
    except ValueError:
        return 0.0


def read_stats(prefix: Path) -> tuple[list[dict], list[dict]]:
    """Locust's CSV: per action (and the aggregate), and the failures."""
    stats = []
    with (prefix.parent / f"{prefix.name}_stats.csv").open() as f:
        for row in csv.DictReader(f):
            stats.append(
                {
                    "method": row["Type"],
                    "name": row["Name"],
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "p50": _number(row["50%"]),
                    "p95": _number(row["95%"]),
                    "p99": _number(row["99%"]),
                    "max": _number(row["Max Response Time"]),
                    "rps": _number(row["Requests/s"]),
                }
            )
    failures = []
    failures_file = prefix.parent / f"{prefix.name}_failures.csv"
    if failures_file.exists():
        with failures_file.open() as f:
            for row in csv.DictReader(f):
                failures.append(
                    {"name": row["Name"], "error": row["Error"][:200], "occurrences": int(row["Occurrences"])}
                )
    return stats, failures


def step_passes(stats: list[dict]) -> tuple[bool, list[str]]:
    """Every page's (GET) p95 under 200 ms and no failure anywhere; the reasons when not."""
    reasons = []
    for s in stats:
        if s["name"] == "Aggregated":
            continue
        if s["failures"]:
            reasons.append(f"{s['name']}: {s['failures']} failed")
        if s["method"] == "GET" and s["p95"] >= PAGE_P95_MS and s["requests"] >= 5:
            reasons.append(f"{s['name']}: p95 {s['p95']:.0f} ms")
    return not reasons, reasons


def run_step(
    reps: int, args, server: Processes, env: dict[str, str], credentials: Path, mode: str, log
) -> dict:
    prefix = RUN_DIR / f"locust-{mode}-{reps}"
    # Inbound traffic grows with the floor: the web form at 1 post/s and the API at 0.4
    # captures/s per 200 reps (5/s and 2/s at 1,000: a busy day's inbound, ten times its mean).
    locust_env = dict(env)
    locust_env.update(
        LOADTEST_CREDENTIALS=str(credentials),
        LOADTEST_WEBFORM_RATE=str(args.webform_rate if args.webform_rate is not None else reps / 200),
        LOADTEST_API_RATE=str(reps / 500),
        LOADTEST_IMPORT_SECONDS=str(args.import_seconds),
        LOADTEST_RUN=f"{mode}{reps}t{int(time.time())}",
    )
    users = reps + 3  # the importer, the web form and the API client are fixed users
    spawn_rate = max(1.0, users / args.ramp_seconds)
    command = [
        str(BIN / "locust"), "-f", str(BASE_DIR / "loadtest" / "locustfile.py"), "--headless",
        "--host", server.url, "-u", str(users), "-r", f"{spawn_rate:.2f}",
        "-t", f"{args.ramp_seconds + args.step_seconds}s", "--stop-timeout", "10",
        "--reset-stats", "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    groups = ProcessGroups(
        roots={**server.pids(), "postgres": postmaster_pid()},
        names={"redis (shared)": "redis-server"},
    )
    reset_statements()
    log_offset = pg.log_offset()
    before = db_counters()
    log(f"  {mode}: {reps} reps, ramp {args.ramp_seconds}s, measured {args.step_seconds}s")
    with (RUN_DIR / f"locust-{mode}-{reps}.log").open("w") as out:
        locust = subprocess.Popen(command, cwd=BASE_DIR, env=locust_env, stdout=out, stderr=subprocess.STDOUT)
        groups.roots["locust"] = locust.pid
        time.sleep(args.ramp_seconds)  # the ramp is not measured: Locust resets its stats
        reset_statements()
        monitor = Monitor(pg.dsn(), RUN_DB, groups)
        monitor.start()
        try:
            locust.wait(timeout=args.step_seconds + HEADROOM_SECONDS + 30)
        except subprocess.TimeoutExpired:
            locust.kill()
            locust.wait()
        samples = monitor.stop()
    after = db_counters()
    stats, failures = read_stats(prefix)
    passes, reasons = step_passes(stats)
    seconds = max(samples.seconds, 1.0)
    result = {
        "reps": reps,
        "mode": mode,
        "passes": passes,
        "reasons": reasons,
        "stats": stats,
        "failures": failures,
        "monitor": samples.summary(),
        "transactions_per_second": round((after["commits"] - before["commits"]) / seconds, 1),
        "rollbacks": after["rollbacks"] - before["rollbacks"],
        "deadlocks": after["deadlocks"] - before["deadlocks"],
        "blocks_read": after["blks_read"] - before["blks_read"],
        "lock_waits_logged": lock_waits(pg.log_since(log_offset)),
        "statements_by_total": top_statements("total_exec_time"),
        "statements_by_mean": top_statements("mean_exec_time", min_calls=5),
    }
    agg = next((s for s in stats if s["name"] == "Aggregated"), None)
    log(
        f"  {mode} {reps}: {'PASS' if passes else 'FAIL'}"
        + (f" {agg['rps']:.1f} req/s, p95 {agg['p95']:.0f} ms, {agg['failures']} failed" if agg else "")
        + f"; load {samples.load[0]:.1f}"
        + ("" if passes else f" ({'; '.join(reasons[:4])})")
    )
    return result


def run(args, log=print) -> dict:
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    # One run at a time: a second would drop the first's database and share its cores.
    lock = (RUN_DIR.parent / ".lock").open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit("another load test is running (var/loadtest/.lock)") from None
    started_pg = pg.start()
    results: dict = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "args": dict(vars(args)),
        "postgresql": dict(pg.SETTINGS),
        "modes": {},
    }
    try:
        template = ensure_template(args.leads, log)
        for mode in args.modes:
            log(f"mode {mode}: a fresh copy of {template}")
            fresh_database(template)
            flush_redis()
            env = base_env(RUN_DB)
            shutil.rmtree(RUN_DIR / "media", ignore_errors=True)
            for name in ("var", "media", "static"):
                (RUN_DIR / name).mkdir(parents=True, exist_ok=True)
            # Production serves hashed static files from a manifest (whitenoise): collect them
            # (minutes on a busy machine: only when a source file is newer than the manifest).
            if _static_stale():
                subprocess.run(
                    [str(BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v", "0"],
                    cwd=BASE_DIR, env=env, check=True,
                )  # fmt: skip
            subprocess.run(
                [str(BIN / "python"), "-m", "loadtest.dataset", "catch-up"],
                cwd=BASE_DIR, env=env, check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            credentials = RUN_DIR / "credentials.json"
            subprocess.run(
                [str(BIN / "python"), "-m", "loadtest.dataset", "credentials", "--out", str(credentials)],
                cwd=BASE_DIR, env=env, check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            steps = []
            failing = 0
            with Processes(mode, args.workers, args.threads, args.concurrency, env) as server:
                log(f"  {mode}: gunicorn {server.gunicorn_command()[1:3]} x{args.workers} on {server.url}")
                for reps in args.steps:
                    steps.append(run_step(reps, args, server, env, credentials, mode, log))
                    failing = 0 if steps[-1]["passes"] else failing + 1
                    if failing >= args.stop_after_failing:
                        log(f"  {mode}: stopping after {failing} failing steps")
                        break
            results["modes"][mode] = {
                "steps": steps,
                "ceiling": max((s["reps"] for s in steps if s["passes"]), default=0),
            }
            (RESULTS_DIR / "loadtest.json").write_text(json.dumps(results, indent=1, default=str))
    finally:
        if started_pg and not args.keep_pg:
            pg.stop()
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    (RESULTS_DIR / "loadtest.json").write_text(json.dumps(results, indent=1, default=str))
    from loadtest.report import write

    write(results, RESULTS_DIR / "loadtest.md", RESULTS_DIR / "loadtest-section.md")
    log(f"report: {RESULTS_DIR / 'loadtest.md'}")
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200,000 leads, 50 and 100 reps, 60 s steps")
    parser.add_argument("--leads", type=int, help="leads in the data set (a multiple of 100,000)")
    parser.add_argument("--steps", help="reps per step, comma-separated (default 250,500,750,1000,1250)")
    parser.add_argument("--step-seconds", type=int, help="measured seconds per step (default 180)")
    parser.add_argument("--ramp-seconds", type=int, help="ramp-up before each step's measure (default 60)")
    parser.add_argument("--modes", default="pool", help="pool, persistent or both (comma-separated)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gthread worker (persistent)")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--webform-rate", type=float, help="web-form posts/s (default reps / 200)")
    parser.add_argument("--import-seconds", type=int, default=120, help="seconds between imports")
    parser.add_argument(
        "--stop-after-failing", type=int, default=2, help="stop after this many failing steps"
    )
    parser.add_argument("--keep-pg", action="store_true", help="leave the load test's PostgreSQL running")
    args = parser.parse_args(argv)
    args.leads = args.leads or (200_000 if args.quick else 1_000_000)
    args.steps = [
        int(s) for s in (args.steps or ("50,100" if args.quick else "250,500,750,1000,1250")).split(",")
    ]
    args.step_seconds = args.step_seconds or (60 if args.quick else 180)
    args.ramp_seconds = args.ramp_seconds or (20 if args.quick else 60)
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if set(args.modes) - {"pool", "persistent"}:
        parser.error("--modes: pool and/or persistent")
    return args


if __name__ == "__main__":
    run(parse_args())
