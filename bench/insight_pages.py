"""A quick loop over the insight pages against the data set a full bench run left behind.

``make bench`` regenerates a million leads (about 20 minutes); this reuses them: it points at
``refinery_bench`` as it is, logs a manager in through Django's test ``Client`` and times the
pages for each period and each single filter, printing p50, p95 and the statement count, and
``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest statements of the slowest case.

    .venv/bin/python bench/insight_pages.py                      # every page, period, filter
    .venv/bin/python bench/insight_pages.py --pages overview --days 365 --filters none,channel
    .venv/bin/python bench/insight_pages.py --requests 5 --explain 3

Nothing is written to the database (the facts are read as they are; run
``insight.facts.rebuild()`` first after a migration that adds a column).
"""

import argparse
import gc
import os
import sys
from pathlib import Path
from time import time_ns

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import env

PAGES = {
    "overview": "/insight/",
    "funnel": "/insight/funnel/",
    "speed": "/insight/speed/",
    "money": "/insight/money/",
    "retention": "/insight/retention/",
}
PERIODS = (7, 30, 90, 365)
# The values the full bench run measured (the ones selecting the most leads).
FILTERS = {
    "campaign": "39",
    "channel": "email",
    "source": "web",
    "team": "1",
    "sdr": "23",
    "origin": "outbound",
    "fit_grade": "A",
}


def setup() -> None:
    env.apply_env()
    os.environ.setdefault("SECRET_KEY", "insight-pages-quick-loop")
    import django

    django.setup()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def manager():
    """A manager whose team calendar is the bench's zone (the full run's viewer), else any."""
    from team.models import Role, User

    people = User.objects.filter(role=Role.MANAGER, is_active=True).order_by("pk")
    return people.filter(team__calendar__timezone=env_zone()).first() or people.first()


def env_zone() -> str:
    from bench.insight.data import ZONE

    return ZONE


def explain(statements, count: int) -> None:
    """The ``count`` slowest statements of one request, explained as sent."""
    from django.db import connection

    slowest = sorted(statements, key=lambda s: -s[2])[:count]
    with connection.cursor() as cursor:
        for sql, params, ms in slowest:
            print(f"\n--- {ms:.1f} ms: {sql[:300]}")
            if not sql.lstrip().upper().startswith(("SELECT", "WITH", "(")):
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            print("\n".join(row[0] for row in cursor.fetchall()))


def scans(statements) -> None:
    """How each statement reads the facts (plain EXPLAIN): an index-only scan reads its index
    alone; anything else (a sequential, bitmap or plain index scan) also visits the table."""
    import re

    from django.db import connection

    with connection.cursor() as cursor:
        for sql, params, ms in sorted(statements, key=lambda s: -s[2]):
            if "insight_leadfact" not in sql or not sql.lstrip().upper().startswith(("SELECT", "WITH", "(")):
                continue
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            found = re.findall(
                r"(Index Only Scan|Bitmap Heap Scan|Seq Scan|Index Scan)(?: Backward)?"
                r"(?: using (\w+))? on (\w+)",
                plan,
            )
            facts = sorted(
                {
                    f"{kind}{' ' + index if index else ''}"
                    for kind, index, table in found
                    if table == "insight_leadfact"
                }
            )
            verdict = "index-only" if all(f.startswith("Index Only") for f in facts) else "READS TABLE"
            print(f"           {ms:8.1f}  {verdict:<11} {'; '.join(facts)}  | {sql[:90]}")


def baseline(days_list, names, requests: int) -> None:
    """The cohort's counts by one GROUP BY over the raw rows (``bench.insight.baseline.BASELINE_SQL``,
    the full run's baseline), timed for the same periods and filter values as the pages."""
    from django.db import connection

    from bench.insight.baseline import BASELINE_FILTERS, BASELINE_SQL
    from bench.insight.pages import period_for

    print(f"\n{'baseline':<10} {'days':>4} {'filter':<10} {'p50':>8} {'p95':>8}")
    with connection.cursor() as cursor:
        for days in days_list:
            period = period_for(days)
            for name in names:
                key = "" if name == "none" else name
                sql = BASELINE_SQL.format(where=BASELINE_FILTERS[key])
                params = {"start": period.start_at, "end": period.end_at, "value": FILTERS.get(key)}
                start = time_ns()
                cursor.execute(sql, params)  # warm-up
                cursor.fetchall()
                slow = (time_ns() - start) / 1e6 > 1000  # as the full run: 3 timed runs, not 10
                times = []
                for _ in range(min(requests, 3) if slow else requests):
                    start = time_ns()
                    cursor.execute(sql, params)
                    cursor.fetchall()
                    times.append((time_ns() - start) / 1e6)
                p50, p95 = percentile(times, 0.5), percentile(times, 0.95)
                print(f"{'baseline':<10} {days:>4} {name:<10} {p50:>8.1f} {p95:>8.1f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--days", default=",".join(map(str, PERIODS)))
    parser.add_argument("--filters", default="none," + ",".join(FILTERS))
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument(
        "--cold",
        action="store_true",
        help="a new facts generation before each request (insight.answers forgotten): the pages computed",
    )
    parser.add_argument("--explain", type=int, default=3, help="slowest statements of the slowest case")
    parser.add_argument("--statements", action="store_true", help="list each case's statements by time")
    parser.add_argument("--baseline", action="store_true", help="also time the raw GROUP BY baseline")
    parser.add_argument(
        "--scans", action="store_true", help="each statement's scans of the facts (EXPLAIN, not timed)"
    )
    args = parser.parse_args(argv)
    setup()

    from urllib.parse import urlencode

    from django.test import Client

    from bench.insight.pages import forget_answers, period_for
    from bench.timing import StatementTimer

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(manager())
    worst = None
    print(f"{'page':<10} {'days':>4} {'filter':<10} {'p50':>8} {'p95':>8} {'stmts':>5}")
    for page in args.pages.split(","):
        url = PAGES[page]
        for days in map(int, args.days.split(",")):
            period = period_for(days)
            for name in args.filters.split(","):
                params = {"start": period.start.isoformat(), "end": period.end.isoformat()}
                if name != "none":
                    params[name] = FILTERS[name]
                query = f"{url}?{urlencode(params)}"
                response = client.get(query)  # warm-up
                if response.status_code != 200:
                    raise SystemExit(f"{query} answered {response.status_code}")
                with StatementTimer() as traced:
                    client.get(query)
                gc.collect()
                times = []
                for _ in range(args.requests):
                    if args.cold:
                        forget_answers()
                    start = time_ns()
                    client.get(query)
                    times.append((time_ns() - start) / 1e6)
                p50, p95 = percentile(times, 0.5), percentile(times, 0.95)
                print(f"{page:<10} {days:>4} {name:<10} {p50:>8.1f} {p95:>8.1f} {len(traced.statements):>5}")
                if args.statements:
                    for sql, _, ms in sorted(traced.statements, key=lambda s: -s[2])[:8]:
                        print(f"           {ms:8.1f}  {sql[:150]}")
                if args.scans:
                    scans(traced.statements)
                if worst is None or p95 > worst[0]:
                    worst = (p95, query, traced.statements)
    if args.baseline:
        baseline(list(map(int, args.days.split(","))), args.filters.split(","), args.requests)
    if worst and args.explain:
        print(f"\nslowest case: {worst[1]} (p95 {worst[0]:.1f} ms)")
        explain(worst[2], args.explain)


if __name__ == "__main__":
    main()
