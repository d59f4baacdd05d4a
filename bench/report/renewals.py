"""Figure 6: renewals, the daily task and the renewals page."""

import statistics

from ..mdwriter import (
    Block,
    Bullets,
    Code,
    Heading,
    Paragraph,
    Section,
    Table,
    Wrapped,
    counts,
    kinds_by_time,
    span,
)
from ..plans import SLOW_PLAN_MS
from ..renewals import RenewalsFigures
from ..renewals.data import (
    AM_TEAMS,
    AMS_PER_TEAM,
    BASELINE_DAYS,
    CLAIM_INDEX,
    IDLE_REPEATS,
    MANAGER_REQUESTS,
    MISSED_DAYS,
    PAGE_WARMUP,
    PARALLEL,
    QUERY_COUNT_SAMPLE,
    SMALL_AM_REQUESTS,
)
from ..renewals.page import Page
from ..timing import percentile
from .summary import Row, not_measured
from .targets import RENEWAL_TASK_TARGET_S, RENEWALS_PAGE_TARGET_MS


def _windows(run) -> str:
    return (
        f"{run.opened:,} opened, {run.reminded + run.skipped:,} reminder windows ({run.skipped:,} not needed)"
    )


def rows(r: RenewalsFigures) -> list[Row]:
    d = r.data
    per_day = (
        statistics.mean(day.opened for day in r.days),
        statistics.mean(day.reminded + day.skipped for day in r.days),
    )
    statements = statistics.median(day.statements for day in r.days)
    baseline = f"{r.baseline_median_ms:.1f} ms (3 set-based statements, no emails; median of {len(r.baseline_days)} days)"
    c, first, catch = r.concurrent, r.first_run, r.catch_up
    rows = [
        Row(
            f"Daily renewal task, {d.contracts:,} active contracts, a normal day (~{per_day[0]:.0f} + ~{per_day[1]:.0f}"
            " entering the 60/30-day windows, auto-renewals)",
            f"median {r.day_median_ms:,.0f} ms, p95 {r.day_p95_ms:,.0f} ms over {len(r.days)} days;"
            f" {statements:.0f} statements (median day)",
            baseline,
            f"{r.day_median_ms / r.baseline_median_ms:.1f}x",
            f"< {RENEWAL_TASK_TARGET_S:g} s",
            r.day_p95_ms < RENEWAL_TASK_TARGET_S * 1000,
        ),
        Row(
            "Daily renewal task, nothing due (the same day again)",
            f"median {r.idle_median_ms:.1f} ms of {len(r.idle)}; {r.idle[0].statements} statements",
            f"{r.baseline_idle_median_ms:.2f} ms (the same 3 statements, 0 rows)",
            f"{r.idle_median_ms / r.baseline_idle_median_ms:.1f}x",
            f"< {RENEWAL_TASK_TARGET_S:g} s",
            r.idle_median_ms < RENEWAL_TASK_TARGET_S * 1000,
        ),
        Row(
            f"Daily renewal task after {MISSED_DAYS} missed days (catch-up)",
            f"{catch.ms:,.0f} ms; {catch.statements:,} statements; {_windows(catch)},"
            f" {catch.auto_renewed} auto-renewed",
            f"{r.baseline_catch_up.ms:.1f} ms (3 statements)",
            f"{catch.ms / r.baseline_catch_up.ms:.1f}x",
            "— (none set)",
            None,
        ),
        Row(
            "Daily renewal task, first run over the backlog (no step yet)",
            f"{first.seconds:,.1f} s; {first.statements:,} statements; {_windows(first)}, {first.emails} emails",
            "—",
            "—",
            "— (none set)",
            None,
        ),
        Row(
            f"Daily renewal task, {PARALLEL} processes at once on one day",
            f"{c.seconds * 1000:,.0f} ms wall, both finished; {c.totals['opened']} opened,"
            f" {c.totals['reminded'] + c.totals['skipped']} reminder windows, {sum(c.items.values())} items,"
            f" {c.duplicates} duplicates",
            f"one run's work: {c.expected['start']} + {c.expected['reminder']} windows,"
            f" {c.expected['auto_renew']} auto-renewals",
            "—",
            "each window once",
            c.exactly_once,
        ),
    ]
    for page in r.pages:
        if not page.measured:
            rows.append(not_measured(f"Renewals page `{page.url}`", page.note))
            continue
        rows.append(
            Row(
                f"Renewals page `{page.url}`, an AM with {d.loads['big']:,} active contracts",
                f"p50 {page.p50_ms:.1f} ms, p95 {page.p95_ms:.1f} ms; {span(page.queries)} queries/request"
                f" ({span(page.small_queries)} for an AM with {d.loads['small']})",
                f"p95 {page.sql_p95_ms:.2f} ms (its SELECTs via a cursor)",
                f"{page.p95_ms / page.sql_p95_ms:.1f}x",
                f"p95 < {RENEWALS_PAGE_TARGET_MS:g} ms; queries fixed",
                page.p95_ms < RENEWALS_PAGE_TARGET_MS and page.fixed_queries,
            )
        )
        manager_p95 = percentile(page.manager_ms, 95)
        manager_sql_p95 = percentile(page.manager_sql_ms, 95)
        rows.append(
            Row(
                f"Renewals page `{page.url}`, a manager of an AM team ({d.loads['manager']:,} active contracts)",
                f"p50 {percentile(page.manager_ms, 50):.1f} ms, p95 {manager_p95:.1f} ms;"
                f" {span(page.manager_queries)} queries/request",
                f"p95 {manager_sql_p95:.2f} ms (its SELECTs via a cursor)",
                f"{manager_p95 / manager_sql_p95:.1f}x",
                f"p95 < {RENEWALS_PAGE_TARGET_MS:g} ms",
                manager_p95 < RENEWALS_PAGE_TARGET_MS,
            )
        )
    return rows


def _kinds(kinds: dict[str, list]) -> Code:
    return Code([f"{ms:8.2f} ms  {n:4d}x {kind}" for kind, n, ms in kinds_by_time(kinds)])


def _run_row(label: str, run, *, emails: str, statements: str, ms: str) -> tuple[str, ...]:
    counted = (run.opened, run.reminded, run.skipped, run.auto_renewed)
    return (label, f"{run.day}", *(f"{n:,}" for n in counted), emails, statements, ms)


def _runs(r: RenewalsFigures) -> Table:
    """The task's runs, then the baseline's."""
    rows = [
        _run_row(
            run.label, run, emails=f"{run.emails:,}", statements=f"{run.statements:,}", ms=f"{run.ms:,.1f}"
        )
        for run in [r.first_run, *r.days, *r.idle, r.catch_up]
    ]
    baselines = [
        ("baseline" + (" (nothing due)" if k >= len(r.baseline_days) else ""), b)
        for k, b in enumerate([*r.baseline_days, *r.baseline_idle])
    ]
    baselines.append((f"baseline after {MISSED_DAYS} missed days", r.baseline_catch_up))
    rows += [_run_row(label, b, emails="—", statements="3", ms=f"{b.ms:,.2f}") for label, b in baselines]
    return Table(
        ("run", "day", "opened", "reminded", "not needed", "auto-renewed", "emails", "statements", "ms"), rows
    )


def section(r: RenewalsFigures) -> Section:
    d, c = r.data, r.data.counts
    start_days, reminder_days = d.windows
    conc = r.concurrent
    processes = Table(
        ("", "ms", "opened", "reminded", "not needed", "auto-renewed", "emails", "statements"),
        [
            (
                f"process {k + 1}",
                f"{p['seconds'] * 1000:,.1f}",
                *(
                    f"{p['counts'][name]}"
                    for name in ("opened", "reminded", "skipped", "auto_renewed", "emails")
                ),
                f"{p['statements']}",
            )
            for k, p in enumerate(conc.runs)
        ],
    )
    plans: list[Block] = []
    for name, plan in r.plans.items():
        plans += [Paragraph(f"{name}:"), Code([plan])]
    out = (
        Section(
            "6. Renewals: the daily task and the renewals page",
            [
                Wrapped(
                    f"Generated in SQL in {d.generate_seconds:.1f} s (`INSERT ... SELECT FROM generate_series`), then"
                    f" completed by the task's first run and {d.backdate_seconds:.1f} s of SQL, then `VACUUM ANALYZE`:"
                    f" {len(AM_TEAMS)} AM teams of {AMS_PER_TEAM} AMs with a manager each and Berlin or New York"
                    f" calendars (Mon-Fri 9-17); {c['accounts']:,} customer accounts ({c['churned_accounts']:,} of them"
                    f" churned), {c['contacts']:,} contacts with a lead each (a quarter with no engagement left);"
                    f" {c['contracts']:,} contracts: {c.get('active', 0):,} active ({c['auto_renew']:,} auto-renewing),"
                    f" their last days spread evenly over two years from yesterday (12-month terms ending this year,"
                    f" 24-month terms the next), {c.get('renewed', 0):,} terms of the past year renewed into a current one"
                    f" (`renewed_from`) and {c.get('churned', 0):,} churned. Every closed term has both window steps,"
                    " its renewal opportunity won or lost, its work items done (late ones breached, with their"
                    " breach) and its timeline. The active contracts already inside a window were opened by the"
                    f" task's first run on {r.first_run.day}; SQL then moved each opening back to the day the task"
                    " would have opened it, gave 60% of them a conversation since (start item done; the reminder"
                    " skipped when the talk came first) and breached what was past due: in all"
                    f" {c['steps']:,} steps ({c['skipped_steps']:,} reminders not needed),"
                    f" {c['renewal_opportunities']:,} renewal opportunities ({c['open_renewals']:,} open),"
                    f" {c['items']:,} renewal work items ({c['open_items']:,} open, {c['open_breached']:,} of them"
                    f" breached; {c['breaches']:,} breaches), {c['events']:,} account events. The shared tables hold"
                    f" {c['work_items_all']:,} work items and {c['opportunities_all']:,} opportunities in all."
                    f" {len(d.big_ams)} AMs hold ~{d.loads['big']:,} active contracts each, a new AM"
                    f" {d.loads['small']}; a manager's team holds {d.loads['manager']:,}."
                ),
            ],
        )
        .sub(
            "The daily task",
            Wrapped(
                "`renewals.services.run_renewals(now=...)` in process at 05:30 UTC (the beat schedule), emails to"
                f" the locmem backend, windows {start_days} and {reminder_days} days, catch-up {d.catch_up_days} days."
                f" First the backlog run on {r.first_run.day}; then {len(r.days)} consecutive days from"
                f" {d.today} (each run one day after the last; nothing put back), the last day again"
                f" {IDLE_REPEATS} times (nothing due), then {PARALLEL} processes on the next day, then a"
                f" run after {MISSED_DAYS} missed days. Each run is timed with its statements counted (an execute"
                " wrapper around each statement: a clock read and a list append) and checked afterwards: no"
                " contract left without its step in either window, no auto-renewing contract left past its end."
                f" Baseline: on the {BASELINE_DAYS} days after that (and again on the last, nothing due; and after"
                f" {MISSED_DAYS} more missed days), three statements in one transaction on a warm connection: the"
                " start window (claim the steps with `INSERT ... ON CONFLICT DO NOTHING RETURNING`, then the"
                " renewal opportunities, the link, the start item and renewal-due timer, the events, as"
                " data-modifying CTEs), the reminder window (steps that say whether the reminder was needed,"
                " reminder items, events) and the auto-renewals (close, next term, opportunity won, items done,"
                " events). No emails, calendars (due times on the wall clock) or Python."
            ),
            _runs(r),
            Paragraph(
                f"The median day ({r.median_day.day}, {r.median_day.ms:,.0f} ms): {r.median_day.statements} statements"
                " by kind, with the time their `execute()` took (the rest is Python: building the rows, due times"
                " in the AMs' calendars, the emails):"
            ),
            _kinds(r.median_day.kinds),
            Paragraph(f"After {MISSED_DAYS} missed days ({r.catch_up.ms:,.0f} ms), by kind:"),
            _kinds(r.catch_up.kinds),
        )
        .sub(
            "Two processes at once",
            Wrapped(
                f"{PARALLEL} processes (`python -m bench.renewals run`), each warmed by a run for the day"
                f" before (nothing due), run the task for {conc.day} together. Before, the day had"
                f" {conc.expected['start']} renewals to open, {conc.expected['reminder']} reminder windows and"
                f" {conc.expected['auto_renew']} auto-renewals; after, steps written at that instant:"
                f" {counts(conc.steps)}; renewal items created: {counts(conc.items)}; {conc.duplicates} contracts"
                " with two items of a kind."
                f" Wall time from the first start to the last end: {conc.seconds * 1000:,.0f} ms. Each window"
                f" opened exactly once: {'yes' if conc.exactly_once else '**NO**'}."
            ),
            processes,
        )
        .sub(
            "Plans",
            Wrapped(
                "`EXPLAIN (ANALYZE, BUFFERS)` of the statements a run on a normal day sends that read the contracts"
                " by end date (captured from a run in a transaction rolled back, each explained in another, rolled"
                f" back): both claims and the auto-renewal batch. Each must read `{CLAIM_INDEX}`, not scan the"
                " contracts."
            ),
            Paragraph(
                *(
                    [f"**{p}.**" for p in r.plan_problems]
                    or [f"Each uses `{CLAIM_INDEX}`; no large table is read with a sequential scan."]
                )
            ),
            *plans,
        )
        .sub("Renewals page")
    )
    for page in r.pages:
        out.add(*_page_blocks(r, page))
    return out


def _page_blocks(r: RenewalsFigures, page: Page) -> list:
    d = r.data
    if not page.measured:
        return [Paragraph(f"`{page.url}`: not measured, {page.note}.")]
    times = Table(
        ("", "p50 ms", "p95 ms", "max ms", "queries", "KiB"),
        [
            (
                f"measured, {len(page.ms)} requests by {len(d.big_ams)} AMs with ~{d.loads['big']:,} active contracts",
                f"{page.p50_ms:.1f}",
                f"{page.p95_ms:.1f}",
                f"{max(page.ms):.1f}",
                span(page.queries),
                f"{page.kib:,.0f}",
            ),
            (
                f"baseline, its {len(page.statements)} statements' SELECTs via a cursor",
                f"{percentile(page.sql_ms, 50):.2f}",
                f"{page.sql_p95_ms:.2f}",
                f"{max(page.sql_ms):.2f}",
                "",
                "",
            ),
            (
                f"measured, {len(page.small_ms)} requests by the AM with {d.loads['small']}",
                f"{percentile(page.small_ms, 50):.1f}",
                f"{percentile(page.small_ms, 95):.1f}",
                f"{max(page.small_ms):.1f}",
                span(page.small_queries),
                f"{page.small_kib:,.0f}",
            ),
            (
                f"measured, {len(page.manager_ms)} requests by the {len(d.managers)} managers"
                f" (~{d.loads['manager']:,} active contracts each)",
                f"{percentile(page.manager_ms, 50):.1f}",
                f"{percentile(page.manager_ms, 95):.1f}",
                f"{max(page.manager_ms):.1f}",
                span(page.manager_queries),
                f"{page.manager_kib:,.0f}",
            ),
            (
                "managers: baseline, their SELECTs via a cursor",
                f"{percentile(page.manager_sql_ms, 50):.2f}",
                f"{percentile(page.manager_sql_ms, 95):.2f}",
                f"{max(page.manager_sql_ms):.2f}",
                "",
                "",
            ),
        ],
    )
    plans: list[Block] = []
    for who, page_plans in (("AM", page.plans), ("manager", page.manager_plans)):
        for name, plan in page_plans.items():
            plans += [Paragraph(f"{who}, statement {name}:"), Code([plan])]
    verdict: Block
    if page.problems:
        verdict = Bullets(
            [f"{p}." for p in page.problems],
            f"What looks wrong (sequential scans of large tables, statements over {SLOW_PLAN_MS:g} ms):",
        )
    else:
        verdict = Paragraph(f"No sequential scan of a large table; no statement over {SLOW_PLAN_MS:g} ms.")
    return [
        Wrapped(
            f"`GET {page.url}` through the test `Client` in process, logged in (one client, like one server"
            f" process), on the data set as it stood after the first run (real clock: {d.today}):"
            f" {PAGE_WARMUP} warm-up requests, then the timed ones by the AMs in a shuffled order,"
            f" {SMALL_AM_REQUESTS} by the new AM and {MANAGER_REQUESTS} by the managers in turn. Queries"
            f" counted with `CaptureQueriesContext` on {QUERY_COUNT_SAMPLE} AMs' requests, the new AM's"
            " and each manager's: the count must not depend on the AM's book. Baseline: the SELECTs each"
            " request sent, as sent, through a cursor, in the same order. Times in ms; response in KiB."
        ),
        times,
        Paragraph(f"The statements of one request by an AM with ~{d.loads['big']:,} active contracts:"),
        Code(page.statements),
        Paragraph("A manager's:"),
        Code(page.manager_statements),
        Heading(4, "Page plans"),
        Wrapped(
            "`EXPLAIN (ANALYZE, BUFFERS)` of each page statement that reads a large table, as one AM and"
            " one manager sent it."
        ),
        verdict,
        *plans,
    ]
