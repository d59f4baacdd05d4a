"""Figure "live updates" (``--only live``): what 500 open queue pages cost when each asks
``/queue/live/`` every ``LIVE_POLL_SECONDS`` whether its queue changed (``kit.live``).

On the queues figure's data generator (200 SDRs with ~60 open items each; fewer leads than the
queues figure when it runs alone: the cost is per open page, not per lead), gunicorn with the
bench's sync workers (as ``capture``), and 500 sessions spread over the 200 reps:

1. the bare SQL of the version check (the queue's grouped counts), through a cursor;
2. capacity: wrk as fast as the server answers, all 304 (nothing changed), then all changed
   (every poll renders the list): requests/s, p50/p99;
3. the paced load: 500 connections each polling every interval (wrk's ``delay``), as 500
   open pages do: requests/s served, p50/p99, the database transactions per second it adds
   (``pg_stat_database``; each statement is its own transaction in autocommit) and the CPU
   it takes, gunicorn's and PostgreSQL's backends' (``/proc``);
4. what holding the pages open would cost instead (server-sent events): with sync workers a
   stream holds a worker for as long as the page is open; ``streams_blocking`` measures a
   request made while the workers each hold one stream (``bench/baseline_urls.py``'s
   ``/bench/sse/``, a stream that checks the version every interval).
"""

import os
import re
import statistics
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter_ns as time_ns

from .capture import Gunicorn, parse_wrk
from .env import BENCH_DIR, DB_NAME, RESULTS_DIR, connect, scalar
from .timing import percentile

LUA_SCRIPT = BENCH_DIR / "live.lua"
PAGES = 500
INTERVAL_SECONDS = 15  # the default LIVE_POLL_SECONDS
SQL_SAMPLES = 500


@dataclass
class WrkRun:
    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    failed: int
    statuses: dict[str, int] = field(default_factory=dict)  # 304, 200, other: as wrk's script counted
    cpu_ms: float = 0.0  # gunicorn's and PostgreSQL's backends' CPU per request (/proc)


@dataclass
class PacedRun:
    wrk: WrkRun
    transactions_per_second: float  # on the bench database, during the run
    rows_read_per_second: float  # tup_returned + tup_fetched
    gunicorn_cpu: float  # CPU seconds per second (1.0 = one core busy)
    postgres_cpu: float
    idle_transactions_per_second: float  # the same database, nothing polling, as long


@dataclass
class SseProbe:
    workers: int
    streams: int  # streams held open, one per worker
    healthz_ms: float  # a plain request made meanwhile (timeout: the streams' duration)
    healthz_alone_ms: float


@dataclass
class LiveFigures:
    leads: int
    reps: int
    pages: int
    interval: int
    workers: int
    open_items_per_rep: float
    sql_ms: list[float]
    not_modified: WrkRun
    changed: WrkRun
    paced: PacedRun
    sse: SseProbe | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def sql_p50_ms(self) -> float:
        return percentile(self.sql_ms, 50)

    @property
    def sql_p99_ms(self) -> float:
        return percentile(self.sql_ms, 99)


# --- sessions and versions ---------------------------------------------------------------------


def open_pages(reps: list[int], pages: int) -> list[str]:
    """A logged-in session per open page (reps take turns: 500 pages over 200 reps)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from team.models import User

    users = {u.pk: u for u in User.objects.filter(pk__in=reps)}
    keys: list[str] = []
    for n in range(pages):
        user = users[reps[n % len(reps)]]
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        assert session.session_key is not None  # create() saved it
        keys.append(session.session_key)
    return keys


def current_etags(server: Gunicorn, sessions: list[str]) -> list[str]:
    """Each page's version as its first poll gets it (what the page shows)."""
    etags = []
    for key in sessions:
        request = urllib.request.Request(f"{server.url}/queue/live/", headers={"Cookie": f"sessionid={key}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            etag = response.headers["ETag"]
            if response.status != 200 or not etag:
                raise RuntimeError(f"/queue/live/ answered {response.status} without a version")
            etags.append(etag)
    return etags


# --- the bare SQL ---------------------------------------------------------------------------------


def version_sql(reps: list[int]) -> list[float]:
    """The version check's statement (``sdr.queue.queue_summary``), compiled by Django once per
    rep and replayed through a cursor: the floor of a 304."""
    from django.db.models import Count, Max, Sum
    from django.utils import timezone

    from sdr.queue import queue_for
    from team.models import User

    now = timezone.now()
    compiled = []
    for user in User.objects.filter(pk__in=reps):
        qs = (
            queue_for(user, now)
            .prefetch_related(None)
            .order_by()
            .values("bucket")
            .annotate(n=Count("pk"), ids=Sum("pk"), last=Max("pk"), policies=Sum("policy_id"))
        )
        compiled.append(qs.query.sql_with_params())
    ms = []
    with connect() as conn, conn.cursor() as cursor:
        for n in range(SQL_SAMPLES + 50):
            sql, params = compiled[n % len(compiled)]
            start = time_ns()
            cursor.execute(sql, params)
            cursor.fetchall()
            if n >= 50:  # warm-up
                ms.append((time_ns() - start) / 1e6)
    return ms


# --- wrk ---------------------------------------------------------------------------------------------


def run_wrk(
    server: Gunicorn, pages_file: Path, *, mode: str, pause_ms: int, seconds: int, connections: int, name: str
) -> WrkRun:
    threads = 2
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout=30s",
        "--latency",
        f"-s{LUA_SCRIPT}",
        f"{server.url}/queue/live/",
        "--",
        str(pages_file),
        mode,
        str(pause_ms),
        str(threads),
    ]
    server_pids, backends = _children(server.process.pid), _backend_pids()
    cpu_before = _cpu_seconds(server_pids) + _cpu_seconds(backends)
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    cpu = _cpu_seconds(server_pids) + _cpu_seconds(backends) - cpu_before
    (RESULTS_DIR / f"wrk-live-{name}.txt").write_text(" ".join(command) + "\n" + output)
    figures = parse_wrk(output)
    counted = re.search(r"statuses: 304 (\d+), 200 (\d+), other (\d+)", output)
    statuses = dict(zip(("304", "200", "other"), map(int, counted.groups()), strict=True)) if counted else {}
    return WrkRun(**figures, statuses=statuses, cpu_ms=cpu * 1000 / max(figures["requests"], 1))


def _cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone, or not ours to read
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _children(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in children:
            found += _children(int(child))
    return found


def _db_counters() -> tuple[int, int]:
    with connect() as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT xact_commit + xact_rollback, tup_returned + tup_fetched FROM pg_stat_database WHERE datname = %s",
            [DB_NAME],
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _backend_pids() -> list[int]:
    with connect() as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [DB_NAME]
        ).fetchall()
    return [int(pid) for (pid,) in rows]


def paced(server: Gunicorn, pages_file: Path, *, pages: int, interval: int, seconds: int) -> PacedRun:
    """500 connections each polling every ``interval`` seconds; the database's transactions and
    the processes' CPU over the run, beside the same span with nothing polling."""
    time.sleep(2)  # pg_stat_database is updated by backends at most every ~1 s
    before_idle = _db_counters()
    time.sleep(min(seconds, 20))
    after_idle = _db_counters()
    idle = (after_idle[0] - before_idle[0]) / min(seconds, 20)

    server_pids = _children(server.process.pid)
    result: dict = {}

    def load():
        result["wrk"] = run_wrk(
            server,
            pages_file,
            mode="same",
            pause_ms=interval * 1000,
            seconds=seconds,
            connections=pages,
            name="paced",
        )

    thread = threading.Thread(target=load)
    before = _db_counters()
    gunicorn_before = _cpu_seconds(server_pids)
    backends = _backend_pids()
    postgres_before = _cpu_seconds(backends)
    started = time.monotonic()
    thread.start()
    thread.join()
    elapsed = time.monotonic() - started
    time.sleep(1.5)
    after = _db_counters()
    return PacedRun(
        wrk=result["wrk"],
        transactions_per_second=(after[0] - before[0]) / elapsed,
        rows_read_per_second=(after[1] - before[1]) / elapsed,
        gunicorn_cpu=(_cpu_seconds(server_pids) - gunicorn_before) / elapsed,
        postgres_cpu=(_cpu_seconds(backends) - postgres_before) / elapsed,
        idle_transactions_per_second=idle,
    )


def sse_probe(server: Gunicorn, workers: int, sessions: list[str], hold_seconds: int) -> SseProbe:
    """One held stream per sync worker (``/bench/sse/``), then a plain request: it waits for a
    stream to end, as every page beyond the workers' number would."""

    def healthz() -> float:
        start = time_ns()
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=hold_seconds + 10) as response:
                response.read()
        except OSError:
            pass
        return (time_ns() - start) / 1e6

    alone = statistics.median(healthz() for _ in range(5))

    def hold(key: str) -> None:
        request = urllib.request.Request(
            f"{server.url}/bench/sse/?seconds={hold_seconds}", headers={"Cookie": f"sessionid={key}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=hold_seconds + 10) as response:
                while response.read(64):
                    pass
        except OSError:
            pass

    streams = [threading.Thread(target=hold, args=(sessions[n],)) for n in range(workers)]
    for stream in streams:
        stream.start()
    time.sleep(1.0)  # every worker has taken its stream
    blocked = healthz()
    for stream in streams:
        stream.join()
    return SseProbe(workers=workers, streams=workers, healthz_ms=blocked, healthz_alone_ms=alone)


# --- the figure ------------------------------------------------------------------------------------------


def measure(
    leads: int,
    *,
    campaigns: list[int],
    workers: int,
    wrk_seconds: int,
    paced_seconds: int,
    queues_data=None,
    log,
) -> LiveFigures:
    from . import queues

    data = queues_data
    if data is None:
        log(f"live: generating {leads:,} leads with the queues generator (200 SDRs, ~60 open items each)")
        data = queues.generate(leads, campaigns=campaigns)
    with connect() as conn:
        open_items = scalar(
            conn,
            "SELECT count(*) FROM work_workitem WHERE state = 'open' AND owner_id = ANY(%s)",
            [data.reps],
        )
    log(f"live: {PAGES} sessions over {len(data.reps)} reps")
    sessions = open_pages(data.reps, PAGES)

    log(f"live: the version check's bare SQL, {SQL_SAMPLES} times")
    sql_ms = version_sql(data.reps)
    log(f"live: bare SQL p50 {percentile(sql_ms, 50):.2f} ms, p99 {percentile(sql_ms, 99):.2f} ms")

    os.environ["LIVE_POLL_SECONDS"] = str(INTERVAL_SECONDS)
    with Gunicorn(workers=workers) as server:
        log(f"live: gunicorn {workers} sync workers on {server.url}; each page's current version")
        etags = current_etags(server, sessions)
        pages_file = RESULTS_DIR / "live-pages.txt"
        pages_file.write_text("".join(f"{key} {etag}\n" for key, etag in zip(sessions, etags, strict=True)))

        log(f"live: capacity, nothing changed (304), {wrk_seconds}s")
        run_wrk(server, pages_file, mode="same", pause_ms=0, seconds=2, connections=16, name="warm")
        not_modified = run_wrk(
            server, pages_file, mode="same", pause_ms=0, seconds=wrk_seconds, connections=16, name="304"
        )
        log(
            f"live: 304 {not_modified.requests_per_second:,.0f}/s, p50 {not_modified.p50_ms:.1f} ms,"
            f" p99 {not_modified.p99_ms:.1f} ms, failed {not_modified.failed}"
        )
        log(f"live: capacity, every poll a change (200), {wrk_seconds}s")
        changed = run_wrk(
            server, pages_file, mode="stale", pause_ms=0, seconds=wrk_seconds, connections=16, name="200"
        )
        log(
            f"live: 200 {changed.requests_per_second:,.0f}/s, p50 {changed.p50_ms:.1f} ms,"
            f" p99 {changed.p99_ms:.1f} ms, failed {changed.failed}"
        )
        log(f"live: {PAGES} open pages polling every {INTERVAL_SECONDS}s for {paced_seconds}s")
        load = paced(server, pages_file, pages=PAGES, interval=INTERVAL_SECONDS, seconds=paced_seconds)
        log(
            f"live: paced {load.wrk.requests_per_second:,.1f} polls/s, p50 {load.wrk.p50_ms:.1f} ms,"
            f" p99 {load.wrk.p99_ms:.1f} ms; {load.transactions_per_second:,.1f} transactions/s"
            f" (idle {load.idle_transactions_per_second:,.1f}); CPU gunicorn {load.gunicorn_cpu:.3f},"
            f" postgres {load.postgres_cpu:.3f} cores"
        )
        log(f"live: server-sent events instead: {workers} held streams, then a plain request")
        sse = sse_probe(server, workers, sessions, hold_seconds=10)
        log(
            f"live: /healthz took {sse.healthz_ms:,.0f} ms while {sse.streams} streams were held (alone {sse.healthz_alone_ms:.1f} ms)"
        )
    return LiveFigures(
        leads=data.leads,
        reps=len(data.reps),
        pages=PAGES,
        interval=INTERVAL_SECONDS,
        workers=workers,
        open_items_per_rep=open_items / len(data.reps),
        sql_ms=sql_ms,
        not_modified=not_modified,
        changed=changed,
        paced=load,
        sse=sse,
    )
