"""Figure 10: global search, the dropdown at a million leads."""

from ..mdwriter import Block, Code, Paragraph, Section, Table, span
from ..search import SearchFigures, missing_indexes
from .summary import Row
from .targets import SEARCH_TARGET_MS


def rows(s: SearchFigures) -> list[Row]:
    rows = []
    for who in ("SDR", "manager"):
        cases = [case for case in s.cases if case.who == who]
        worst = max(cases, key=lambda case: case.p95_ms)
        p95 = max(case.p95_ms for case in cases)
        rows.append(
            Row(
                f"Search dropdown `/search/?q=` (htmx), {s.leads:,} leads, an {who}, {len(cases)} typical queries",
                f"p95 {p95:.1f} ms (worst: {worst.what}); {span([c.queries for c in cases])} queries/request",
                f"p95 {max(case.sql_p95_ms for case in cases):.2f} ms (the leads' trigram lookup via a cursor)",
                f"{p95 / max(max(case.sql_p95_ms for case in cases), 0.01):.1f}x",
                f"p95 < {SEARCH_TARGET_MS:g} ms",
                p95 < SEARCH_TARGET_MS,
            )
        )
    return rows


def section(s: SearchFigures) -> Section:
    table = Table(
        ("who", "query", "typed", "p50 ms", "p95 ms", "queries", "hits", "first hit", "bare SQL p95 ms"),
        [
            (c.who, c.what, f"`{c.query}`", f"{c.p50_ms:.1f}", f"{c.p95_ms:.1f}", str(c.queries), str(c.hits),
             c.first_hit, f"{c.sql_p95_ms:.2f}")
            for c in s.cases
        ],
    )  # fmt: skip
    blocks: list[Block] = [
        Paragraph(
            f"The queues and opportunities data sets ({s.leads:,} leads, {s.opportunities:,} opportunities with their"
            f" accounts and contacts), generated in {s.generate_seconds:.1f} s; the leads then given realistic names"
            f" (200 first names, ~5,000 leads each), 20,000 companies and phones written three ways in"
            f" {s.names_seconds:.1f} s; the GIN trigram indexes built in {s.index_seconds:.1f} s"
            f" ({', '.join(f'{name} {size}' for name, size in s.index_sizes.items())}).",
            f"Each case is the dropdown's request (`GET /search/?q=` with `HX-Request`, through the test client with"
            f" the middleware and the template: the server's time), {s.requests} times, all cases shuffled together;"
            " the baseline is the leads' part of the same search written by hand (the same expression, index and"
            " ranking) through a cursor. The other kinds (contacts, accounts, opportunities, contracts) are in the"
            " measured time, not in the baseline.",
        ),
        table,
    ]
    problems = missing_indexes(s)
    if problems:
        blocks.append(Paragraph("Plans without an index: " + "; ".join(problems)))
    for case in s.cases:
        blocks.append(Paragraph(f"Plan of the bare lookup: {case.who}, {case.what}:"))
        blocks.append(Code(case.plan.splitlines()))
    return Section("Global search (`--only search`)", blocks)
