"""Figure: the lead export (``/leads/export/``, ``kit.exporting``) of every lead, streamed
through the view and read to the end by the client, beside a bare ``COPY (SELECT ...) TO
STDOUT WITH CSV`` of the same query.

The leads are the sweep figure's generator's (``bench.sweep.generate_leads``: every column
filled, two thirds with a campaign, a third owned), at two sizes, so that the export's peak
memory can be seen not to grow with the row count. Each export runs in a fresh process
(``python -m bench.worker export``): Django's test client, signed in as a marketing user (who
sees every lead), sends the request through the whole middleware stack, and the file's chunks
are counted and dropped as they arrive, as a browser saving it would. Timed once, then once
traced (tracemalloc). The baseline sends the statement the view sends (the same columns, joins
and order, from ``queryset.query``) as ``COPY ... TO STDOUT WITH CSV`` and reads it the same
way, in this process.
"""

from dataclasses import dataclass

from django.utils import timezone

from .env import connect, run_worker
from .sweep import generate_leads
from .timing import Timer


@dataclass
class ExportRun:
    leads: int
    rows: int  # data rows the client read (the header aside)
    megabytes: float
    seconds: float
    rss_growth_kib: int
    tracemalloc_peak_kib: int
    copy_seconds: float
    copy_rows: int
    generate_seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds

    @property
    def copy_rows_per_second(self) -> float:
        return self.copy_rows / self.copy_seconds


@dataclass
class ExportFigures:
    small: ExportRun
    large: ExportRun  # the figure


def export_statement(user_id: int) -> tuple[str, tuple]:
    """The SQL the view sends for ``user_id``'s export of the whole list, and its parameters."""
    from leads.exports import LEAD_EXPORT
    from leads.models import Lead
    from team.models import User

    user = User.objects.get(pk=user_id)
    leads = LEAD_EXPORT.values(Lead.objects.visible_to(user).order_by("-captured_at", "-id"))
    return leads.query.sql_with_params()


def copy_baseline(user_id: int) -> tuple[float, int]:
    """``COPY (the view's SELECT) TO STDOUT WITH CSV``, read to the end: (seconds, rows)."""
    sql, params = export_statement(user_id)
    rows = 0
    statement = f"COPY ({sql}) TO STDOUT WITH CSV"
    with connect() as conn, Timer() as timer, conn.cursor() as cursor, cursor.copy(statement, params) as copy:
        for chunk in copy:
            rows += bytes(chunk).count(b"\n")  # no generated cell holds a line break
    return timer.seconds, rows


def measure(n: int, *, user_id: int, owners: list[int], campaigns: list[int], log) -> ExportRun:
    generate_seconds = generate_leads(n, owners=owners, campaigns=campaigns, now=timezone.now())
    log(
        f"export: {n:,} leads generated in {generate_seconds:.1f} s; exporting through the view (timed, then traced)"
    )
    timed = run_worker("export", str(user_id))
    traced = run_worker("--trace", "export", str(user_id))
    if timed["rows"] != n or traced["rows"] != n:
        raise RuntimeError(f"the export held {timed['rows']:,} and {traced['rows']:,} rows, expected {n:,}")
    copy_seconds, copy_rows = copy_baseline(user_id)
    run = ExportRun(
        leads=n,
        rows=timed["rows"],
        megabytes=timed["bytes"] / 1e6,
        seconds=timed["seconds"],
        rss_growth_kib=timed["rss_growth_kib"],
        tracemalloc_peak_kib=traced["tracemalloc_peak_kib"],
        copy_seconds=copy_seconds,
        copy_rows=copy_rows,
        generate_seconds=generate_seconds,
    )
    log(
        f"export: {run.rows_per_second:,.0f} rows/s ({run.megabytes:,.0f} MB in {run.seconds:.1f} s),"
        f" RSS +{run.rss_growth_kib / 1024:.1f} MiB, tracemalloc peak {run.tracemalloc_peak_kib / 1024:.1f} MiB;"
        f" COPY {run.copy_rows_per_second:,.0f} rows/s"
    )
    return run


def measure_sizes(
    sizes: tuple[int, int], *, user_id: int, owners: list[int], campaigns: list[int], log
) -> ExportFigures:
    small, large = (measure(n, user_id=user_id, owners=owners, campaigns=campaigns, log=log) for n in sizes)
    return ExportFigures(small=small, large=large)
