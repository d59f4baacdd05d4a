"""CSV imports: an uploaded CRM export read in batches (``leads.importing`` parses and cleans
the rows), every valid row kept, every refused row reported, and a job whose worker died
resumed where it stopped."""

import itertools
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from kit.csvfiles import ImportFormatError, count_rows

from .. import importing
from ..models import ActivitySource, ImportJob, ImportRowError, Lead, LeadEvent
from ..scoring import compute_fit
from .common import retrying_on_conflict
from .scoring import ScoringContext

IMPORT_BATCH = 1_000


def run_import(*, job_id: int) -> ImportJob | None:
    """Import one uploaded CSV: every valid row is kept, every refused row is reported with its
    line number and reason, and known emails become "seen again" on the existing lead.

    Streams the file in batches, one transaction each, so memory does not grow with the file
    and progress is visible while it runs. Claiming the job is a compare-and-swap, so a task
    delivered twice imports once. Each batch commits with the job's counters, so a job resumed
    after its worker died (``requeue_stalled_imports``) skips exactly the rows already imported.
    """
    now = timezone.now()
    if not ImportJob.objects.filter(pk=job_id, state=ImportJob.State.QUEUED).update(
        state=ImportJob.State.RUNNING, started_at=now, heartbeat_at=now
    ):
        return None
    job = ImportJob.objects.select_related("campaign").get(pk=job_id)
    try:
        with job.file.open("rb") as handle:
            job.total_rows = count_rows(handle)
        job.save(update_fields=["total_rows"])
        context = ScoringContext.load(fresh=True)
        with job.file.open("rb") as handle:
            rows = importing.iter_rows(handle)
            job.file_format = rows.file_format
            job.save(update_fields=["file_format"])
            done = ImportJob.objects.values_list("processed_rows", flat=True).get(pk=job.pk)
            for batch in _chunks(itertools.islice(rows, done, None), IMPORT_BATCH):
                _import_batch(job, batch, context)
    except ImportFormatError as exc:
        job.failure = str(exc)[:500]
        job.state = ImportJob.State.FAILED
    else:
        job.state = ImportJob.State.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "failure", "finished_at"])
    job.refresh_from_db()  # the counters were advanced in SQL
    return job


IMPORT_STALLED_AFTER = timedelta(minutes=5)


def requeue_stalled_imports(*, now: datetime | None = None) -> list[int]:
    """Put back in the queue the imports whose worker died: running, but no batch committed
    for a while (a batch takes well under a second). Returns their ids."""
    cutoff = (now or timezone.now()) - IMPORT_STALLED_AFTER
    stalled = list(
        ImportJob.objects.filter(state=ImportJob.State.RUNNING, heartbeat_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    # Compare-and-swap per job: a job that committed a batch meanwhile is left alone.
    return [
        pk
        for pk in stalled
        if ImportJob.objects.filter(pk=pk, state=ImportJob.State.RUNNING, heartbeat_at__lt=cutoff).update(
            state=ImportJob.State.QUEUED
        )
    ]


def _chunks(iterable, size):
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _import_batch(job: ImportJob, batch: list[tuple[int, dict]], context: ScoringContext) -> None:
    refused: list[ImportRowError] = []
    clean: dict[str, tuple[int, importing.CleanRow]] = {}
    repeats: list[tuple[int, str]] = []
    for line, raw in batch:
        try:
            row = importing.clean_row(raw)
        except importing.RowRefused as exc:
            refused.append(
                ImportRowError(job=job, line=line, reason=str(exc)[:500], email=raw.get("email", "")[:254])
            )
            continue
        if row.email in clean:
            repeats.append((line, row.email))  # the same person twice in one file
        else:
            clean[row.email] = (line, row)

    retrying_on_conflict(lambda: _write_import_batch(job, len(batch), clean, repeats, refused, context))


def _write_import_batch(
    job, rows: int, clean: dict, repeats: list, refused: list, context: ScoringContext
) -> None:
    now = timezone.now()
    existing = dict(Lead.objects.filter(email__in=list(clean)).values_list("email", "pk"))
    new_leads = [
        _lead_from_row(row, job, context, now) for email, (_, row) in clean.items() if email not in existing
    ]
    Lead.objects.bulk_create(new_leads)  # sets each pk; a lost race retries the batch
    ids = existing | {lead.email: lead.pk for lead in new_leads}
    created = {lead.email for lead in new_leads}
    events = [
        LeadEvent(
            lead_id=ids[email],
            kind=LeadEvent.Kind.CAPTURED,
            at=now,
            actor=job.uploaded_by,
            campaign=job.campaign,
            via=ActivitySource.IMPORT,
            to_status=Lead.Status.NURTURE,
            message=f"Imported from {job.original_name[:200]}, line {line}",
        )
        for email, (line, _) in clean.items()
        if email in created
    ]
    seen_again = [(line, email) for email, (line, _) in clean.items() if email not in created] + repeats
    events += [
        LeadEvent(
            lead_id=ids[email],
            kind=LeadEvent.Kind.RECAPTURED,
            at=now,
            actor=job.uploaded_by,
            campaign=job.campaign,
            via=ActivitySource.IMPORT,
            message=f"Seen again in {job.original_name[:200]}, line {line}",
        )
        for line, email in seen_again
    ]
    LeadEvent.objects.bulk_create(events)
    ImportRowError.objects.bulk_create(refused)
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=F("processed_rows") + rows,
        created_count=F("created_count") + len(created),
        existing_count=F("existing_count") + len(seen_again),
        refused_count=F("refused_count") + len(refused),
        heartbeat_at=timezone.now(),
    )


def _lead_from_row(row, job: ImportJob, context: ScoringContext, now: datetime) -> Lead:
    lead = Lead(
        email=row.email,
        first_name=row.first_name,
        last_name=row.last_name,
        company=row.company,
        title=row.title,
        seniority=row.seniority,
        industry=row.industry,
        employees=row.employees,
        annual_revenue=row.annual_revenue,
        country=row.country,
        phone=row.phone,
        source=job.campaign.channel if job.campaign else row.source,
        campaign=job.campaign,
        rating=row.rating,
        external_id=row.external_id,
        external_status=row.external_status,
        external_created_at=row.external_created_at,
        status=Lead.Status.NURTURE,
        captured_at=now,
        first_seen_at=min(row.external_created_at or now, now),
        status_changed_at=now,
    )
    fit = compute_fit(lead, context.criteria)
    lead.fit_score, lead.fit_grade = fit.score, fit.grade
    return lead
