"""Figure 4: SDR queues, routing and SLA timers."""

from ..mdwriter import Block, Code, Paragraph, Section, Table, kinds_by_time, ms_list, span
from ..queues import QueuesFigures, missing_indexes
from ..queues.data import REP_CAPACITY
from ..queues.page import FULL_QUEUE_REPS, QUEUE_WARMUP
from ..timing import percentile
from .summary import Row
from .targets import BREACH_SWEEP_TARGET_MS, QUEUE_PAGE_TARGET_MS


def rows(q: QueuesFigures) -> list[Row]:
    page, due, idle = q.page, q.sweep_due, q.sweep_idle
    fallback = not page.measured.startswith("GET")  # the page failed: its queue rendered alone
    what = "queue_for() + template (no `/queue/` yet)" if fallback else "`/queue/`"
    rows = [
        Row(
            f"Queue page, {what}, {q.data.leads:,} leads, {len(q.data.reps)} SDRs",
            f"p50 {page.p50_ms:.1f} ms, p95 {page.p95_ms:.1f} ms; {max(page.queries)} queries/request"
            f" ({max(page.queue_queries)} for the queue)",
            f"p95 {page.sql_p95_ms:.2f} ms (its 2 statements via a cursor)",
            f"{page.p95_ms / page.sql_p95_ms:.1f}x",
            f"p95 < {QUEUE_PAGE_TARGET_MS:g} ms",
            page.p95_ms < QUEUE_PAGE_TARGET_MS,
            missing=fallback,
        ),
        Row(
            f"Queue page, {what}, a full queue ({page.full_items} items)",
            f"p50 {percentile(page.full_ms, 50):.1f} ms, p95 {page.full_p95_ms:.1f} ms",
            f"p95 {page.full_sql_p95_ms:.2f} ms (its 2 statements via a cursor)",
            f"{page.full_p95_ms / page.full_sql_p95_ms:.1f}x",
            f"p95 < {QUEUE_PAGE_TARGET_MS:g} ms",
            page.full_p95_ms < QUEUE_PAGE_TARGET_MS,
            missing=fallback,
        ),
        Row(
            f"Breach sweep, {due.due:,} of {due.open_timers:,} open timers due",
            f"{due.median_ms:.1f} ms (median of {len(due.seconds)}; {len(due.statements)} statements,"
            f" {due.escalated} emails)",
            f"{due.baseline_median_ms:.2f} ms (UPDATE ... RETURNING + INSERT)",
            f"{due.ratio:.1f}x",
            f"< {BREACH_SWEEP_TARGET_MS:g} ms",
            due.median_ms < BREACH_SWEEP_TARGET_MS,
        ),
        Row(
            f"Breach sweep, none of {idle.open_timers:,} due (the idle minute)",
            f"{idle.median_ms:.1f} ms (median of {len(idle.seconds)}; {len(idle.statements)} statements)",
            f"{idle.baseline_median_ms:.2f} ms (the same UPDATE + INSERT, 0 rows)",
            f"{idle.ratio:.1f}x",
            f"< {BREACH_SWEEP_TARGET_MS:g} ms",
            idle.median_ms < BREACH_SWEEP_TARGET_MS,
        ),
    ]
    for r in q.routing:
        rows.append(
            Row(
                f"Routing {r.leads:,} fresh MQLs: {r.mode}",
                f"{r.leads_per_second:,.0f} leads/s ({r.seconds:.1f} s; {r.queries_per_batch} queries per batch)",
                f"{r.baseline_leads_per_second:,.0f} leads/s (1 statement per batch of {r.batch})",
                f"{r.ratio:.3f}x",
                "— (none set)",
                None,
            )
        )
    return rows


def _times(name: str, ms: list[float], *, digits: int = 1) -> tuple[str, ...]:
    """A row of p50, p95 and max ms."""
    return (name, *(f"{v:.{digits}f}" for v in (percentile(ms, 50), percentile(ms, 95), max(ms))))


def section(q: QueuesFigures) -> Section:
    d, page, due, idle = q.data, q.page, q.sweep_due, q.sweep_idle
    c = d.counts
    page_times = Table(
        ("", "p50 ms", "p95 ms", "max ms"),
        [
            _times(
                f"server time per request (measured; {page.items_per_page:.0f} items on average)", page.ms
            ),
            _times("`queue_for()` evaluated alone (ORM, no template)", page.orm_ms),
            _times("baseline: its 2 statements via a cursor", page.sql_ms, digits=2),
            _times(
                f"full queue ({page.full_items} items, {len(page.full_ms)} requests by {FULL_QUEUE_REPS} SDRs): measured",
                page.full_ms,
            ),
            _times(
                "full queue: baseline, its 2 statements via a cursor",
                page.full_sql_ms,
                digits=2,
            ),
        ],
    )
    sweeps = Table(
        (
            "due",
            "runs ms",
            "median ms",
            "baseline runs ms",
            "baseline ms",
            "ratio",
            "breached / emailed / reassigned",
        ),
        [
            (
                f"{case.due:,}",
                ms_list([s * 1000 for s in case.seconds]),
                f"{case.median_ms:.1f}",
                ms_list([s * 1000 for s in case.baseline_seconds]),
                f"{case.baseline_median_ms:.2f}",
                f"{case.ratio:.1f}x",
                f"{case.breached} / {case.escalated} / {case.reassigned}",
            )
            for case in (due, idle)
        ],
    )
    routing = Table(
        (
            "mode",
            "leads",
            "seconds",
            "leads/s",
            "baseline s",
            "baseline leads/s",
            "ratio",
            "one batch traced: statements, time; the costliest by execute() time",
        ),
        [
            (
                r.mode,
                f"{r.leads:,}",
                f"{r.seconds:.2f}",
                f"{r.leads_per_second:,.0f}",
                f"{r.baseline_seconds:.2f}",
                f"{r.baseline_leads_per_second:,.0f}",
                f"{r.ratio:.3f}x",
                f"{r.queries_per_batch} in {r.traced_batch_ms:.0f} ms: "
                + ", ".join(
                    f"{kind} {n}x {ms:.1f} ms"
                    for kind, n, ms in kinds_by_time(r.statement_kinds)
                    if ms >= 1 or n > 1
                ),
            )
            for r in q.routing
        ],
    )
    plans: list[Block] = []
    for name, plan in q.plans.items():
        plans += [Paragraph(f"{name}:"), Code([plan])]
    plans += [Paragraph(f"**{problem}.**") for problem in missing_indexes(q.plans)]
    return (
        Section(
            "4. SDR queues, routing and SLA timers",
            [
                Paragraph(
                    f"Generated in SQL in {d.generate_seconds:.1f} s (`INSERT ... SELECT FROM generate_series`, then",
                    f"`VACUUM ANALYZE`): {c['leads']:,} leads; 8 inbound teams of 25 SDRs (capacity {REP_CAPACITY} open leads)",
                    "with a manager each, business calendars Mon-Fri 9-17 in 8 time zones (Berlin, London, New York,",
                    "Chicago, São Paulo, Madrid, Singapore, UTC) and 9 territory rules (countries, an industry rule, an",
                    "employee band, a catch-all). Each SDR holds 50 MQLs with an open first-touch timer (10% hand-raisers",
                    f"under the 15-minute policy), 150 working leads and ~800 closed ones: {c['open_timers']:,} open timers,",
                    f"{c['open_follow_ups']:,} open follow-ups (untimed), {c['work_items']:,} work items in all (done",
                    f"first-touch items for every worked lead, a fifth late), {c['breaches']:,} breaches of history,",
                    f"{c['activities']:,} activities (web activity, touches), {c['events']:,} lead events.",
                    f"At the sweep instant {d.sweep_at:%Y-%m-%d %H:%M:%S} UTC exactly {c['due_at_sweep']:,} open timers are past",
                    "due (within the 50 minutes before it); the others fall due over the next three days.",
                ),
            ],
        )
        .sub(
            "Queue page",
            Paragraph(
                f"Measured: {page.measured}; {page.requests} requests, each as one of {page.reps} SDRs in a shuffled",
                f"order after {QUEUE_WARMUP} warm-up requests; {page.items_per_page:.0f} items per queue on average. Time is",
                "wall-clock around the request in process (no network, no gunicorn). Queries are counted with",
                f"`CaptureQueriesContext` on {len(page.queries)} requests: {span(page.queries)} per request,",
                f"{span(page.queue_queries)} of them for the queue itself. The baseline runs the queue's",
                "two statements (work items with their lead join and last-touch subqueries, then the leads)",
                "exactly as the ORM compiles them, through a cursor, for the same reps. The longest page is",
                f"measured too: {FULL_QUEUE_REPS} SDRs are given a follow-up on each of their working leads, so",
                f"that their queues hold {page.full_items} items (the page shows at most that many), and requested",
                f"{len(page.full_ms)} times in turn; the follow-ups are deleted afterwards.",
            ),
            page_times,
            Paragraph("The statements of one request:"),
            Code(page.statements),
        )
        .sub(
            "Breach sweep",
            Paragraph(
                "`work.services.sweep_breaches(now=T)` in process, with the locmem email backend: it marks the",
                "due timers and inserts their breaches (one statement), emails each breach to its team's manager",
                "and looks for items to reassign (none: the first-touch policies do not reassign). Before every",
                "run (untimed) the breaches it created are deleted and `breached_at` cleared, then `VACUUM",
                "ANALYZE`. Each run must breach and escalate exactly the due timers (checked). The idle case",
                "sweeps two hours before T, when nothing is due. The baseline is one `UPDATE work_workitem ...",
                "RETURNING` feeding an `INSERT INTO work_breach` of the same rows (no emails).",
            ),
            sweeps,
            Paragraph(
                "The statements of one traced sweep with 1% due (ms each `execute()` took, a round trip; the",
                "rest of the sweep's time is BEGIN/COMMIT, not shown, and Python: loading the breaches and",
                "building and sending the emails):",
            ),
            Code([f"{ms:7.2f}  {sql}" for sql, ms in due.statements]),
        )
        .sub(
            "Routing",
            Paragraph(
                "Fresh MQLs (no owner, no team) are inserted in SQL and routed twice, the state put back between",
                "(untimed): by `route_leads(lead_ids=...)` in batches of 200, as capture hands them over, and by",
                "the routing sweep `route_waiting_leads()` (batches of 500). Every lead must be assigned (checked).",
                "The baseline routes the same batches with one statement each: the team by the same territory",
                "rules (first match by position, JSON conditions), owners dealt round-robin with `row_number()`,",
                "the leads updated, a routed event and an open first-touch item inserted. It skips capacity and",
                "away checks and counts due times on the wall clock, not in business calendars. One batch of",
                "each mode's size is also routed by `route_leads` traced (untimed figure, put back): its",
                "statements by kind, with the time their `execute()` calls took.",
            ),
            routing,
        )
        .sub(
            "Plans",
            Paragraph(
                "`EXPLAIN (ANALYZE, BUFFERS)` once each: the sweep's marking statement as the service sends it",
                "(in a transaction rolled back), one SDR's queue query, and routing's rep-load query.",
            ),
            *plans,
        )
    )
