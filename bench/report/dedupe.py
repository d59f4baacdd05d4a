"""Figure ``dedupe``: the person duplicate finder over a million leads."""

from ..dedupe import EDITED, DedupeFigures
from ..mdwriter import Paragraph, Section, Table
from .summary import Row
from .targets import DEDUPE_TARGET_S


def rows(d: DedupeFigures) -> list[Row]:
    return [
        Row(
            f"Person duplicate finder over {d.leads:,} leads ({d.planted:,} planted duplicates)",
            f"{d.finder_median:.2f} s; {d.pairs:,} pairs, {d.groups} large groups; recall {d.recall:.1%},"
            f" precision {d.precision:.1%}; the page {d.page_cold_ms:.0f} ms, then {d.page_ms:.0f} ms cached,"
            f" {d.page_queries} queries",
            f"{d.bare_median:.2f} s (its statement bare); plain GROUP BY {d.baseline_median:.2f} s",
            f"{d.finder_median / max(d.bare_median, 0.001):.2f}x",
            f"< {DEDUPE_TARGET_S:g} s",
            d.finder_median < DEDUPE_TARGET_S and d.page_status == 200,
            missing=d.page_status != 200,
        )
    ]


def section(d: DedupeFigures) -> Section:
    table = Table(
        ("run", "finder s", "its grouping statement bare s", "plain GROUP BY s"),
        [
            (str(i + 1), f"{a:.2f}", f"{b:.2f}", f"{c:.2f}")
            for i, (a, b, c) in enumerate(
                zip(d.finder_seconds, d.bare_seconds, d.baseline_seconds, strict=True)
            )
        ],
    )
    return Section(
        "Duplicate people (`--only dedupe`)",
        [
            Paragraph(
                f"{d.leads - d.planted:,} generated leads and {d.planted:,} planted duplicates"
                f" ({', '.join(f'{k} {v:,}' for k, v in sorted(d.planted_by_rule.items()))}), generated in"
                f" {d.generate_seconds:.1f} s. Found {d.planted_found:,} of the planted pairs (recall"
                f" {d.recall:.1%}) among {d.pairs:,} pairs (precision {d.precision:.1%}: the others are generated"
                f" people sharing a name and a company or a domain by chance); {d.groups} group(s) too large to pair"
                " (the switchboard number).",
                f"The finder groups stored keys (`dedupe.keys`): their first build over every lead took"
                f" {d.build_seconds:.1f} s (the nightly rebuild's work); the refresh a run starts with took"
                f" {d.refresh_idle_seconds * 1000:.0f} ms with nothing written since the last one and"
                f" {d.refresh_edited_seconds * 1000:.0f} ms after {EDITED:,} leads were edited"
                f" ({d.refreshed_changed} keys changed).",
                f"The page `/duplicates/people/` as marketing: {d.page_cold_ms:.0f} ms refreshing the keys and"
                f" computing the pairs (page 1), {d.page_ms:.0f} ms and {d.page_queries} queries with the pairs"
                " cached (page 2).",
            ),
            table,
        ],
    )
