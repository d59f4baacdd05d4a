"""Figure "overload" (``--only overload``): the public web form flooded at twice its capacity
for a minute, on gunicorn as production runs it (``config/gunicorn.py``: uvicorn's workers,
pooled connections, admission control), with a Celery worker capturing behind it.

1. capacity: wrk posting as fast as the server answers (16 keep-alive connections, each post
   from another of 100,000 client addresses in ``X-Forwarded-For``, which the server trusts
   here as a proxy's header, so production's per-client limit of 30/m applies and refuses
   nothing): accepted posts per second;
2. the flood: posts started at twice that rate for 60 s whatever happens to the earlier ones
   (open loop, ``tests/faults/flood.py``), each on a fresh connection as visitors' browsers
   post, from the same rotating addresses; meanwhile a logged-in SDR opens the queue page every
   half second. Counted: each answer's status (2xx, 503, 429, other) or failure (reset,
   time-out after 10 s), p50/p99 of each; the queue page's p95; leads stored for the 2xx
   answers once the worker has drained;
3. recovery: from the end of the flood, seconds until a post is accepted again.
"""

import asyncio
import os
import time
from dataclasses import dataclass, field

from tests.faults.flood import FloodReport, flood, percentile, request, until_accepted

from .capture import CeleryWorker, Gunicorn, parse_wrk
from .env import BENCH_DIR, RESULTS_DIR, connect, scalar

LUA_SCRIPT = BENCH_DIR / "overload.lua"
ADDRESSES = 100_000
PAGE = "/queue/"

#: What the flood's server runs with beyond the bench's variables: the client address comes
#: from the proxy's header, and the per-client limit is production's.
#: (And static files are served without collectstatic's manifest, which the bench does not build.)
SERVER_ENV = {
    "RATELIMIT_IP_META_KEY": "HTTP_X_FORWARDED_FOR",
    "WEBFORM_RATE": "30/m",
    "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
}


@dataclass
class ResultFigures:
    count: int
    p50_ms: float
    p99_ms: float


@dataclass
class OverloadFigures:
    workers: int
    capacity: float  # accepted posts/s, closed loop (wrk)
    capacity_p99_ms: float
    rate: float  # posts/s offered in the flood
    seconds: float
    results: dict[str, ResultFigures] = field(default_factory=dict)  # "2xx", "503", "reset", ...
    not_sent: int = 0
    accepted: int = 0
    stored: int = 0  # leads stored for the accepted posts' emails, after the worker drained
    retry_after: list[str] = field(default_factory=list)  # the values the refusals carried
    page_alone_p95_ms: float = 0.0  # the same page with no flood, just before it
    page_p50_ms: float = 0.0
    page_p95_ms: float = 0.0
    page_max_ms: float = 0.0
    page_statuses: dict[str, int] = field(default_factory=dict)
    recover_seconds: float = 0.0
    drain_seconds: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)
    without: "OverloadFigures | None" = None  # the same flood on a server without admission control


def rep_session() -> str:
    """A logged-in inbound SDR's session cookie (``sessionid=...``)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from team.models import Role, User

    user = User.objects.create(username="bench-overload-sdr", role=Role.INBOUND_SDR)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def stored_leads(emails: set[str]) -> int:
    with connect() as conn:
        return scalar(conn, "SELECT count(*) FROM leads_lead WHERE email = ANY(%s)", [sorted(emails)])


def pending() -> int:
    with connect() as conn:
        return scalar(conn, "SELECT count(*) FROM leads_websubmission WHERE processed_at IS NULL")


def summarize(report: FloodReport) -> dict[str, ResultFigures]:
    groups: dict[str, list[float]] = {}
    for outcome in report.posts:
        result = outcome.result
        name = f"{result // 100}xx" if isinstance(result, int) and result < 300 else str(result)
        groups.setdefault(name, []).append(outcome.seconds * 1000)
    return {
        name: ResultFigures(len(times), percentile(times, 0.5), percentile(times, 0.99))
        for name, times in sorted(groups.items())
    }


def measure(*, workers: int, capacity_seconds: int, flood_seconds: int, log) -> OverloadFigures:
    """Capacity, then the flood at twice it with admission control (production's settings),
    then the same flood on a server without it (``WEB_ADMISSION_CONTROL=0``): before and after
    in one run, on the same machine."""
    from bench.capture import create_web_form

    form = create_web_form()
    cookie = rep_session()
    saved = {name: os.environ.get(name) for name in (*SERVER_ENV, "WEB_ADMISSION_CONTROL")}
    os.environ.update(SERVER_ENV)
    try:
        figures = _flood_run(form.key, cookie, workers=workers, rate=None, capacity_seconds=capacity_seconds,
                             flood_seconds=flood_seconds, admission=True, log=log)  # fmt: skip
        os.environ["WEB_ADMISSION_CONTROL"] = "0"
        figures.without = _flood_run(form.key, cookie, workers=workers, rate=figures.rate, capacity_seconds=0,
                                     flood_seconds=flood_seconds, admission=False, log=log)  # fmt: skip
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return figures


def _flood_run(
    key: str,
    cookie: str,
    *,
    workers: int,
    rate: float | None,
    capacity_seconds: int,
    flood_seconds: int,
    admission: bool,
    log,
) -> OverloadFigures:
    label = "with admission control" if admission else "WITHOUT admission control"
    prefix = "flood" if admission else "flood-without"
    load_before = os.getloadavg()[0]
    capacity, capacity_p99 = 0.0, 0.0
    with Gunicorn(workers=workers, production=True) as server, CeleryWorker():
        port = int(server.url.rsplit(":", 1)[1])
        log(f"overload: gunicorn {workers} uvicorn workers on {server.url}, {label}")
        if rate is None:
            wrk = _wrk(server.url + f"/f/{key}/", capacity_seconds)
            capacity = wrk["requests_per_second"] * (1 - wrk["failed"] / max(1, wrk["requests"]))
            capacity_p99 = wrk["p99_ms"]
            log(
                f"overload: capacity {capacity:,.0f} accepted posts/s (p99 {capacity_p99:.1f} ms, {wrk['failed']} failed)"
            )
            _drain(log)
            rate = 2 * capacity
        alone = asyncio.run(_page_alone(port, cookie))
        log(f"overload: {PAGE} alone (no flood): p95 {percentile(alone, 0.95):.1f} ms of {len(alone)}")
        log(f"overload: flood at {rate:,.0f} posts/s for {flood_seconds} s, {PAGE} as an SDR every 0.5 s")
        report = asyncio.run(
            flood(port, key, rate=rate, seconds=flood_seconds, prefix=prefix, addresses=ADDRESSES, page=PAGE,
                  session_cookie=cookie)
        )  # fmt: skip
        recover, _ = asyncio.run(until_accepted(port, key, prefix=f"{prefix}-recover"))
        drain = _drain(log)
    accepted = report.accepted_emails()
    pages = [o.seconds * 1000 for o in report.pages]
    page_statuses: dict[str, int] = {}
    for o in report.pages:
        page_statuses[str(o.result)] = page_statuses.get(str(o.result), 0) + 1
    figures = OverloadFigures(
        workers=workers,
        capacity=capacity,
        capacity_p99_ms=capacity_p99,
        rate=rate,
        seconds=report.seconds,
        results=summarize(report),
        not_sent=report.not_sent,
        accepted=len(accepted),
        stored=stored_leads(accepted),
        retry_after=sorted({o.retry_after for o in report.posts if o.retry_after}),
        page_alone_p95_ms=percentile(alone, 0.95),
        page_p50_ms=percentile(pages, 0.5),
        page_p95_ms=percentile(pages, 0.95),
        page_max_ms=max(pages, default=0.0),
        page_statuses=page_statuses,
        recover_seconds=recover,
        drain_seconds=drain,
        load=(load_before, os.getloadavg()[0]),
    )
    for name, r in figures.results.items():
        log(f"overload: {name}: {r.count:,}, p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms")
    log(
        f"overload: {figures.accepted:,} accepted, {figures.stored:,} stored; {PAGE} p95 {figures.page_p95_ms:.1f} ms"
        f" ({page_statuses}); recovered in {recover:.2f} s; drained in {drain:.1f} s"
    )
    return figures


async def _page_alone(port: int, cookie: str, count: int = 20) -> list[float]:
    """Milliseconds of ``count`` requests of the page one after another, with nothing else
    running: what the page costs on this machine now, beside its time during the flood."""
    times = []
    for _ in range(count):
        outcome = await request(port, "GET", PAGE, headers={"Cookie": cookie})
        times.append(outcome.seconds * 1000)
    return times


def _wrk(url: str, seconds: int) -> dict:
    import subprocess

    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--timeout=10s", "--latency", f"-s{LUA_SCRIPT}", url]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    (RESULTS_DIR / "wrk-overload-capacity.txt").write_text(" ".join(command) + "\n" + output)
    return parse_wrk(output)


def _drain(log, timeout: float = 900) -> float:
    start = time.monotonic()
    while pending():
        if time.monotonic() - start > timeout:
            log("overload: WARNING: the worker did not drain in time")
            break
        time.sleep(0.2)
    return time.monotonic() - start
