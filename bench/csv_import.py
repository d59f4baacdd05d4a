"""Figure 2: the CSV import (``leads.services.run_import``) beside PostgreSQL ``COPY`` of the
same file.

The file is the sample Salesforce export (tests/data/crm_exports) repeated: copy ``k`` of the
sample gets ``r{k}.`` in front of each email's local part, so copies do not collide while
each keeps the sample's mess (invalid and missing emails stay invalid, duplicates within a
copy stay duplicates, non-ASCII names, ranges, odd countries...).
"""

import csv
import statistics
from dataclasses import dataclass
from pathlib import Path

from django.core.files import File

from .env import RESULTS_DIR, connect, run_worker
from .timing import Timer

SAMPLE = (
    Path(__file__).resolve().parents[1] / "tests" / "data" / "crm_exports" / "salesforce_leads_export.csv"
)
EMAIL_COLUMN = "Email"
LEAD_TABLES = "leads_lead, leads_leadevent, leads_activity, leads_importrowerror, leads_importjob"


def generate_csv(rows: int) -> Path:
    """Write a ``rows``-row export shaped like the sample (same header, BOM and CRLF)."""
    path = RESULTS_DIR / f"salesforce_leads_{rows}.csv"
    with SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        sample = list(reader)
    email = header.index(EMAIL_COLUMN)
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)  # csv's default line ending is CRLF, as in the sample
        writer.writerow(header)
        for n in range(rows):
            copy, row = divmod(n, len(sample))
            cells = list(sample[row])
            cells[email] = _prefixed_email(cells[email], copy)
            writer.writerow(cells)
    return path


def _prefixed_email(raw: str, copy: int) -> str:
    # Keep surrounding blanks and an empty cell as they are: they are part of the mess.
    stripped = raw.strip()
    if not stripped:
        return raw
    start = raw.index(stripped)
    return f"{raw[:start]}r{copy}.{stripped}{raw[start + len(stripped) :]}"


def copy_baseline(path: Path, repeats: int = 3) -> float:
    """Median seconds of ``COPY`` of the raw file into a scratch table of text columns:
    PostgreSQL's fastest way to store the same rows, with no cleaning, scoring or events."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        columns = next(csv.reader(handle))
    with connect() as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy")
        conn.execute(f"CREATE TABLE bench_copy ({', '.join(f'c{i} text' for i in range(len(columns)))})")
        times = []
        for _ in range(repeats):
            conn.execute("TRUNCATE bench_copy")
            with (
                Timer() as timer,
                conn.cursor() as cursor,
                path.open("rb") as data,
                cursor.copy("COPY bench_copy FROM STDIN (FORMAT csv, HEADER true)") as copy,
            ):
                while chunk := data.read(1 << 16):
                    copy.write(chunk)
            times.append(timer.seconds)
        conn.execute("DROP TABLE bench_copy")
    return statistics.median(times)


def truncate_leads() -> None:
    with connect() as conn:
        conn.execute(f"TRUNCATE {LEAD_TABLES} RESTART IDENTITY CASCADE")
        conn.execute("VACUUM ANALYZE leads_lead")


@dataclass
class ImportRun:
    rows: int
    seconds: float
    rss_growth_kib: int
    tracemalloc_peak_kib: int
    created: int
    existing: int
    refused: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


@dataclass
class ImportFigures:
    small: ImportRun
    large: ImportRun
    copy_seconds: float
    file_bytes: int

    @property
    def copy_rows_per_second(self) -> float:
        return self.large.rows / self.copy_seconds


def _queue_job(path: Path, user):
    from leads.models import ImportJob

    with path.open("rb") as handle:
        # Saving through the FileField copies the file into MEDIA_ROOT, as an upload does.
        return ImportJob.objects.create(
            uploaded_by=user, file=File(handle, name=path.name), original_name=path.name
        )


def measure_import(path: Path, rows: int, user) -> ImportRun:
    """Import ``path`` into an empty leads table twice, each in a fresh process: once timed
    (rows/s and RSS growth), once under tracemalloc (its Python allocation peak)."""
    from leads.models import ImportJob

    results = {}
    for trace in (False, True):
        truncate_leads()
        job = _queue_job(path, user)
        results[trace] = run_worker(*(["--trace"] if trace else []), "import", str(job.pk))
        job = ImportJob.objects.get(pk=job.pk)
        if job.state != ImportJob.State.DONE or job.processed_rows != rows:
            raise RuntimeError(
                f"import {job.pk} ended {job.state} after {job.processed_rows} rows: {job.failure}"
            )
    return ImportRun(
        rows=rows,
        seconds=results[False]["seconds"],
        rss_growth_kib=results[False]["rss_growth_kib"],
        tracemalloc_peak_kib=results[True]["tracemalloc_peak_kib"],
        created=job.created_count,
        existing=job.existing_count,
        refused=job.refused_count,
    )
