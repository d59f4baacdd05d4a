"""Figure 2: CSV import."""

from ..csv_import import ImportFigures
from ..mdwriter import Paragraph, Section, Table, mib
from .summary import Row
from .targets import IMPORT_TARGET, flat

MERGE_TARGET = IMPORT_TARGET  # rows/s: issue 16 holds the merge to the same 5,000


def merge_rows(i: ImportFigures) -> list[Row]:
    m = i.merge
    if m is None:
        return []
    return [
        Row(
            f"CSV import, {m.rows:,} rows with a mapping and fill-blanks into {m.existing:,} leads",
            f"{m.rows_per_second:,.0f} rows/s ({m.seconds:.1f} s)",
            f"{m.baseline_rows_per_second:,.0f} rows/s ({m.baseline_seconds:.2f} s, bare SQL)",
            f"{m.rows_per_second / m.baseline_rows_per_second:.3f}x",
            f"≥ {MERGE_TARGET:,} rows/s",
            m.rows_per_second >= MERGE_TARGET,
        )
    ]


def rows(i: ImportFigures) -> list[Row]:
    small, large = i.small, i.large
    return [
        *merge_rows(i),
        Row(
            f"CSV import, {large.rows:,} rows (run_import)",
            f"{large.rows_per_second:,.0f} rows/s ({large.seconds:.1f} s)",
            f"{i.copy_rows_per_second:,.0f} rows/s ({i.copy_seconds:.2f} s, COPY)",
            f"{large.rows_per_second / i.copy_rows_per_second:.3f}x",
            f"≥ {IMPORT_TARGET:,} rows/s",
            large.rows_per_second >= IMPORT_TARGET,
        ),
        Row(
            f"CSV import peak memory, {small.rows:,} → {large.rows:,} rows",
            f"tracemalloc {mib(small.tracemalloc_peak_kib)} → {mib(large.tracemalloc_peak_kib)};"
            f" RSS +{mib(small.rss_growth_kib)} → +{mib(large.rss_growth_kib)}",
            "—",
            f"{large.tracemalloc_peak_kib / max(small.tracemalloc_peak_kib, 1):.2f}x for"
            f" {large.rows // small.rows}x rows",
            "flat",
            flat(small.tracemalloc_peak_kib, large.tracemalloc_peak_kib)
            and flat(small.rss_growth_kib, large.rss_growth_kib),
        ),
    ]


def section(i: ImportFigures) -> Section:
    runs = Table(
        ("rows", "seconds", "rows/s", "created", "seen again", "refused", "RSS growth", "tracemalloc peak"),
        [
            (
                f"{r.rows:,}",
                f"{r.seconds:.2f}",
                f"{r.rows_per_second:,.0f}",
                f"{r.created:,}",
                f"{r.existing:,}",
                f"{r.refused:,}",
                mib(r.rss_growth_kib),
                mib(r.tracemalloc_peak_kib),
            )
            for r in (i.small, i.large)
        ],
    )
    return Section(
        "2. CSV import",
        [
            Paragraph(
                "The file repeats the sample Salesforce export (`tests/data/crm_exports/salesforce_leads_export.csv`,",
                "2,000 rows) with `r<copy>.` in front of each email's local part: copies do not collide, and",
                "each copy keeps the sample's mess (2.4% of rows refused for a missing or invalid email or an",
                "oversized field, 4% repeats of a person within the copy, non-ASCII names, ranges, currencies,",
                f"country spellings). {i.large.rows:,} rows are {i.file_bytes / 2**20:.1f} MiB.",
            ),
            Paragraph(
                "`leads.services.run_import(job_id=...)` runs in a fresh process on an `ImportJob` whose file",
                "was saved to `MEDIA_ROOT`, into an empty leads table; rows/s counts every data row of the file",
                "(refused ones included) over the whole call. The baseline streams the same file into a",
                "scratch table of 15 text columns with `COPY ... FROM STDIN (FORMAT csv)` through psycopg's",
                "`cursor.copy()` (median of 3): storing the rows with no cleaning, scoring, dedupe or events.",
            ),
            Paragraph(
                "Memory is measured twice per size, each in a fresh process after libraries are loaded: how",
                "far the resident set peaked above its starting size in the timed run (the kernel's `VmHWM`,",
                "reset just before the work), and the `tracemalloc` peak of Python allocations in a second,",
                "traced run (whose time is not reported).",
            ),
            runs,
            *merge_section(i),
        ],
    )


def merge_section(i: ImportFigures) -> list:
    m = i.merge
    if m is None:
        return []
    return [
        Paragraph(
            f"The merge: the {m.rows:,}-row file again, its mapping confirmed (`ImportJob.mapping`) and the",
            f"fill-blanks policy, into {m.existing:,} leads of which {m.known_people:,} (every other person of",
            "the file) are already leads with blank details to fill: per batch of 1,000 one lookup by",
            "email and one by source id, `bulk_create` of the new, `bulk_update` of the changed fields only,",
            "links and timeline lines. The baseline is bare SQL doing the same merge on the same table:",
            "`COPY` of the file as text, each person's first row, one `UPDATE` filling the blank fields",
            "of the known and one `INSERT` of the others (no cleaning, scoring, links or timeline).",
        ),
        Table(
            (
                "rows",
                "existing leads",
                "seconds",
                "rows/s",
                "created",
                "known",
                "updated",
                "unchanged",
                "refused",
            ),
            [
                (
                    f"{m.rows:,}",
                    f"{m.existing:,}",
                    f"{m.seconds:.2f}",
                    f"{m.rows_per_second:,.0f}",
                    f"{m.created:,}",
                    f"{m.matched:,}",
                    f"{m.updated:,}",
                    f"{m.unchanged:,}",
                    f"{m.refused:,}",
                )
            ],
        ),
    ]
