"""Undoing an import within a period: the leads it created that nobody touched since are
removed, its updates are reverted field by field where nobody changed the field since, and the
rest is left as it is and counted."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from kit.errors import Refused
from work.models import WorkItem

from ..models import Activity, ActivitySource, ImportJob, Lead, LeadEvent, LeadImport
from ..scoring import compute_fit
from ..signals import import_undone
from .common import FIT_FIELDS
from .import_activity import remove_import_activities
from .import_write import as_json
from .scoring import ScoringContext

IMPORT_UNDO_PERIOD = timedelta(days=7)
UNDO_BATCH = 1_000


class ImportUndoRefused(Refused, ValueError):
    """An import that cannot be undone (a dry run, not finished, already undone, or too old);
    ``str(exc)`` says why."""


@dataclass
class UndoResult:
    removed: int = 0  # leads the import created, nobody touched since: deleted
    kept: int = 0  # leads the import created that someone worked on since: left
    reverted: int = 0  # known leads the import changed, put back
    not_reverted: int = 0  # known leads whose every imported change was changed again since
    activities: int = 0  # activities the rows said happened, taken out (with their engagement)


def touched_since(job: ImportJob) -> Q:
    """The leads someone worked on after the import finished: a timeline line (other than an
    automatic nurture enrolment), an activity, a work item opened or done, an opportunity or an
    email. A changed owner or status writes a timeline line, so it counts too."""
    after = job.finished_at
    return Q(
        Exists(
            LeadEvent.objects.filter(lead=OuterRef("pk"), at__gt=after).exclude(
                kind=LeadEvent.Kind.CADENCE, actor__isnull=True
            )
        )
        | Exists(Activity.objects.filter(lead=OuterRef("pk"), occurred_at__gt=after))
        | Exists(
            WorkItem.objects.filter(
                Q(created_at__gt=after) | Q(completed_at__isnull=False),
                content_type__app_label="leads",
                content_type__model="lead",
                object_id=OuterRef("pk"),
            )
        )
        | Q(opportunities__isnull=False)
        | Q(email_messages__isnull=False)
    )


def undo_import(*, job: ImportJob, by, now: datetime | None = None) -> UndoResult:
    """Undo ``job`` (a finished, real import, within ``IMPORT_UNDO_PERIOD``): see the module's
    docstring. The job is locked, so two people undoing it at once undo it once; the second is
    refused. Raises ``ImportUndoRefused`` with the reason."""
    now = now or timezone.now()
    result = UndoResult()
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        _check(job, now)
        created = LeadImport.objects.filter(job=job, action=LeadImport.Action.CREATED)
        ids = list(created.values_list("lead_id", flat=True).order_by("lead_id"))
        for start in range(0, len(ids), UNDO_BATCH):
            chunk = ids[start : start + UNDO_BATCH]
            touched = set(
                Lead.objects.filter(pk__in=chunk)
                .filter(touched_since(job))
                .values_list("pk", flat=True)
                .distinct()
            )
            gone = [pk for pk in chunk if pk not in touched]
            if gone:
                import_undone.send(sender=Lead, job_id=job.pk, lead_ids=gone, since=job.finished_at)
            Lead.objects.filter(pk__in=gone).delete()
            result.removed += len(gone)
            result.kept += len(touched)
        result.activities = remove_import_activities(job=job)
        _revert_updates(job, by, now, result)
        job.state, job.undone_at, job.undone_by = ImportJob.State.UNDONE, now, by
        job.save(update_fields=["state", "undone_at", "undone_by"])
    return result


def _check(job: ImportJob, now: datetime) -> None:
    if job.dry_run:
        raise ImportUndoRefused("A dry run wrote nothing; there is nothing to undo.")
    if job.state == ImportJob.State.UNDONE:
        raise ImportUndoRefused(f"Import #{job.pk} was already undone.")
    if job.state != ImportJob.State.DONE or job.finished_at is None:
        raise ImportUndoRefused(f"Import #{job.pk} has not finished; only a finished import can be undone.")
    if now > job.finished_at + IMPORT_UNDO_PERIOD:
        raise ImportUndoRefused(
            f"Import #{job.pk} finished more than {IMPORT_UNDO_PERIOD.days} days ago; it can no longer be undone."
        )


def _revert_updates(job: ImportJob, by, now: datetime, result: UndoResult) -> None:
    links = LeadImport.objects.filter(job=job, action=LeadImport.Action.UPDATED).order_by("lead_id")
    context = None
    fields_of = {f.name: f for f in Lead._meta.concrete_fields}
    last = 0
    while True:
        batch = list(links.filter(lead_id__gt=last)[:UNDO_BATCH])
        if not batch:
            break
        last = batch[-1].lead_id
        leads = {
            lead.pk: lead
            for lead in Lead.objects.select_for_update(of=("self",)).filter(pk__in=[b.lead_id for b in batch])
        }
        events: list[LeadEvent] = []
        groups: dict[frozenset[str], list[Lead]] = {}
        for link in batch:
            lead = leads.get(link.lead_id)
            if lead is None:
                continue
            put_back, kept = [], []
            for name, (old, new) in (link.before or {}).items():
                field = fields_of[name]
                if field.to_python(new) == getattr(lead, name) or as_json(getattr(lead, name)) == new:
                    setattr(lead, name, field.to_python(old))
                    put_back.append(name)
                else:
                    kept.append(name)
            if not put_back:
                result.not_reverted += 1
                continue
            changed = set(put_back)
            if "status" in changed:
                lead.status_changed_at = now
                changed.add("status_changed_at")
            if FIT_FIELDS & changed:
                context = context or ScoringContext.load()
                fit = compute_fit(lead, context.criteria)
                lead.fit_score, lead.fit_grade = fit.score, fit.grade
                changed |= {"fit_score", "fit_grade"}
            lead.updated_at = now
            groups.setdefault(frozenset(changed | {"updated_at"}), []).append(lead)
            message = f"Import #{job.pk} undone: put back {', '.join(n.replace('_', ' ') for n in put_back)}"
            if kept:
                message += f"; kept {', '.join(n.replace('_', ' ') for n in kept)} (changed since)"
            events.append(
                LeadEvent(
                    lead=lead,
                    kind=LeadEvent.Kind.UPDATED,
                    at=now,
                    actor=by,
                    via=ActivitySource.IMPORT,
                    message=message[:500],
                )
            )
            result.reverted += 1
        for fields, group in groups.items():
            Lead.objects.bulk_update(group, sorted(fields))
        LeadEvent.objects.bulk_create(events)


@dataclass
class UndoOffer:
    """What the undo button of an import offers (the ``_import_undo.html`` partial reads it)."""

    possible: bool
    reason: str  # why not, when not possible
    until: datetime | None
    created: int  # leads it created (removed unless someone worked on them since)
    updated: int  # known leads it changed (put back where nobody changed the field since)


def undo_offer(job: ImportJob, *, now: datetime | None = None) -> UndoOffer:
    """Whether ``job`` can be undone now, until when, and what undoing it would touch. One
    grouped query."""
    now = now or timezone.now()
    until = job.finished_at + IMPORT_UNDO_PERIOD if job.finished_at else None
    try:
        _check(job, now)
    except ImportUndoRefused as exc:
        return UndoOffer(possible=False, reason=str(exc), until=until, created=0, updated=0)
    counts = dict(
        LeadImport.objects.filter(job=job)
        .values_list("action")
        .annotate(n=Count("pk"))
        .values_list("action", "n")
    )
    return UndoOffer(
        possible=True,
        reason="",
        until=until,
        created=counts.get(LeadImport.Action.CREATED, 0),
        updated=counts.get(LeadImport.Action.UPDATED, 0),
    )
