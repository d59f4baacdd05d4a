"""Figure: the lead export, streamed through the view, beside ``COPY ... TO STDOUT``."""

from ..export import ExportFigures
from ..mdwriter import Paragraph, Section, Table, mib
from .summary import Row
from .targets import flat


def rows(e: ExportFigures) -> list[Row]:
    small, large = e.small, e.large
    return [
        Row(
            f"Lead CSV export through the view, {large.leads:,} leads",
            f"{large.rows_per_second:,.0f} rows/s ({large.seconds:.1f} s, {large.megabytes:,.0f} MB)",
            f"{large.copy_rows_per_second:,.0f} rows/s (COPY TO STDOUT)",
            f"{large.rows_per_second / large.copy_rows_per_second:.2f}x",
            "—",
            None,
        ),
        Row(
            f"Lead CSV export peak memory, {small.leads:,} → {large.leads:,} leads",
            f"tracemalloc {mib(small.tracemalloc_peak_kib)} → {mib(large.tracemalloc_peak_kib)};"
            f" RSS +{mib(small.rss_growth_kib)} → +{mib(large.rss_growth_kib)}",
            "—",
            f"{large.tracemalloc_peak_kib / max(small.tracemalloc_peak_kib, 1):.2f}x for"
            f" {large.leads // small.leads}x rows",
            "flat",
            flat(small.tracemalloc_peak_kib, large.tracemalloc_peak_kib)
            and flat(small.rss_growth_kib, large.rss_growth_kib),
        ),
    ]


def section(e: ExportFigures) -> Section:
    table = Table(
        ("leads", "rows/s", "seconds", "MB", "RSS growth", "tracemalloc peak", "COPY rows/s", "COPY seconds"),
        [
            (
                f"{r.leads:,}",
                f"{r.rows_per_second:,.0f}",
                f"{r.seconds:.1f}",
                f"{r.megabytes:,.0f}",
                mib(r.rss_growth_kib),
                mib(r.tracemalloc_peak_kib),
                f"{r.copy_rows_per_second:,.0f}",
                f"{r.copy_seconds:.1f}",
            )
            for r in (e.small, e.large)
        ],
    )
    return Section(
        "Lead CSV export",
        [
            Paragraph(
                "`GET /leads/export/` (`kit.exporting`: 32 columns, the campaign, owner and team joined, read",
                "with `values_list(...).iterator(chunk_size=2000)`, a server-side cursor, and written through",
                "`kit.csvfiles.csv_lines`, every cell formula-safe) as a marketing user, who sees every lead, on",
                "the sweep figure's generated leads. Each export runs in a fresh process (`bench.worker export`):",
                "Django's test client sends the request through the whole middleware stack and the client reads",
                "the streamed file to its end, counting and dropping the chunks; timed once, then once traced",
                "(tracemalloc). The baseline is the statement the view sends, as `COPY (...) TO STDOUT WITH CSV`,",
                "read to its end by psycopg in the bench's process.",
            ),
            table,
            Paragraph(
                f"Generating the leads took {e.small.generate_seconds:.1f} s ({e.small.leads:,}) and"
                f" {e.large.generate_seconds:.1f} s ({e.large.leads:,})."
            ),
        ],
    )
