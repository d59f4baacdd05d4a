"""Figure 5: AE inbox, pipeline, handoff and accept."""

from ..mdwriter import Block, Bullets, Code, Paragraph, Section, Table, Wrapped, kinds_by_time, span
from ..opportunities import OpportunitiesFigures
from ..opportunities.data import AE_TEAMS, AES_PER_TEAM
from ..opportunities.handoffs import PARALLEL, TRACED_OPERATIONS
from ..opportunities.pages import PAGE_WARMUP, QUERY_COUNT_SAMPLE, SMALL_AE_REQUESTS, Page
from ..plans import SLOW_PLAN_MS
from ..timing import percentile
from .summary import Row, not_measured
from .targets import AE_PAGE_TARGET_MS


def _load(o: OpportunitiesFigures, which: str) -> str:
    load = o.data.loads[which]
    return f"{load['total']:,} opportunities ({load.get('handed_off', 0):,} awaiting acceptance, {load.get('open', 0):,} open)"


def rows(o: OpportunitiesFigures) -> list[Row]:
    rows = []
    big = o.data.loads["big"]
    for page in o.pages:
        what = f"AE {page.name} `{page.url}`, {o.data.opportunities:,} opportunities"
        if not page.measured:
            rows.append(not_measured(what, page.note))
            continue
        rows.append(
            Row(
                f"{what}, an AE with {big['total']:,} ({big.get('handed_off', 0)} awaiting)",
                f"p50 {page.p50_ms:.1f} ms, p95 {page.p95_ms:.1f} ms; {span(page.queries)} queries/request"
                f" ({span(page.small_queries)} for an AE with {o.data.loads['small']['total']})",
                f"p95 {page.sql_p95_ms:.2f} ms (its SELECTs via a cursor)",
                f"{page.p95_ms / page.sql_p95_ms:.1f}x",
                f"p95 < {AE_PAGE_TARGET_MS:g} ms; queries fixed",
                page.p95_ms < AE_PAGE_TARGET_MS and page.fixed_queries,
            )
        )
    for r in o.throughput:
        queries = f"; {span(r.queries)} queries each" if r.queries else ""
        rows.append(
            Row(
                f"{r.operation}, {r.mode} ({r.operations:,})",
                f"{r.per_second:,.1f}/s, median {r.median_ms:.1f} ms, p95 {r.p95_ms:.1f} ms{queries}",
                f"{r.baseline_per_second:,.0f}/s (1 statement each, one at a time)",
                f"{r.ratio:.3f}x",
                "— (none set)",
                None,
            )
        )
    return rows


def _page_rows(o: OpportunitiesFigures, page: Page) -> list[tuple[str, ...]]:
    big, small = _load(o, "big"), _load(o, "small")
    return [
        (
            f"{page.name}: measured, {len(page.ms)} requests by {len(o.data.big_aes)} AEs with ~{big}",
            f"{percentile(page.ms, 50):.1f}",
            f"{percentile(page.ms, 95):.1f}",
            f"{max(page.ms):.1f}",
            span(page.queries),
            f"{page.kib:,.0f}",
        ),
        (
            f"{page.name}: baseline, its {len(page.statements)} statements' SELECTs via a cursor",
            f"{page.sql_p50_ms:.2f}",
            f"{page.sql_p95_ms:.2f}",
            f"{max(page.sql_ms):.2f}",
            "",
            "",
        ),
        (
            f"{page.name}: measured, {len(page.small_ms)} requests by the AE with {small}",
            f"{percentile(page.small_ms, 50):.1f}",
            f"{percentile(page.small_ms, 95):.1f}",
            f"{max(page.small_ms):.1f}",
            span(page.small_queries),
            f"{page.small_kib:,.0f}",
        ),
    ]


def section(o: OpportunitiesFigures) -> Section:
    d, c = o.data, o.data.counts
    measured = [p for p in o.pages if p.measured]
    page_rows = [row for page in measured for row in _page_rows(o, page)]
    statements: list[Block] = []
    for page in measured:
        statements += [
            Paragraph(f"{page.name} (`{page.url}`), an AE with ~{_load(o, 'big')}:"),
            Code(page.statements),
        ]
        if page.small_statements and len(page.small_statements) != len(page.statements):
            statements += [Paragraph("the AE with a small load:"), Code(page.small_statements)]
    plans: list[Block] = []
    problems: list[str] = []
    for page in measured:
        for name, plan in page.plans.items():
            plans += [Paragraph(f"{page.name}, statement {name}:"), Code([plan])]
        problems += [f"{page.name}: {problem}." for problem in page.problems]
    throughput = Table(
        (
            "operation",
            "mode",
            "operations",
            "seconds",
            "per second",
            "median ms",
            "p95 ms",
            "queries each",
            "baseline per second",
            "ratio",
        ),
        [
            (
                r.operation,
                r.mode,
                f"{r.operations:,}",
                f"{r.seconds:.2f}",
                f"{r.per_second:,.1f}",
                f"{r.median_ms:.1f}",
                f"{r.p95_ms:.1f}",
                span(r.queries) if r.queries else "—",
                f"{r.baseline_per_second:,.0f}",
                f"{r.ratio:.3f}x",
            )
            for r in o.throughput
        ],
    )
    kinds: list[Block] = []
    for r in o.throughput:
        if r.statement_kinds:
            kinds += [
                Paragraph(
                    f"`{r.operation}`, the last traced call: {sum(n for n, _ in r.statement_kinds.values())} statements,"
                    f" {sum(ms for _, ms in r.statement_kinds.values()):.1f} ms of execute() time:"
                ),
                Code([f"{ms:7.2f} ms  {n}x {kind}" for kind, n, ms in kinds_by_time(r.statement_kinds)]),
            ]
    on = (
        "the queues figure's data set (above)"
        if d.reused_queues
        else f"the queues generator's data set ({d.base_leads:,} leads, 200 SDRs in 8 teams, made in"
        f" {d.queues_seconds:.1f} s)"
    )
    teams = next((r.teams for r in o.throughput if r.teams), {})
    spread = ", ".join(f"{name} {n:,}" for name, n in teams.items())
    verdict: Block
    if problems:
        verdict = Bullets(
            problems,
            f"What looks wrong (sequential scans of large tables, statements over {SLOW_PLAN_MS:g} ms):",
        )
    else:
        verdict = Paragraph(f"No sequential scan of a large table; no statement over {SLOW_PLAN_MS:g} ms.")
    return (
        Section(
            "5. AE inbox, pipeline, handoff and accept",
            [
                Wrapped(
                    f"Generated in SQL in {d.generate_seconds:.1f} s (`INSERT ... SELECT FROM generate_series`) on {on},"
                    f" then `VACUUM ANALYZE`: {len(AE_TEAMS)} AE teams (kind sales) of {AES_PER_TEAM} AEs with a manager,"
                    " business calendars (Mon-Fri 9-17) and territory rules (countries, an employee band, a catch-all);"
                    f" {c['accounts']:,} accounts; {c['opportunities']:,} opportunities, each with its own lead and contact"
                    f" ({c['leads']:,} leads in all): {c.get('handed_off', 0):,} awaiting acceptance (an open acceptance"
                    f" item each, a third of them past due), {c.get('rejected', 0):,} rejected, {c.get('open', 0):,} open"
                    f" across the four open stages, {c.get('won', 0):,} won, {c.get('lost', 0):,} lost"
                    f" ({c['early_losses']:,} early losses); {c['events']:,} opportunity events; {c['work_items']:,} work"
                    f" items in all ({c['accept_breaches']:,} acceptance breaches). {len(d.big_aes)} AEs hold"
                    f" ~{_load(o, 'big')} each; one new hire holds {_load(o, 'small')}. Amounts, close dates, next"
                    " steps, BANT notes, campaigns and the SDR credited are filled."
                ),
            ],
        )
        .sub(
            "Pages",
            Wrapped(
                "Each page is requested through the test `Client` in process, logged in (one client, like one"
                f" server process; no network, no gunicorn): {PAGE_WARMUP} warm-up requests, then the timed ones by"
                f" the {len(d.big_aes)} AEs in a shuffled order, then {SMALL_AE_REQUESTS} by the new hire. Queries"
                f" are counted with `CaptureQueriesContext` on {QUERY_COUNT_SAMPLE} of the AEs' requests and the new"
                " hire's: the count must be the same whatever the AE's book. The baseline runs the SELECTs each"
                " AE's request sent, as sent (Django binds parameters client-side; a server-side cursor's"
                " `DECLARE` as its SELECT), through a cursor, in the same order. Times in ms; the size of the"
                " response in KiB."
            ),
            Table(("", "p50 ms", "p95 ms", "max ms", "queries", "KiB"), page_rows) if page_rows else None,
            Bullets([f"`{p.url}` ({p.name}): not measured, {p.note}." for p in o.pages if not p.measured]),
            Paragraph("The statements of one request:"),
            *statements,
        )
        .sub(
            "Handoff and accept throughput",
            Wrapped(
                "`accounts.services.hand_off` on working leads of the queues data set, each by the SDR who owns"
                " it, with a qualification as the tests make it, the AE picked by the AE teams' territory rules"
                " and round-robin (the team's round-robin row stays locked until the handoff commits); then"
                " `accept_handoff` of each by its AE. Sequential: one at a time in this process, the first"
                f" {TRACED_OPERATIONS} of each counted with their statements (not timed)"
                + (f"; the handoffs went to {spread}" if spread else "")
                + f". Then {PARALLEL} worker processes at once (`python -m bench.opportunities`) on other leads,"
                " started together; the rate is over the wall time from the first start to the last end, on"
                " the machine's cores shared by the workers, their PostgreSQL backends and anything else"
                " running. Baseline: one statement per handoff (the lead, its contact at the account found by"
                " domain, the opportunity, its events, the lead's open items closed, the acceptance item; no"
                " territory rule, lock, cadence or calendar; AEs dealt in turn) and one per accept, through a"
                " cursor, one at a time on other leads, each its own transaction."
            ),
            throughput,
            *kinds,
        )
        .sub(
            "Plans",
            Wrapped(
                "`EXPLAIN (ANALYZE, BUFFERS)` of each page statement that reads a large table, as one AE with"
                f" ~{_load(o, 'big')} sent it."
            ),
            verdict,
            *plans,
        )
    )
