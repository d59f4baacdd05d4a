"""Figure 7: insight (issue 12), the lead-fact rollup and the insight pages."""

import statistics

from ..insight import InsightFigures
from ..insight.baseline import STAGE_KEYS
from ..insight.data import ZONE
from ..insight.pages import (
    COMPUTED_REQUESTS,
    FILTERS,
    PAGE_TARGET_MS,
    PAGE_WARMUP,
    PERIODS,
    SLOW_CASE_MS,
    SLOW_CASE_REQUESTS,
)
from ..mdwriter import Block, Bullets, Code, Heading, Paragraph, Section, Table, Wrapped, counts, met, span
from ..timing import percentile
from .summary import Row, not_measured


def rows(n: InsightFigures) -> list[Row]:
    d, f = n.data, n.facts
    base = f"p95 {n.baseline_p95_ms:.1f} ms at worst (one GROUP BY over the raw rows)"
    rows = []
    if f.available:
        rows.append(
            Row(
                f"Lead facts: rebuild() over {d.counts['leads']:,} leads",
                f"{f.rebuild_seconds:,.1f} s ({f.facts:,} facts)",
                "—",
                "—",
                "— (none set; a nightly job)",
                None,
            )
        )
        for r in f.after_writes:
            rows.append(
                Row(
                    f"Lead facts: refresh() after {r.writes:,} log_touch writes",
                    f"{r.ms:,.0f} ms, {r.ms_per_lead:.2f} ms per changed lead",
                    f"idle refresh {min(i.ms for i in f.idle):.1f} ms",
                    "—",
                    "— (none set)",
                    None,
                )
            )
        rows.append(
            Row(
                "Lead facts: extra cost on each write (log_touch)",
                f"{max(f.write_insight_statements)} statements on insight tables of"
                f" {statistics.median(f.write_statements):.0f}; the facts follow by the sweep",
                "—",
                "—",
                "0 extra statements",
                max(f.write_insight_statements) == 0,
            )
        )
    else:
        rows.append(not_measured("Lead facts: rebuild() and refresh()", f.note))
    for page in n.pages:
        if not page.measured:
            rows.append(not_measured(f"Insight page `{page.url}`", page.note, base))
            continue
        worst = page.worst
        empty = "" if f.available else " (ON AN EMPTY FACT TABLE: the rollup failed; not a valid figure)"
        rows.append(
            Row(
                f"Insight page `{page.url}`, {d.counts['leads']:,} leads, periods 7 to 365 d x every filter"
                f" ({len(page.cases)} cases){empty}",
                f"served p95 {page.p95_ms:.1f} ms at worst ({worst.days} d, {worst.filter or 'no filter'});"
                f" computed (answers forgotten) p95 {page.computed_p95_ms:.1f} ms at worst ({page.slowest});"
                f" {max(c.computed_queries for c in page.cases)} queries/request at most",
                base,
                f"{page.p95_ms / n.baseline_p95_ms:.2f}x",
                f"p95 < {PAGE_TARGET_MS:g} ms",
                f.available and page.p95_ms < PAGE_TARGET_MS,
                missing=not f.available,
            )
        )
    return rows


def _rollup(n: InsightFigures) -> list:
    f = n.facts
    if not f.available:
        return [Paragraph(f"Not measured: {f.note}.")]
    runs = Table(
        ("run", "changed leads", "ms", "returned", "ms per changed lead"),
        [
            ("rebuild(): every lead", "—", f"{f.rebuild_seconds * 1000:,.0f}", f"{f.rebuilt:,}", "—"),
            *[("refresh(), nothing changed", "0", f"{r.ms:.1f}", f"{r.refreshed:,}", "—") for r in f.idle],
            *[
                (
                    "refresh() after log_touch writes",
                    f"{r.writes:,}",
                    f"{r.ms:,.1f}",
                    f"{r.refreshed:,}",
                    f"{r.ms_per_lead:.2f}",
                )
                for r in f.after_writes
            ],
        ],
    )
    return [
        runs,
        Wrapped(
            f"The writes: `sdr.services.log_touch` by the lead's SDR, half first touches on open MQLs (the"
            f" lead moves to working), half further touches on working leads; {len(f.write_ms):,} in all,"
            f" median {statistics.median(f.write_ms):.1f} ms, p95 {percentile(f.write_ms, 95):.1f} ms,"
            f" {span(f.write_statements)} statements each, of which {span(f.write_insight_statements)}"
            " on an `insight_` table: the write path pays nothing for the rollup; the facts follow"
            " within the refresh sweep's period, at the cost per changed lead above."
        ),
        Paragraph("One more `refresh()` with nothing changed, traced: its statements, slowest first (ms):"),
        Code([f"{ms:9.2f}  {sql}" for sql, ms in f.idle_statements[:8]]),
        Paragraph("`EXPLAIN (ANALYZE, BUFFERS)` of the slowest (in a transaction rolled back):"),
        Code([f.idle_plan or "(none)"]),
    ]


def _page(n: InsightFigures, page) -> list[Block]:
    blocks: list[Block] = [Heading(4, f"`{page.url}` ({page.name})")]
    if not page.measured:
        return [*blocks, Paragraph(f"Not measured: {page.note}.")]
    baseline = {(b.days, b.filter): b for b in n.baseline}
    rows = []
    for c in page.cases:
        b = baseline[(c.days, c.filter)]
        rows.append(
            (
                f"{c.days} d",
                (c.filter or "none") + (" (page unchanged)" if c.same_as_unfiltered else ""),
                str(len(c.ms)),
                f"{c.p50_ms:.1f}",
                f"{c.p95_ms:.1f}",
                f"{c.computed_p50_ms:.1f}",
                f"{c.computed_p95_ms:.1f}",
                str(c.computed_queries),
                f"{b.p50_ms:.1f}",
                f"{b.p95_ms:.1f}",
                met(c.p95_ms < PAGE_TARGET_MS),
            )
        )
    blocks += [
        Table(
            (
                "period",
                "filter",
                "requests",
                "served p50",
                "served p95",
                "computed p50",
                "computed p95",
                "queries",
                "baseline p50",
                "baseline p95",
                "served p95 < target",
            ),
            rows,
        ),
        Paragraph(
            f"The slowest case ({page.slowest}): `EXPLAIN (ANALYZE, BUFFERS)` of its"
            f" {len(page.plans)} slowest statements on large tables, and the indexes each uses."
        ),
        Bullets(page.problems, "Problems:")
        if page.problems
        else Paragraph("No sequential scan of a large table."),
    ]
    for key, plan in page.plans.items():
        used = ", ".join(page.indexes[key]) or "none"
        blocks += [Paragraph(f"Statement {key} (indexes: {used}):"), Code([plan])]
    return blocks


def _baseline_numbers(n: InsightFigures) -> Table:
    rows = []
    for b in n.baseline:
        numbers = b.numbers
        agrees = {None: "—", True: "yes", False: "**NO**"}[b.agrees]
        if b.insight is not None and b.agrees is False:
            agrees += " (insight: " + ", ".join(f"{b.insight.get(k)}" for k in STAGE_KEYS) + ")"
        response = numbers.get("median_response_s")
        rows.append(
            (
                f"{b.days} d",
                b.filter or "none",
                *(f"{numbers[k]:,}" for k in STAGE_KEYS),
                f"{float(response) / 60:.0f} min" if response is not None else "—",
                agrees,
            )
        )
    return Table(("period", "filter", *STAGE_KEYS, "median to first touch", "insight agrees"), rows)


def section(n: InsightFigures) -> Section:
    d = n.data
    out = Section(
        "Insight (issue 12): the lead-fact rollup and the insight pages at a million leads",
        [
            Wrapped(
                f"The data set, generated in SQL in {d.generate_seconds:,.0f} s: {counts(d.counts)}."
                f" {d.base_leads:,} leads from the queues generator (200 SDRs in 8 teams), the others with a"
                " new-business opportunity from the opportunities generator (4 AE teams); 50 campaigns over 6"
                " channels with costs and run dates; every lead's captured and status events, touches 0 to 5"
                " hours after the MQL, a contract per won opportunity (renewed, expanded or churned after a"
                " year) with an AM team. Leads spread over two years."
            ),
        ],
    )
    out.sub("The rollup and what it costs each write", *_rollup(n))
    out.sub(
        "The insight pages",
        Wrapped(
            f"`GET` through the test `Client` in process, logged in as a manager (sees every lead; team calendar"
            f" {ZONE}, so periods are cut there), for the last {', '.join(map(str, PERIODS))} days"
            f" ({n.period_query}), each with no filter and each single filter ({', '.join(FILTERS)};"
            f" the value selecting the most leads: {', '.join(f'{k}={v}' for k, v in d.filter_values.items())})."
            f" Per case {PAGE_WARMUP} warm-up requests, then {n.requests} timed (a case whose first"
            f" request took over {SLOW_CASE_MS:,.0f} ms: 1 warm-up and {SLOW_CASE_REQUESTS} timed, its"
            " p95 their maximum). Baseline: the cohort's"
            " stage counts and median capture-to-first-touch by one `GROUP BY` over `leads_lead` joined to its"
            " touches (`leads_activity`) and opportunities, through a cursor, the same number of times. A"
            " filter whose page is byte-identical to the unfiltered page is marked (it may be ignored)."
            " *Served*: the timed requests after the warm-up, the statements over the facts answered from"
            " `insight.answers` (remembered for the facts' generation; the refresh task answers the recent"
            f" ones again after a change). *Computed*: {COMPUTED_REQUESTS} more requests (1 for a slow"
            " case), the remembered answers forgotten before each: a question asked for the first time since"
            " the facts changed and not re-warmed. The queries column counts a computed request. Times in ms."
        ),
    )
    if r := n.rewarm:
        out.add(
            Wrapped(
                f"Re-warm: after the page loop {r.asked:,} statements were on the re-warm list; {r.writes:,}"
                f" `log_touch` writes and a `refresh()` ({r.refresh_ms:,.0f} ms) made a new generation, and"
                f" `insight.answers.rewarm()` (no time budget) answered {r.computed:,} of them again in"
                f" {r.seconds:,.1f} s. Every page's 365-day cases afterwards, one request each: p95"
                f" {r.answered_p95_ms:.1f} ms."
            )
        )
    for page in n.pages:
        out.add(*_page(n, page))
    return out.sub(
        "The baseline's numbers",
        Wrapped(
            "The cohort (leads captured in the period) by the raw `GROUP BY`; the last column says whether"
            " `insight.funnel.cohort()` counts the same at each stage (— where it is not there yet)."
        ),
        _baseline_numbers(n),
        level=4,
    )
