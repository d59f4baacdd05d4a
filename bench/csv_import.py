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
ID_COLUMN = "Lead ID"
LEAD_TABLES = (
    "leads_lead, leads_leadevent, leads_activity, leads_importrowerror, leads_importjob, leads_leadimport"
)


def generate_csv(rows: int) -> Path:
    """Write a ``rows``-row export shaped like the sample (same header, BOM and CRLF)."""
    path = RESULTS_DIR / f"salesforce_leads_{rows}.csv"
    with SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        sample = list(reader)
    email, source_id = header.index(EMAIL_COLUMN), header.index(ID_COLUMN)
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)  # csv's default line ending is CRLF, as in the sample
        writer.writerow(header)
        for n in range(rows):
            copy, row = divmod(n, len(sample))
            cells = list(sample[row])
            cells[email] = _prefixed_email(cells[email], copy)
            if copy and cells[source_id]:  # each copy's people have source ids of their own
                cells[source_id] = f"{cells[source_id]}-{copy}"
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
    merge: "MergeRun | None" = None

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


# --- Figure 2b: an import with a mapping and the fill-blanks policy against existing leads -----

SEED_SQL = """
INSERT INTO leads_lead (
    email, first_name, last_name, company, title, seniority, industry, country, phone, source,
    status, status_reason, hand_raiser, rating, fit_score, fit_grade, engagement_key,
    external_id, external_system, external_status, source_attributes, first_seen_at,
    captured_at, status_changed_at, updated_at
)
SELECT email, '', '', '', '', '', '', '', '', 'web', 'nurture', '', false, '', 0, 'D',
       %(no_engagement)s, '', '', '', '{}'::jsonb, %(now)s, %(now)s, %(now)s, %(now)s
FROM (
    SELECT email FROM bench_known
    UNION ALL
    SELECT 'seed' || i || '@filler.example' FROM generate_series(1, %(fillers)s) AS i
) AS people
"""

# The same work in bare SQL: the file COPYed as text, each person's first row, blank fields of
# the known ones filled (one UPDATE), the others inserted (one INSERT); no cleaning, scoring,
# links, timeline or outcomes.
MERGE_BASELINE_SQL = """
WITH src AS (
    SELECT DISTINCT ON (lower(trim(c5)))
        lower(trim(c5)) AS email, left(coalesce(c1, ''), 100) AS first_name,
        left(coalesce(c2, ''), 100) AS last_name, left(coalesce(c3, ''), 150) AS title,
        left(coalesce(c4, ''), 200) AS company, left(coalesce(c6, ''), 40) AS phone,
        left(coalesce(c0, ''), 64) AS external_id
    FROM bench_rows
    WHERE position('@' IN c5) > 1
    ORDER BY lower(trim(c5))
), filled AS (
    UPDATE leads_lead AS l SET
        first_name = CASE WHEN l.first_name = '' THEN s.first_name ELSE l.first_name END,
        last_name = CASE WHEN l.last_name = '' THEN s.last_name ELSE l.last_name END,
        title = CASE WHEN l.title = '' THEN s.title ELSE l.title END,
        company = CASE WHEN l.company = '' THEN s.company ELSE l.company END,
        phone = CASE WHEN l.phone = '' THEN s.phone ELSE l.phone END,
        external_id = CASE WHEN l.external_id = '' THEN s.external_id ELSE l.external_id END,
        updated_at = now()
    FROM src AS s
    WHERE l.email = s.email AND (
        (l.first_name = '' AND s.first_name <> '') OR (l.last_name = '' AND s.last_name <> '')
        OR (l.title = '' AND s.title <> '') OR (l.company = '' AND s.company <> '')
        OR (l.phone = '' AND s.phone <> '') OR (l.external_id = '' AND s.external_id <> '')
    )
    RETURNING l.id
)
INSERT INTO leads_lead (
    email, first_name, last_name, company, title, seniority, industry, country, phone, source,
    status, status_reason, hand_raiser, rating, fit_score, fit_grade, engagement_key,
    external_id, external_system, external_status, source_attributes, first_seen_at,
    captured_at, status_changed_at, updated_at
)
SELECT s.email, s.first_name, s.last_name, s.company, s.title, '', '', '', s.phone, 'other',
       'nurture', '', false, '', 0, 'D', %(no_engagement)s, s.external_id, 'salesforce', '',
       '{}'::jsonb, now(), now(), now(), now()
FROM src AS s
WHERE NOT EXISTS (SELECT 1 FROM leads_lead AS l WHERE l.email = s.email)
ON CONFLICT (email) DO NOTHING
"""


@dataclass
class MergeRun:
    """An import of a file whose every other person is already a lead (with blank fields to
    fill), into a table of ``existing`` leads, with an explicit mapping and fill-blanks."""

    rows: int
    existing: int
    known_people: int
    seconds: float
    baseline_seconds: float
    created: int
    matched: int
    updated: int
    unchanged: int
    refused: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds

    @property
    def baseline_rows_per_second(self) -> float:
        return self.rows / self.baseline_seconds


def _file_people(path: Path) -> tuple[list[str], list[str], list[str]]:
    """The file's header, the mapping the reader suggests for it, and its valid emails (each
    person once, in file order)."""
    from leads import importing

    emails: dict[str, None] = {}
    with path.open("rb") as handle:
        rows = importing.iter_rows(handle)
        by_index = {index: key for key, index in rows.columns.items()}
        mapping = [by_index.get(i, "") for i in range(len(rows.headers))]
        headers = list(rows.headers)
        for _, raw in rows:
            try:
                emails.setdefault(importing.clean_row(raw).email)
            except importing.RowRefused:
                continue
    return headers, mapping, list(emails)


def seed_existing(known: list[str], existing: int) -> None:
    """Replace the leads with ``existing`` ones: ``known`` (blank details) and fillers."""
    from django.utils import timezone

    from leads.models import NO_ENGAGEMENT

    with connect() as conn:
        conn.execute(f"TRUNCATE {LEAD_TABLES} RESTART IDENTITY CASCADE")
        conn.execute("CREATE TEMP TABLE bench_known (email text)")
        with conn.cursor() as cursor, cursor.copy("COPY bench_known FROM STDIN") as copy:
            for email in known:
                copy.write_row((email,))
        params = {"no_engagement": NO_ENGAGEMENT, "now": timezone.now(), "fillers": existing - len(known)}
        conn.execute(SEED_SQL, params)
        conn.execute("VACUUM ANALYZE leads_lead")


def merge_baseline(path: Path) -> float:
    """Seconds of the bare-SQL merge (``MERGE_BASELINE_SQL``) of the file, COPY included."""
    from leads.models import NO_ENGAGEMENT

    with path.open(encoding="utf-8-sig", newline="") as handle:
        columns = next(csv.reader(handle))
    with connect() as conn, Timer() as timer:
        conn.execute(f"CREATE TEMP TABLE bench_rows ({', '.join(f'c{i} text' for i in range(len(columns)))})")
        with (
            conn.cursor() as cursor,
            path.open("rb") as data,
            cursor.copy("COPY bench_rows FROM STDIN (FORMAT csv, HEADER true)") as copy,
        ):
            while chunk := data.read(1 << 16):
                copy.write(chunk)
        conn.execute(MERGE_BASELINE_SQL, {"no_engagement": NO_ENGAGEMENT})
    return timer.seconds


def measure_merge(path: Path, rows: int, existing: int, user) -> MergeRun:
    """The figure: ``run_import`` of ``path`` (mapping confirmed, fill-blanks) in a fresh
    process against ``existing`` leads of which every other person of the file is one; then the
    bare-SQL baseline on the same seeded table."""
    from leads.models import ImportJob

    headers, mapping, people = _file_people(path)
    known = people[::2]
    seed_existing(known, existing)
    job = _queue_job(path, user)
    ImportJob.objects.filter(pk=job.pk).update(
        headers=headers, mapping=mapping, merge_policy=ImportJob.MergePolicy.FILL_BLANKS
    )
    result = run_worker("import", str(job.pk))
    job = ImportJob.objects.get(pk=job.pk)
    if job.state != ImportJob.State.DONE or job.processed_rows != rows:
        raise RuntimeError(
            f"import {job.pk} ended {job.state} after {job.processed_rows} rows: {job.failure}"
        )
    seed_existing(known, existing)
    baseline = merge_baseline(path)
    truncate_leads()
    return MergeRun(
        rows=rows,
        existing=existing,
        known_people=len(known),
        seconds=result["seconds"],
        baseline_seconds=baseline,
        created=job.created_count,
        matched=job.existing_count,
        updated=job.updated_count,
        unchanged=job.unchanged_count,
        refused=job.refused_count,
    )
