"""Figure 6: the daily renewal task and the renewals page (issue 5), each beside the bare SQL
doing the same work.

1. The daily task, ``renewals.services.run_renewals(now=...)`` in process, at the beat
   schedule's 05:30 UTC, on a real sequence of days (each run's ``now`` one day after the
   last, nothing put back): on a normal day the contracts whose 60-day and 30-day windows
   open that day (~1/730 of the active ones each) get their renewal, items, reminders and
   emails (locmem backend), and the auto-renewing contracts that ended yesterday renew. Its
   time and the statements it sends, day by day (median and p95 over the days). Then: the
   same day again (nothing due), two processes running the next day at once (both finish;
   each window opened once), a run after 7 missed days (the catch-up), and the first run
   over the whole backlog, which is how the data set gets its open windows. Baseline: per
   day, three statements in one transaction (``INSERT ... SELECT`` with data-modifying CTEs):
   the start window's steps, renewal opportunities, items and events; the reminder window's
   steps, items and events; the auto-renewals. No emails, calendars or Python.
2. ``EXPLAIN (ANALYZE, BUFFERS)`` of the statements the task sends that read the contracts on
   a normal day (in a transaction rolled back): the claims must use ``contract_active_end``.
3. The renewals page, ``GET /renewals/`` (URL ``renewals:renewals``) through Django's test
   ``Client``, in process, like the AE pages of figure 5: server time (p50/p95) and queries
   per request, for 39 AMs with ~2,560 active contracts each, a new AM with 30, and the
   managers of the 4 AM teams; baseline, the SELECTs each request sent, via a cursor.

The data set, in SQL (``INSERT ... SELECT FROM generate_series``): 4 AM teams of 10 AMs
(Berlin and New York calendars, a manager each); ``n`` active contracts (100,000) on 0.6 n
customer accounts, their last days spread evenly over two years from yesterday (12-month
terms ending this year, 24-month terms the next), 20% auto-renewing; half of those ending this year
renewed a term that ended in the past year (closed as renewed, expanded or downsized, linked
by ``renewed_from``); n/20 churned terms in the past year (3,000 accounts churned, the others
on current customers). Every closed term has what the task and its AM left: both window
steps, its renewal opportunity won or lost, done work items (late ones with their breach),
the account's timeline. Two contacts per account with a lead each (a quarter with no
engagement left). Then the task's first run, on the day before "today", opens the windows of
the active contracts already inside them, and SQL moves each opening back to the day it would
have happened had the task run every day, gives 60% of the opened renewals a conversation
(their start items done; a reminder skipped when the talk came first) and breaches the items
past due.

Run as a module (``python -m bench.renewals run ISO-DATETIME WARM-UP``) it is one of the two
processes of the concurrent run: it runs the task once for a day already done (a warm
process, as a Celery worker is), says ``ready``, waits for ``go``, runs the task and prints
one JSON line."""

import statistics
from dataclasses import dataclass
from datetime import timedelta

from ..env import connect
from ..timing import percentile
from .baseline import BaselineRun, baseline_runs
from .data import (
    AMS_PER_TEAM,
    BASELINE_DAYS,
    IDLE_REPEATS,
    MISSED_DAYS,
    PARALLEL,
    DataSet,
    at,
    backdate,
    check_done,
    count_data,
    generate,
    vacuum,
)
from .page import Page, measure_page
from .task import Concurrent, TaskRun, measure_concurrent, measure_days, measure_idle, plans, run_task


@dataclass
class RenewalsFigures:
    data: DataSet
    first_run: TaskRun
    days: list[TaskRun]
    idle: list[TaskRun]
    concurrent: Concurrent
    catch_up: TaskRun
    baseline_days: list[BaselineRun]
    baseline_idle: list[BaselineRun]
    baseline_catch_up: BaselineRun
    plans: dict[str, str]
    plan_problems: list[str]
    pages: list[Page]

    @property
    def day_median_ms(self) -> float:
        return statistics.median(d.ms for d in self.days)

    @property
    def day_p95_ms(self) -> float:
        return percentile([d.ms for d in self.days], 95)

    @property
    def baseline_median_ms(self) -> float:
        return statistics.median(b.ms for b in self.baseline_days)

    @property
    def idle_median_ms(self) -> float:
        return statistics.median(r.ms for r in self.idle)

    @property
    def baseline_idle_median_ms(self) -> float:
        return statistics.median(b.ms for b in self.baseline_idle)

    @property
    def median_day(self) -> TaskRun:
        return sorted(self.days, key=lambda d: d.seconds)[len(self.days) // 2]


def measure(n: int, days: int, requests: int, log=print) -> RenewalsFigures:
    log(
        f"renewals: generating {n:,} active contracts on {n * 3 // 5:,} accounts, 4 AM teams of {AMS_PER_TEAM},"
        " a year of closed terms with their steps, opportunities, items and timelines"
    )
    data = generate(n)
    log(f"renewals: generated in {data.generate_seconds:.1f} s")

    first_day = data.today - timedelta(days=1)
    log(f"renewals: first run over the backlog ({first_day}: every active contract already inside a window)")
    first = run_task("first run", first_day)
    check_done(data, first_day)
    log(
        f"renewals: first run {first.seconds:.1f} s, {first.statements:,} statements: opened {first.opened:,},"
        f" reminded {first.reminded:,}, {first.emails} emails"
    )
    backdate(data, at(first_day))
    count_data(data)
    log(f"renewals: backdated in {data.backdate_seconds:.1f} s: {data.counts}; loads {data.loads}")

    pages = measure_page(data, requests, log=log)

    log(f"renewals: {days} consecutive days from {data.today}")
    day_runs = measure_days(data, days, log=log)
    last = day_runs[-1].day
    idle = measure_idle(last)
    log(
        f"renewals: nothing due ({last} again): median {statistics.median(r.ms for r in idle):.1f} ms,"
        f" {idle[0].statements} statements"
    )

    concurrent_day = last + timedelta(days=1)
    log(f"renewals: {PARALLEL} processes at once on {concurrent_day}")
    concurrent = measure_concurrent(data, concurrent_day)
    log(
        f"renewals: {concurrent.seconds * 1000:,.0f} ms wall; totals {concurrent.totals}, expected"
        f" {concurrent.expected}, steps {concurrent.steps}, items {concurrent.items},"
        f" {concurrent.duplicates} duplicates: exactly once {concurrent.exactly_once}"
    )

    catch_up_day = concurrent_day + timedelta(days=MISSED_DAYS + 1)
    log(f"renewals: catch-up on {catch_up_day} after {MISSED_DAYS} missed days")
    catch_up = run_task(f"after {MISSED_DAYS} missed days", catch_up_day)
    check_done(data, catch_up_day)
    log(
        f"renewals: catch-up {catch_up.ms:,.0f} ms, {catch_up.statements:,} statements: opened {catch_up.opened},"
        f" reminded {catch_up.reminded}, skipped {catch_up.skipped}, auto-renewed {catch_up.auto_renewed}"
    )

    first_baseline = catch_up_day + timedelta(days=1)
    days_ = [first_baseline + timedelta(days=k) for k in range(BASELINE_DAYS)]
    runs = baseline_runs(data, days_ + [days_[-1]] * IDLE_REPEATS)
    baselines, baseline_idle = runs[:BASELINE_DAYS], runs[BASELINE_DAYS:]
    if any(b.opened or b.reminded or b.skipped or b.auto_renewed for b in baseline_idle):
        raise RuntimeError("the baseline did work on a day it had done")
    baseline_last = days_[-1]
    log(
        "renewals: baseline "
        + ", ".join(
            f"{b.ms:.1f} ms ({b.opened}+{b.reminded}+{b.skipped}+{b.auto_renewed})" for b in baselines
        )
        + f"; nothing due {statistics.median(b.ms for b in baseline_idle):.2f} ms"
    )

    plan_day = baseline_last + timedelta(days=1)
    log(f"renewals: EXPLAIN (ANALYZE, BUFFERS) of the run's contract reads on {plan_day} (rolled back)")
    found, problems = plans(plan_day)
    for problem in problems:
        log(f"renewals: WARNING: {problem}")

    (baseline_catch_up,) = baseline_runs(data, [plan_day + timedelta(days=MISSED_DAYS)])
    log(f"renewals: baseline catch-up {baseline_catch_up.ms:.1f} ms")
    with connect() as conn:
        vacuum(conn)
    return RenewalsFigures(
        data=data,
        first_run=first,
        days=day_runs,
        idle=idle,
        concurrent=concurrent,
        catch_up=catch_up,
        baseline_days=baselines,
        baseline_idle=baseline_idle,
        baseline_catch_up=baseline_catch_up,
        plans=found,
        plan_problems=problems,
        pages=pages,
    )
