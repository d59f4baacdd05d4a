"""Figure "live updates" (``--only live``): what 500 open queue pages cost when each asks
``/queue/live/`` every ``LIVE_POLL_SECONDS`` whether its queue changed (``kit.live``), beside
what they cost when each holds a server-sent-events stream instead.

On the queues figure's data generator (200 SDRs with ~60 open items each; fewer leads than the
queues figure when it runs alone: the cost is per open page, not per lead), gunicorn as
production runs it (``config/gunicorn.py``: uvicorn's workers on the ASGI application, pooled
database connections), and 500 sessions spread over the 200 reps:

1. the bare SQL of the version check (the queue's grouped counts), through a cursor;
2. capacity: wrk as fast as the server answers, all 304 (nothing changed), then all changed
   (every poll renders the list): requests/s, p50/p99;
3. the paced load: 500 connections each polling every interval (wrk's ``delay``; each poll on
   a new connection, as the server's keep-alive is shorter than the interval), as 500 open
   pages do: requests/s served, p50/p99, the database transactions per second it adds
   (``pg_stat_database``; each statement is its own transaction in autocommit) and the CPU
   it takes, gunicorn's and PostgreSQL's backends' (``/proc``);
4. server-sent events instead, on a fresh server of the same kind: 500 streams
   (``bench/baseline_urls.py``'s ``/bench/sse/``, an async view whose stream computes the same
   version every interval and sends it when it changed, else a heartbeat), held as long as the
   paced run: the same database and CPU figures, the workers' memory and threads with the
   streams open and idle, a plain request's time meanwhile, and whether all stayed open.
"""

import asyncio
import contextlib
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
    rss_mb: float = 0.0  # the workers' resident memory once every page has polled
    threads: int = 0  # the workers' threads, likewise
    healthz_p50_ms: float = 0.0  # GET /healthz every half second during the run
    healthz_max_ms: float = 0.0


@dataclass
class SseRun:
    streams: int  # asked for, one per open page
    opened: int  # answered 200 and open once all had been asked
    open_at_end: int  # still open when the hold ended (the server closed none)
    open_seconds: (
        float  # from the first connection until every stream had its headers (spread over an interval)
    )
    seconds: float  # the hold
    messages_per_second: float  # events and heartbeats read by the clients during the hold
    transactions_per_second: float  # on the bench database, during the hold
    rows_read_per_second: float
    gunicorn_cpu: float  # CPU seconds per second
    postgres_cpu: float
    rss_idle_mb: float  # the workers' resident memory before any stream
    rss_streams_mb: float  # ... with every stream open
    threads_idle: int  # the workers' threads, likewise
    threads_streams: int
    healthz_alone_ms: float  # GET /healthz before any stream (median of 5)
    healthz_p50_ms: float  # ... every half second during the hold
    healthz_max_ms: float
    healthz_failed: int
    lists_fetched: int = 0  # the pages' GET of their list after an event with a new version
    fetches_failed: int = 0


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
    sse: SseRun | None = None
    sse_interval: int = INTERVAL_SECONDS
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
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from team.models import User

    users = {u.pk: u for u in User.objects.filter(pk__in=reps)}
    keys: list[str] = []
    for n in range(pages):
        user = users[reps[n % len(reps)]]
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]  # as login() writes it
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
        str(connections),
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
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found  # gone
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue  # a thread that ended meanwhile (ASGI's per-request threads come and go)
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
    healthz: list[float] = []
    rss, threads = 0.0, 0
    while thread.is_alive():
        healthz.append(_healthz_sync(server))
        if len(healthz) == 2 * interval:  # every page has polled once: the pools are as large as they get
            rss, threads = _rss_and_threads(server.process.pid)
        thread.join(timeout=0.5)
    elapsed = time.monotonic() - started
    time.sleep(1.5)
    after = _db_counters()
    answered = [ms for ms in healthz if ms != float("inf")]
    return PacedRun(
        wrk=result["wrk"],
        transactions_per_second=(after[0] - before[0]) / elapsed,
        rows_read_per_second=(after[1] - before[1]) / elapsed,
        gunicorn_cpu=(_cpu_seconds(server_pids) - gunicorn_before) / elapsed,
        postgres_cpu=(_cpu_seconds(backends) - postgres_before) / elapsed,
        idle_transactions_per_second=idle,
        rss_mb=rss or _rss_and_threads(server.process.pid)[0],
        threads=threads,
        healthz_p50_ms=percentile(answered, 50) if answered else float("inf"),
        healthz_max_ms=max(healthz, default=float("inf")),
    )


def _healthz_sync(server: Gunicorn) -> float:
    """A plain request, in ms (``inf`` when it failed)."""
    start = time_ns()
    try:
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=30) as response:
            response.read()
    except OSError:
        return float("inf")
    return (time_ns() - start) / 1e6


def _rss_and_threads(master: int) -> tuple[float, int]:
    """The workers' resident memory (MB) and threads (gunicorn's master left out)."""
    rss_kb, threads = 0, 0
    for pid in _children(master)[1:]:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss_kb += int(fields["VmRSS"].split()[0])
        threads += int(fields["Threads"])
    return rss_kb / 1024, threads


async def _healthz(port: int) -> float:
    """A plain request on a new connection, in ms (``inf`` when it failed)."""
    start = time_ns()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(), timeout=30)
        writer.close()
    except (OSError, TimeoutError):
        return float("inf")
    return (time_ns() - start) / 1e6 if answer.startswith(b"HTTP/1.1 200") else float("inf")


async def _fetch_list(port: int, session: str) -> int:
    """What a page does on an event with a new version: ``GET /queue/live/`` for its list (the
    status; 0 when it failed)."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"GET /queue/live/ HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: sessionid={session}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        answer = await asyncio.wait_for(reader.read(), timeout=30)
        writer.close()
        return int(answer.split(None, 2)[1])
    except (OSError, TimeoutError, ValueError, IndexError):
        return 0


class _Stream:
    """One open queue page's event stream (``/bench/sse/``) over a raw connection: its status,
    the events and heartbeats it read, and whether the server closed it."""

    def __init__(self, port: int, session: str, seconds: int, interval: int) -> None:
        self.port, self.session, self.seconds, self.interval = port, session, seconds, interval
        self.status = 0
        self.events = self.heartbeats = 0
        self.closed = False
        self.opened = asyncio.Event()
        self.fetches: list[asyncio.Task[int]] = []

    async def run(self) -> None:
        writer = None
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port, limit=1 << 16)
            writer.write(
                f"GET /bench/sse/?seconds={self.seconds}&interval={self.interval} HTTP/1.1\r\n"
                f"Host: 127.0.0.1\r\nCookie: sessionid={self.session}\r\nAccept: text/event-stream\r\n\r\n".encode()
            )
            head = await reader.readuntil(b"\r\n\r\n")
            self.status = int(head.split(None, 2)[1])
            self.opened.set()
            while data := await reader.read(1 << 14):
                # Each message is one chunk of the chunked body: counting its marker is enough.
                events = data.count(b"event: queue")
                if events and self.events:
                    # A new version: the page fetches its list, as a changed poll's answer carries it.
                    self.fetches.append(asyncio.create_task(_fetch_list(self.port, self.session)))
                self.events += events
                self.heartbeats += data.count(b": unchanged")
            self.closed = True
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            self.closed = True
        finally:
            self.opened.set()
            if writer is not None:
                writer.close()


async def _hold_streams(server: Gunicorn, sessions: list[str], *, interval: int, seconds: int) -> SseRun:
    port = server.port
    alone = statistics.median([await _healthz(port) for _ in range(5)])
    rss_idle, threads_idle = _rss_and_threads(server.process.pid)
    # As the polling pages, the streams are not in step: they open spread over one interval
    # (or the hold, when shorter), so that their checks are too.
    ramp = min(interval, seconds)
    streams = [_Stream(port, key, ramp + seconds + 60, interval) for key in sessions]

    async def open_later(n: int, stream: _Stream) -> None:
        await asyncio.sleep(n * ramp / len(streams))
        await stream.run()

    started = time.monotonic()
    tasks = [asyncio.create_task(open_later(n, stream)) for n, stream in enumerate(streams)]
    with contextlib.suppress(TimeoutError):  # those not open by then count as failed
        await asyncio.wait_for(
            asyncio.gather(*(stream.opened.wait() for stream in streams)), timeout=ramp + 60
        )
    open_seconds = time.monotonic() - started
    opened = sum(1 for stream in streams if stream.status == 200 and not stream.closed)
    await asyncio.sleep(2)  # the last streams' first checks done and counted by pg_stat_database

    server_pids = _children(server.process.pid)
    backends = await asyncio.to_thread(_backend_pids)
    before = await asyncio.to_thread(_db_counters)
    gunicorn_before, postgres_before = _cpu_seconds(server_pids), _cpu_seconds(backends)
    events_before = sum(stream.events + stream.heartbeats for stream in streams)
    began = time.monotonic()
    healthz: list[float] = []
    rss, threads = rss_idle, threads_idle
    while (elapsed := time.monotonic() - began) < seconds:
        healthz.append(await _healthz(port))
        if not healthz[1:]:
            rss, threads = _rss_and_threads(server.process.pid)
        await asyncio.sleep(min(0.5, max(seconds - elapsed, 0)))
    elapsed = time.monotonic() - began
    gunicorn_cpu = (_cpu_seconds(server_pids) - gunicorn_before) / elapsed
    postgres_cpu = (_cpu_seconds(backends) - postgres_before) / elapsed
    messages = sum(stream.events + stream.heartbeats for stream in streams) - events_before
    fetched = [await task for stream in streams for task in stream.fetches]
    still_open = sum(1 for stream in streams if stream.status == 200 and not stream.closed)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(1.5)
    after = await asyncio.to_thread(_db_counters)
    answered = [ms for ms in healthz if ms != float("inf")]
    return SseRun(
        streams=len(streams),
        opened=opened,
        open_at_end=still_open,
        open_seconds=open_seconds,
        seconds=elapsed,
        messages_per_second=messages / elapsed,
        transactions_per_second=(after[0] - before[0]) / elapsed,
        rows_read_per_second=(after[1] - before[1]) / elapsed,
        gunicorn_cpu=gunicorn_cpu,
        postgres_cpu=postgres_cpu,
        rss_idle_mb=rss_idle,
        rss_streams_mb=rss,
        threads_idle=threads_idle,
        threads_streams=threads,
        healthz_alone_ms=alone,
        healthz_p50_ms=percentile(answered, 50) if answered else float("inf"),
        healthz_max_ms=max(healthz, default=float("inf")),
        healthz_failed=len(healthz) - len(answered),
        lists_fetched=sum(1 for status in fetched if status == 200),
        fetches_failed=sum(1 for status in fetched if status != 200),
    )


def sse_streams(server: Gunicorn, sessions: list[str], *, interval: int, seconds: int) -> SseRun:
    """One event stream per open page (``/bench/sse/``, each checking its version every
    ``interval``; on a new version the page fetches its list, as a changed poll's answer is),
    all held for ``seconds``: the database's transactions and the processes' CPU
    over the hold, the workers' memory and threads with the streams open and idle, a plain
    request's time meanwhile (every half second), and how many streams the server kept open."""
    return asyncio.run(_hold_streams(server, sessions, interval=interval, seconds=seconds))


# --- the figure ------------------------------------------------------------------------------------------


def measure(
    leads: int,
    *,
    campaigns: list[int],
    workers: int,
    wrk_seconds: int,
    paced_seconds: int,
    sse_seconds: int | None = None,
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
    with Gunicorn(workers=workers, production=True) as server:
        log(
            f"live: gunicorn {workers} uvicorn workers (production's) on {server.url}; each page's current version"
        )
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
            f" postgres {load.postgres_cpu:.3f} cores; workers {load.rss_mb:,.0f} MB, {load.threads} threads;"
            f" /healthz p50 {load.healthz_p50_ms:.1f} ms, max {load.healthz_max_ms:.1f} ms"
        )
    with Gunicorn(workers=workers, production=True) as server:
        sse_hold = sse_seconds or paced_seconds
        log(
            f"live: server-sent events instead: a fresh server ({workers} uvicorn workers), {PAGES} streams"
            f" checking every {INTERVAL_SECONDS}s, held {sse_hold}s"
        )
        sse = sse_streams(server, sessions, interval=INTERVAL_SECONDS, seconds=sse_hold)
        log(
            f"live: {sse.opened}/{sse.streams} streams opened in {sse.open_seconds:.1f}s, {sse.open_at_end} open at"
            f" the end; {sse.transactions_per_second:,.1f} transactions/s; CPU gunicorn {sse.gunicorn_cpu:.3f},"
            f" postgres {sse.postgres_cpu:.3f} cores; workers {sse.rss_idle_mb:,.0f} MB idle,"
            f" {sse.rss_streams_mb:,.0f} MB streaming ({sse.threads_idle} to {sse.threads_streams} threads);"
            f" /healthz p50 {sse.healthz_p50_ms:.1f} ms, max {sse.healthz_max_ms:.1f} ms"
            f" (alone {sse.healthz_alone_ms:.1f} ms); {sse.lists_fetched} lists fetched, {sse.fetches_failed} failed"
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
