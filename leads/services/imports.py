"""CSV and XLSX imports: an uploaded CRM export read in batches (``leads.importing`` parses and
cleans the rows), each batch written by ``import_write`` in one transaction, every refused row
reported with its cells, and a job whose worker died resumed where it stopped.

A dry run takes the same path with each batch rolled back at its end, so its report says
exactly what the import would do; only the job's counters and its row report are kept."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kit import bulk
from kit.csvfiles import ImportFormatError

from .. import importing
from ..models import ImportJob, ImportRowError
from . import import_reader
from .common import retrying_on_conflict
from .import_reader import ReadRow
from .import_write import BatchResult, Seen, SourceRow, write_batch
from .scoring import ScoringContext

IMPORT_BATCH = 5_000


def run_import(*, job_id: int) -> ImportJob | None:
    """Import one uploaded file under the job's mapping, status map, merge policy, owner,
    team, campaign and tags: every valid row is kept (new people become leads, known people
    are merged by the policy), every refused row is reported with its line, reason and cells.

    Streams the file in batches, one transaction each, so memory does not grow with the file
    and progress is visible while it runs. Claiming the job is a compare-and-swap, so a task
    delivered twice imports once. Each batch commits with the job's counters, so a job resumed
    after its worker died (``requeue_stalled_imports``) skips exactly the rows already imported.
    With ``job.dry_run`` each batch is rolled back and nothing but the report persists.
    """
    now = timezone.now()
    if not ImportJob.objects.filter(pk=job_id, state=ImportJob.State.QUEUED).update(
        state=ImportJob.State.RUNNING, started_at=now, heartbeat_at=now
    ):
        return None
    job = ImportJob.objects.select_related("campaign", "owner", "team", "uploaded_by").get(pk=job_id)
    try:
        with job.file.open("rb") as handle:
            # A spreadsheet is counted by reading it once through the reader (CSV: the kit's
            # line counter), so a file it cannot read fails before a row is written.
            job.total_rows = importing.count_rows(handle, sheet_type=job.sheet_type)
        job.save(update_fields=["total_rows"])
        context = ScoringContext.load(fresh=True)
        tag_ids = list(job.tags.values_list("pk", flat=True))
        done = ImportJob.objects.values_list("processed_rows", flat=True).get(pk=job.pk)
        if done and job.dry_run:
            # A dry run keeps nothing from its earlier batches: report again from the start.
            ImportRowError.objects.filter(job=job).delete()
            _reset_counters(job)
            done = 0
        with (
            job.file.open("rb") as handle,
            # Read and cleaned a batch ahead, in a second process where it can (import_reader).
            import_reader.read_ahead(
                handle, sheet_type=job.sheet_type, mapping=job.mapping or None, skip=done, size=IMPORT_BATCH
            ) as reading,
        ):
            job.file_format = reading.file_format
            job.save(update_fields=["file_format"])
            system = importing.external_system(reading.file_format)
            seen = Seen()
            for batch in reading.batches:
                _import_batch(job, batch, context, system=system, seen=seen, tag_ids=tag_ids)
    except ImportFormatError as exc:
        job.failure = str(exc)[:500]
        job.state = ImportJob.State.FAILED
    else:
        job.state = ImportJob.State.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "failure", "finished_at"])
    job.refresh_from_db()  # the counters were advanced in SQL
    return job


def _reset_counters(job: ImportJob) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=0,
        created_count=0,
        existing_count=0,
        refused_count=0,
        updated_count=0,
        unchanged_count=0,
        warning_count=0,
        customer_count=0,
        review_count=0,
        disqualified_count=0,
        activity_count=0,
    )


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


class _DryRunRollback(Exception):
    """Raised at the end of a dry run's batch to roll it back, carrying what it did."""

    def __init__(self, result: BatchResult) -> None:
        super().__init__("dry run")
        self.result = result


def _import_batch(job: ImportJob, batch: list[ReadRow], context: ScoringContext, **options) -> None:
    rows: list[SourceRow] = []
    report: list[ImportRowError] = []
    for read in batch:
        if read.row is None:
            report.append(
                ImportRowError(
                    job=job,
                    line=read.line,
                    reason=read.reason[:500],
                    email=read.email[:254],
                    cells=read.cells,
                )
            )
            continue
        rows.append(SourceRow.of(read.line, read.row))
    refused = len(report)
    seen: Seen = options.pop("seen")

    def attempt() -> BatchResult:
        return write_batch(job, rows, context, seen=seen.copy(), **options)

    if job.dry_run:
        try:
            with transaction.atomic():
                raise _DryRunRollback(retrying_on_conflict(attempt))
        except _DryRunRollback as rolled_back:
            result = rolled_back.result
        _record(job, len(batch), refused, report, result)
    else:
        with transaction.atomic():
            result = retrying_on_conflict(attempt)
            _record(job, len(batch), refused, report, result)
    if job.dry_run:
        # A real import finds the people its earlier batches wrote through its links, so only
        # a dry run (whose batches were rolled back) carries them in memory.
        seen.update(result.seen)


def _record(job, rows: int, refused: int, report: list[ImportRowError], result: BatchResult) -> None:
    bulk.insert(ImportRowError, report + result.warnings)
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=F("processed_rows") + rows,
        created_count=F("created_count") + result.created,
        existing_count=F("existing_count") + result.existing,
        refused_count=F("refused_count") + refused,
        updated_count=F("updated_count") + result.updated,
        unchanged_count=F("unchanged_count") + result.unchanged,
        warning_count=F("warning_count") + len(result.warnings),
        customer_count=F("customer_count") + result.customers,
        review_count=F("review_count") + result.reviews,
        disqualified_count=F("disqualified_count") + result.disqualified,
        activity_count=F("activity_count") + result.activities,
        heartbeat_at=timezone.now(),
    )
