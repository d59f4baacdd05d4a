"""Figure 1: capture over HTTP. ``wrk`` posts web-form submissions to ``/f/<key>/`` on
gunicorn, against PostgreSQL and Redis; the baseline is ``/bench/insert/`` (one raw-SQL
insert, see ``bench.baseline_urls``) on the same gunicorn configuration.

The web form validates and stores a submission; a Celery worker (running beside gunicorn on
the same two cores, as in production) captures it as a lead moments later. So the figure has
two parts: intake (requests/s and latency at the door) and end to end (leads stored per
second, from the first request until the worker has captured the last submission)."""

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .env import BASE_DIR, BENCH_DIR, CELERY, GUNICORN, RESULTS_DIR, connect, scalar

LUA_SCRIPT = BENCH_DIR / "capture.lua"
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@dataclass
class WrkResult:
    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    failed: int  # non-2xx/3xx responses plus socket errors
    rows_stored: int  # rows the endpoint inserted during the run (counted in the database)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Process:
    """A server process the bench starts and always stops (SIGTERM, then SIGKILL)."""

    process: subprocess.Popen

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Gunicorn(_Process):
    """gunicorn serving the application (``bench.settings``) on a free local port: the WSGI
    application on ``worker_class`` workers, or with ``production=True`` the ASGI application
    with production's settings file (``config/gunicorn.py``: uvicorn's workers, the pooled
    database connections, its timeouts and keep-alive)."""

    def __init__(self, workers: int, worker_class: str = "sync", *, production: bool = False) -> None:
        self.port = _free_port()
        self.log = RESULTS_DIR / "gunicorn.log"
        if production:
            application = ["--config=config/gunicorn.py", "config.asgi:application"]
        else:
            application = ["config.wsgi:application", f"--worker-class={worker_class}"]
        self.command = [
            GUNICORN,
            *application,
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={workers}",
            f"--error-logfile={self.log}",
        ]

    def __enter__(self) -> "Gunicorn":
        self.log.unlink(missing_ok=True)  # gunicorn appends: keep this run's log only
        self.process = subprocess.Popen(self.command, cwd=BASE_DIR, env=os.environ)
        deadline = time.monotonic() + 120  # a busy shared machine boots workers slowly
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()  # not left running: the with block never begins
                    raise RuntimeError(f"gunicorn did not start; see {self.log}") from None
                time.sleep(0.2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class CeleryWorker(_Process):
    """One Celery worker process (prefork, one child) consuming the bench's Redis broker."""

    def __init__(self, concurrency: int = 1) -> None:
        self.log = RESULTS_DIR / "celery-worker.log"
        self.command = [
            CELERY,
            "-A",
            "config",
            "worker",
            f"--concurrency={concurrency}",
            "--loglevel=WARNING",
            f"--logfile={self.log}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]

    def __enter__(self) -> "CeleryWorker":
        self.log.unlink(missing_ok=True)
        self.process = subprocess.Popen(self.command, cwd=BASE_DIR, env=os.environ)
        time.sleep(3)  # the worker connects to Redis and starts its child
        if self.process.poll() is not None:
            raise RuntimeError(f"the Celery worker did not start; see {self.log}")
        return self


@dataclass
class EndToEnd:
    submissions: int  # accepted during the measured run
    leads: int  # leads stored by the worker for them
    seconds: float  # from the first request until the last submission was captured
    drain_seconds: float  # after wrk stopped, until nothing was pending

    @property
    def leads_per_second(self) -> float:
        return self.leads / self.seconds if self.seconds else 0.0


@dataclass
class CaptureFigures:
    web_form: WrkResult
    baseline: WrkResult
    workers: int
    wrk: dict
    end_to_end: EndToEnd

    @property
    def ratio(self) -> float:
        return self.web_form.requests_per_second / self.baseline.requests_per_second

    @property
    def end_to_end_ratio(self) -> float:
        return self.end_to_end.leads_per_second / self.baseline.requests_per_second


def pending_submissions() -> int:
    return _count("leads_websubmission WHERE processed_at IS NULL")


def wait_until_drained(timeout: float = 600) -> float:
    """Seconds until the worker has captured every pending submission."""
    start = time.monotonic()
    while pending_submissions():
        if time.monotonic() - start > timeout:
            raise RuntimeError("the worker did not drain the submissions in time")
        time.sleep(0.05)
    return time.monotonic() - start


def measure_web_form(
    server: "Gunicorn", path: str, *, seconds: int, warmup: int, threads: int, connections: int
) -> tuple[WrkResult, EndToEnd]:
    """The web form with a worker capturing behind it: intake by wrk, end to end by the clock."""
    url = server.url + path
    run_wrk(
        url,
        prefix="webform-warm",
        seconds=warmup,
        threads=threads,
        connections=connections,
        log=RESULTS_DIR / "wrk-webform-warmup.txt",
    )
    wait_until_drained()
    leads_before, submissions_before = _count("leads_lead"), _count("leads_websubmission")
    started = time.monotonic()
    figures = run_wrk(
        url,
        prefix="webform-run",
        seconds=seconds,
        threads=threads,
        connections=connections,
        log=RESULTS_DIR / "wrk-webform.txt",
    )
    stopped = time.monotonic()
    drain = wait_until_drained()
    finished = time.monotonic()
    submissions = _count("leads_websubmission") - submissions_before
    end_to_end = EndToEnd(
        submissions=submissions,
        leads=_count("leads_lead") - leads_before,
        seconds=finished - started,
        drain_seconds=drain,
    )
    del stopped
    return WrkResult(**figures, rows_stored=submissions), end_to_end


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    assert match is not None, f"not a wrk duration: {value!r}"
    number, unit = match.groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> dict:
    """The figures of ``wrk --latency`` output."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+(?:us|ms|s|m))", output, re.M))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    assert total is not None, "wrk printed no request total"
    seconds = _ms(total.group(2) + total.group(3)) / 1e3
    return {
        "requests": int(total.group(1)),
        "seconds": seconds,
        "requests_per_second": int(total.group(1)) / seconds,
        "p50_ms": _ms(latency["50"]),
        "p99_ms": _ms(latency["99"]),
        "failed": (int(non_2xx.group(1)) if non_2xx else 0)
        + (sum(int(n) for n in socket_errors.groups()) if socket_errors else 0),
    }


def run_wrk(url: str, *, prefix: str, seconds: int, threads: int, connections: int, log: Path) -> dict:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout=10s",
        "--latency",
        f"-s{LUA_SCRIPT}",
        url,
        "--",
        prefix,
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    log.write_text(" ".join(command) + "\n" + output)
    return parse_wrk(output)


def _count(table: str) -> int:
    with connect() as conn:
        return scalar(conn, f"SELECT count(*) FROM {table}")


def measure_endpoint(
    server: Gunicorn,
    path: str,
    table: str,
    *,
    name: str,
    seconds: int,
    warmup: int,
    threads: int,
    connections: int,
) -> WrkResult:
    """Warm the endpoint up (every worker connected, code paths loaded), then measure it."""
    url = server.url + path
    run_wrk(
        url,
        prefix=f"{name}-warm",
        seconds=warmup,
        threads=threads,
        connections=connections,
        log=RESULTS_DIR / f"wrk-{name}-warmup.txt",
    )
    time.sleep(1)  # let the warm-up's last requests finish before counting
    before = _count(table)
    figures = run_wrk(
        url,
        prefix=f"{name}-run",
        seconds=seconds,
        threads=threads,
        connections=connections,
        log=RESULTS_DIR / f"wrk-{name}.txt",
    )
    time.sleep(1)
    return WrkResult(**figures, rows_stored=_count(table) - before)


def create_baseline_table() -> None:
    with connect() as conn:
        conn.execute("DROP TABLE IF EXISTS bench_insert")
        conn.execute(
            "CREATE TABLE bench_insert (id bigserial PRIMARY KEY, email text,"
            " created_at timestamptz DEFAULT now())"
        )


def create_web_form():
    """A public form on a campaign, as marketing would set one up."""
    from leads.models import Campaign, Channel, WebForm

    campaign = Campaign.objects.create(name="Bench: contact-us form", channel=Channel.WEB)
    return WebForm.objects.create(name="Contact us", campaign=campaign)
