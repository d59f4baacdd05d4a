"""What an import row says the person did: the source's last-activity, last-engagement and
recent-conversion dates (``importing.ACTIVITY_DATE_KEYS``) become activities on the lead, of
the kind the column says (a conversion is a form filled; a last activity or engagement is an
"imported" activity, worth what marketing weighs that kind), at the date the source gives, so
engagement counts them decayed by their age. A row without such a date adds none.

Idempotent: a re-import of the same row finds the activity it added before (same lead, kind,
time, source) and adds no second one. A date in the future is recorded at the import's time,
as the created date is (``first_seen_at``), and its note keeps the date the file gave (which
is how a re-import of it finds it again).

Set-based: one lookup of the activities already there, one INSERT, one UPDATE of the leads'
engagement per batch. Undo (``remove_import_activities``) takes them back out, engagement
included."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from kit import bulk

from .. import importing
from ..models import Activity, ActivityKind, ActivitySource, ImportJob, Lead
from ..scoring import add_engagement, remove_engagement
from .import_rows import SYSTEM_NAMES, KnownLead, SourceRow
from .scoring import ScoringContext

# Each activity column: the kind it records and how the note names it. In the order of
# ``importing.ACTIVITY_DATE_KEYS``: when two columns give the same moment (HubSpot's last
# activity is often the conversion), the first names it and the other adds nothing.
SOURCE_ACTIVITIES = {
    "recent_conversion_at": (ActivityKind.FORM_FILL, "recent conversion"),
    "last_engagement_at": (ActivityKind.IMPORTED, "last engagement"),
    "last_activity_at": (ActivityKind.IMPORTED, "last activity"),
}
UNDO_BATCH = 1_000


@dataclass(frozen=True, slots=True)
class RowActivity:
    """One activity a row says happened: when (clamped to the import's time) and its note."""

    kind: str
    at: datetime
    note: str
    clamped: bool


def row_activities(row: importing.CleanRow, *, system: str, now: datetime) -> Iterator[RowActivity]:
    """The activities one cleaned row says happened (none when it has no activity date)."""
    said = SYSTEM_NAMES.get(system, "Source")
    moments: set[datetime] = set()
    for key in importing.ACTIVITY_DATE_KEYS:
        when = row.activity_dates.get(key)
        if when is None:
            continue
        at = min(when, now)
        if at in moments:
            continue
        moments.add(at)
        kind, what = SOURCE_ACTIVITIES[key]
        note = f"{said}: {what}"
        if key == "recent_conversion_at" and row.recent_conversion:
            note += f" '{row.recent_conversion}'"
        if when > now:
            note += f" (dated {when:%Y-%m-%d %H:%M} UTC in the file, in the future: recorded at the import)"
        yield RowActivity(kind=kind, at=at, note=note[:2000], clamped=when > now)


def record_source_activities(
    job: ImportJob,
    *,
    new: Iterable[tuple[SourceRow, Lead]],
    known: Iterable[tuple[SourceRow, KnownLead]],
    context: ScoringContext,
    now: datetime,
    system: str,
) -> int:
    """Add the activities the rows say happened to their leads and their points to the leads'
    engagement; returns how many were added (a dry run counts them too: its batch is rolled
    back). ``new`` and ``known`` are each row with its lead (just created, or matched), every
    lead once. Under the *keep* policy ("change nothing on known people") known people get
    none."""
    pairs: list[tuple[SourceRow, Lead | KnownLead]] = [
        *new,
        *(known if job.merge_policy != ImportJob.MergePolicy.KEEP else ()),
    ]
    wanted = [
        (lead, activity) for r, lead in pairs for activity in row_activities(r.row, system=system, now=now)
    ]
    if not wanted:
        return 0
    lead_ids = {lead.pk for lead, _ in wanted}
    times = {a.at for _, a in wanted}
    clamped_notes = {a.note for _, a in wanted if a.clamped}
    already = Activity.objects.filter(
        lead_id__in=lead_ids, source=ActivitySource.IMPORT, kind__in={a.kind for _, a in wanted}
    ).filter(Q(occurred_at__in=times) | Q(note__in=clamped_notes))
    by_time, by_note = set(), set()
    for lead_id, kind, at, note in already.values_list("lead_id", "kind", "occurred_at", "note"):
        by_time.add((lead_id, kind, at))
        by_note.add((lead_id, kind, note))
    half_life = context.settings.half_life_days
    added: list[Activity] = []
    engaged: dict[int, Lead | KnownLead] = {}
    for lead, a in wanted:
        if (lead.pk, a.kind, a.at) in by_time or (a.clamped and (lead.pk, a.kind, a.note) in by_note):
            continue
        by_time.add((lead.pk, a.kind, a.at))
        points = context.points_for(a.kind)
        added.append(
            Activity(
                lead_id=lead.pk,
                kind=a.kind,
                occurred_at=a.at,
                points=points,
                source=ActivitySource.IMPORT,
                note=a.note,
                import_job=job,
            )
        )
        if points > 0:
            # Keys are on a fixed time base: points added as of their moment are decayed by
            # their age today.
            lead.engagement_key = add_engagement(lead.engagement_key, points, a.at, half_life)
            engaged[lead.pk] = lead
    Activity.objects.bulk_create(added)
    # A nurtured lead that crossed the MQL threshold is promoted by the threshold sweep, as a
    # lead whose engagement changed in bulk is.
    bulk.update(Lead, [(lead, {"engagement_key"}) for lead in engaged.values()])
    return len(added)


def remove_import_activities(*, job: ImportJob) -> int:
    """Take out the activities ``job`` added (on the leads still there) and their points from
    the leads' engagement, leads locked in id order. Call inside the undo's transaction.
    Returns how many were removed."""
    half_life: float | None = None
    removed = 0
    while True:
        rows = list(
            Activity.objects.filter(import_job=job)
            .order_by("lead_id", "pk")
            .values_list("pk", "lead_id", "points", "occurred_at")[:UNDO_BATCH]
        )
        if not rows:
            return removed
        half_life = half_life or ScoringContext.load().settings.half_life_days
        leads = {
            lead.pk: lead
            for lead in Lead.objects.select_for_update(of=("self",))
            .filter(pk__in={lead_id for _, lead_id, _, _ in rows})
            .order_by("pk")
        }
        for _, lead_id, points, at in rows:
            lead = leads[lead_id]
            lead.engagement_key = remove_engagement(lead.engagement_key, points, at, half_life)
        Activity.objects.filter(pk__in=[pk for pk, _, _, _ in rows]).delete()
        bulk.update(Lead, [(lead, {"engagement_key"}) for lead in leads.values()])
        removed += len(rows)
