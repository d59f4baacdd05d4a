"""Figure 3: the engagement threshold sweep."""

from ..mdwriter import Block, Code, Paragraph, Section, Table, mib
from ..sweep import SweepFigures
from .summary import Row
from .targets import SWEEP_TARGET, flat

# The partial index made for each claiming query.
PARTIAL_INDEX = {"promotion": "lead_promotion_candidates", "cooling": "lead_cooling_candidates"}


def rows(s: SweepFigures) -> list[Row]:
    large = s.large
    # Memory against table size: the same crossing leads in a 10x larger table.
    small, same = s.small, s.same_crossings
    small_rss, same_rss = max(small.rss_growth_kib), max(same.rss_growth_kib)
    return [
        Row(
            f"Threshold sweep, {large.leads:,} leads, 1% crossing",
            f"{large.median_seconds * 1000:,.0f} ms (median of {len(large.seconds)})",
            f"{s.update_seconds * 1000:,.0f} ms (UPDATE every lead)",
            f"{large.median_seconds / s.update_seconds:.3f}x",
            f"< {SWEEP_TARGET:g} s",
            large.median_seconds < SWEEP_TARGET,
        ),
        Row(
            f"Threshold sweep peak memory, {small.moved:,} leads moved in {small.leads:,} → {same.leads:,}",
            f"tracemalloc {mib(small.tracemalloc_peak_kib)} → {mib(same.tracemalloc_peak_kib)};"
            f" RSS +{mib(small_rss)} → +{mib(same_rss)} (1% of {large.leads:,}, {large.moved:,} moved:"
            f" tracemalloc {mib(large.tracemalloc_peak_kib)}, RSS +{mib(max(large.rss_growth_kib))})",
            "—",
            f"{same.tracemalloc_peak_kib / max(small.tracemalloc_peak_kib, 1):.2f}x for"
            f" {same.leads // small.leads}x leads",
            "flat",
            flat(small.tracemalloc_peak_kib, same.tracemalloc_peak_kib) and flat(small_rss, same_rss),
        ),
    ]


def section(s: SweepFigures) -> Section:
    small, large, same = s.small, s.large, s.same_crossings
    runs = Table(
        (
            "leads",
            "crossing",
            "promoted + cooled",
            "runs ms",
            "median ms",
            "RSS growth (max)",
            "tracemalloc peak",
        ),
        [
            (
                f"{r.leads:,}",
                crossing,
                f"{r.expected_promoted:,} + {r.expected_cooled:,}",
                ", ".join(f"{t * 1000:,.0f}" for t in r.seconds),
                f"{r.median_seconds * 1000:,.0f}",
                mib(max(r.rss_growth_kib)),
                mib(r.tracemalloc_peak_kib),
            )
            for r, crossing in ((small, "1%"), (large, "1%"), (same, f"the {small.leads:,} set's"))
        ],
    )
    plans: list[Block] = []
    for name, plan in large.plans.items():
        plans += [
            Paragraph(f"{name.capitalize()} candidates ({large.leads:,} leads, 1% crossing):"),
            Code([plan]),
        ]
    # Say so when a claiming query does not use the partial index made for it.
    missed = [name for name, plan in large.plans.items() if PARTIAL_INDEX.get(name, name) not in plan]
    if missed:
        one = len(missed) == 1
        plans.append(
            Paragraph(
                f"The {' and '.join(missed)} {'claim does' if one else 'claims do'} not use"
                f" {'its partial index' if one else 'their partial indexes'} here: the planner"
                " estimates the candidates from whole-table statistics (where many worked and closed leads"
                " have high engagement and many nurture leads none), expects far more candidates than"
                " cross, and picks a path that visits more rows than the crossing ones."
            )
        )
    plans.append(
        Paragraph(
            f"Moving the same {small.moved:,} leads took {small.median_seconds * 1000:,.0f} ms in {small.leads:,}"
            f" leads and {same.median_seconds * 1000:,.0f} ms in {same.leads:,}"
            f" ({same.median_seconds / small.median_seconds:.1f}x for {same.leads // small.leads}x the table)."
        )
    )
    return Section(
        "3. Engagement threshold sweep",
        [
            Paragraph(
                "Leads are generated with one `INSERT ... SELECT FROM generate_series` (all columns filled as",
                "the application fills them; keys from `leads.scoring` with the default scoring settings:",
                "half-life 14 days, MQL threshold 40, cold threshold 10), then `VACUUM ANALYZE`. 1% cross:",
                "0.5% are nurture leads at 50 points today (promoted to MQL), 0.5% unowned, non-hand-raiser",
                "MQLs at 5 points today (cooled to nurture). Every other lead is well inside its band. Status",
                "mix: 60% nurture, 2% recycled, 10% MQL (half owned), 10% working, 5% handed off, 3% won, 4%",
                "lost, 6% disqualified.",
            ),
            Paragraph(
                "`leads.services.sweep_engagement_thresholds()` runs in a fresh process, timed (three times,",
                "the median is the figure) and once traced; between runs the crossing leads are put back and",
                "their events deleted, then `VACUUM ANALYZE`, so each run sweeps a fresh copy. Each run must",
                "move exactly the crossing leads (checked). The baseline, `UPDATE leads_lead SET updated_at =",
                "now()`, touches every lead once, as a decay job that rewrote every score would on every run;",
                "it is timed once, after the sweeps.",
            ),
            Paragraph(
                "With 1% crossing, a 10x larger table also means 10x more leads to move. To see the effect",
                f"of the table's size alone, the last row keeps the {large.leads:,} leads but moves all but",
                f"the {small.leads:,} set's crossing leads back inside their bands (20 points today): the",
                "same work in a 10x larger table. The memory figure compares that row with the first.",
            ),
            runs,
            Paragraph(
                f"Generating the leads took {small.generate_seconds:.1f} s ({small.leads:,}) and"
                f" {large.generate_seconds:.1f} s ({large.leads:,}). Baseline: `UPDATE` of all"
                f" {large.leads:,} leads took {s.update_seconds:.2f} s."
            ),
            Paragraph(
                "The plans PostgreSQL chose for the statements that claim the candidates, just before the",
                "first timed run (captured from a sweep run in a transaction that was rolled back, then",
                "EXPLAINed; the service sends the claim, the move and the events as one statement):",
            ),
            *plans,
        ],
    )
