"""Figure 2: CSV import."""

from ..csv_import import ImportFigures
from ..mdwriter import Paragraph, Section, Table, mib
from .summary import Row
from .targets import IMPORT_TARGET, flat


def rows(i: ImportFigures) -> list[Row]:
    small, large = i.small, i.large
    return [
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
        ],
    )
