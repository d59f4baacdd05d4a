"""Measured work, run in a fresh process by ``bench.run`` (``python -m bench.worker ...``) so
its memory figures belong to that work alone. Prints one JSON line.

    python -m bench.worker import JOB_ID [--trace]
    python -m bench.worker sweep [--trace]
    python -m bench.worker export USER_ID [--trace]

Memory is reported two ways: ``rss_growth_kib``, how far the resident set peaked above its
size when the work started, always; and with ``--trace``, ``tracemalloc_peak_kib``, the peak
of Python allocations during the work. Tracing slows Python down, so traced runs are separate
from timed runs and their times are not reported.

The RSS peak is the kernel's high-water mark (``VmHWM``), reset just before the work by
writing 5 to ``/proc/self/clear_refs``: ``getrusage``'s ``ru_maxrss`` cannot be reset, so it
would still hold the peak of start-up (loading Django and pycountry) and hide any growth
below it. Where the reset is not possible the report falls back to ``ru_maxrss``.
"""

import argparse
import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import django


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])  # "VmHWM:   123456 kB"
    raise LookupError(field)


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss_kib(reset: bool) -> int:
    if reset:
        return _status_kib("VmHWM")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _warm_up() -> None:
    """Load what any run loads once whatever its size (libraries, the scoring settings, the
    database connection), so the growth measured afterwards is the work's own."""
    import pycountry
    from django.db import connection

    from leads.models import ScoringSettings
    from leads.services import ScoringContext

    pycountry.countries.get(alpha_2="DE")  # pycountry loads its database on first use
    connection.ensure_connection()
    ScoringSettings.load()
    ScoringContext.load()


def _measure(work, trace: bool) -> dict:
    _warm_up()
    reset = _reset_peak_rss()
    rss_before = _status_kib("VmRSS") if reset else _peak_rss_kib(reset)
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    outcome = work()
    seconds = time.perf_counter() - start
    result = {"seconds": seconds, "rss_growth_kib": _peak_rss_kib(reset) - rss_before, **outcome}
    if trace:
        result["tracemalloc_peak_kib"] = tracemalloc.get_traced_memory()[1] // 1024
        tracemalloc.stop()
    return result


def _import(job_id: int) -> dict:
    from leads.services import run_import

    job = run_import(job_id=job_id)
    if job is None:
        raise SystemExit(f"import job {job_id} was not queued")
    return {"state": job.state, "failure": job.failure}


def _sweep() -> dict:
    from leads.services import sweep_engagement_thresholds

    result = sweep_engagement_thresholds()
    return {"promoted": result.promoted, "cooled": result.cooled}


def _export(user_id: int) -> dict:
    """The lead list's CSV export as the user downloads it: the request through the whole
    middleware stack (Django's test client), the file's chunks counted and dropped as they come."""
    from django.test import Client

    from team.models import User

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(User.objects.get(pk=user_id))
    response = client.get("/leads/export/")
    if response.status_code != 200 or not response.streaming:
        raise SystemExit(f"the export answered {response.status_code}")
    lines = size = 0
    for chunk in response.streaming_content:  # type: ignore[attr-defined]  # the test client's response type omits it
        lines += chunk.count(b"\n")
        size += len(chunk)
    response.close()
    return {"rows": lines - 1, "bytes": size}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("--trace", action="store_true", help="also measure the tracemalloc peak")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("import").add_argument("job_id", type=int)
    commands.add_parser("sweep")
    commands.add_parser("export").add_argument("user_id", type=int)
    args = parser.parse_args(argv)

    django.setup()
    if args.command == "import":
        result = _measure(lambda: _import(args.job_id), args.trace)
    elif args.command == "export":
        result = _measure(lambda: _export(args.user_id), args.trace)
    else:
        result = _measure(_sweep, args.trace)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
