"""Merging two leads that are one person: everything moves to the survivor, the merged lead's
old id redirects to it.

What moves, relation by relation (``LEAD_RELATIONS`` names every relation of ``Lead``; a test
fails when a new one appears that is not handled here):

- activities, timeline events, email messages, opportunities, cadence enrolments, work items
  (generic: content type and object id), import links, tags: all to the survivor. When both
  leads are in an active cadence (one active enrolment per lead), the merged lead's is stopped
  first ("merged into lead N"); import links of an import that touched both keep the survivor's.
- the contact made from the lead (one per lead): moves when the survivor has none; when both
  were handed off, the merged lead's contact stays on its account without the link (counted
  in the record as ``contact_unlinked``).
- notifications that open the merged lead's page open the survivor's; redirects that pointed at
  the merged lead point at the survivor; pairs dismissed with the merged lead are forgotten.
- the insight fact of the merged lead is deleted with it; the survivor's is refreshed by the
  rollup (the merge writes a timeline event on it). So are the finder's stored keys
  (``dedupe.keys``): the survivor's are refreshed by the finder's next run (its ``updated_at``).

Field values: per ``LEAD_FIELDS`` key, the survivor's or the merged lead's (``chosen``); an
unnamed field keeps the survivor's. Status, owner and team stay the survivor's (the lifecycle is
not merged: choose as survivor the lead further along, which the screen proposes), and so do
its hand-raise flag and MQL moment (an earlier MQL moment of the merged lead counts only when
the survivor is past nurture too). Combined without a choice: engagement adds up (both leads'
decayed points, as if every activity had been on one lead; a nurture survivor that crosses the
MQL threshold is promoted by the threshold sweep as any lead is); the first-seen and captured
moments are the earlier ones; the source attributes are united (the survivor's win on a clash); the fit score
is recomputed from the merged values.

The merged lead's email is kept in ``MergeRecord.merged_values`` and said in the survivor's
timeline, not as a second address; the address the survivor does not keep is on its redirect
(``LeadRedirect.email``), so a later web form, API call, capture or import row with it finds the
survivor instead of making the person again.

Refused: a lead already merged (gone), the same lead twice, an unknown field or side in
``chosen``, and two leads that each have a live opportunity (handed off or open: a lead has one
at most, so one must be closed first).

Concurrency: both rows are locked in id order (``SELECT ... FOR UPDATE``), so two people merging
the same pair at once, or one A into B while another B into A, end with one merge; the second
finds a lead gone and is refused with "already merged into lead N".
"""

import math
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Contact, Opportunity
from kit.errors import Refused
from leads.models import NO_ENGAGEMENT, Activity, Lead, LeadEvent, LeadImport, LeadRedirect
from leads.scoring import compute_fit
from mail.models import Message
from notifications.models import Notification
from sdr.models import Enrollment
from sdr.services import cadences
from team.models import User
from work.models import WorkItem

from ..models import DismissedPair, Kind, MergeRecord

# The values a person chooses between: a key of the screen -> the lead fields it carries.
LEAD_FIELDS: dict[str, tuple[str, ...]] = {
    "first_name": ("first_name",),
    "last_name": ("last_name",),
    "email": ("email",),
    "company": ("company",),
    "title": ("title",),
    "seniority": ("seniority",),
    "industry": ("industry",),
    "employees": ("employees",),
    "annual_revenue": ("annual_revenue",),
    "country": ("country",),
    "phone": ("phone",),
    "campaign": ("campaign_id",),
    "source": ("source",),
    "rating": ("rating",),
    # The source system's record travels whole: an id from one system with the other's status
    # would match nothing on the next import.
    "external": ("external_system", "external_id", "external_status", "external_created_at"),
}
CHOICES = ("survivor", "merged")
# The opportunity statuses of which a lead has one at most (accounts' one_live_opportunity_per_lead).
LIVE_OPPORTUNITY = (Opportunity.Status.HANDED_OFF, Opportunity.Status.OPEN)

# Every relation of Lead, named by ``relation_key`` (the related model and its field, or a
# forward field's name), and how the merge treats it. tests/dedupe/test_people_merge.py compares
# this with Lead._meta: a relation added later fails that test until it is handled here.
LEAD_RELATIONS = {
    "leads.Activity.lead": "moved",
    "leads.LeadEvent.lead": "moved",
    "mail.Message.lead": "moved",
    "accounts.Opportunity.lead": "moved",
    "sdr.Enrollment.lead": "moved (the merged lead's active cadence stopped when both have one)",
    "leads.LeadImport.lead": "moved (one link per import; a created link arrives as unchanged)",
    "accounts.Contact.lead": "moved when the survivor has none, else unlinked",
    "leads.Lead_tags.lead": "united (the tags' through table)",
    "tags": "united",
    "work_items": "moved",
    "leads.LeadRedirect.lead": "repointed, and one added for the merged id",
    "insight.LeadFact.lead": "deleted with the merged lead; the survivor's refreshed by the rollup",
    "dedupe.LeadKey.lead": "deleted with the merged lead; the survivor's refreshed by the finder's next run",
    "campaign": "chosen (a field)",
    "owner": "the survivor's",
    "team": "the survivor's",
}


def relation_key(field) -> str:
    """How ``LEAD_RELATIONS`` names one of ``Lead._meta.get_fields()``'s relations."""
    if field.auto_created and not field.concrete:  # a reverse relation: another model's field
        return f"{field.related_model._meta.label}.{field.field.name}"
    return field.name


class MergeRefused(Refused):
    """A merge that cannot be done: the message says why (already merged, the same lead)."""


def default_survivor(a: Lead, b: Lead) -> tuple[Lead, Lead]:
    """Which of two leads survives by default: the one further along its lifecycle (an opportunity
    or a customer must not go back to marketing), then the one seen first."""
    rank: dict[str, int] = {
        Lead.Status.WON: 7,
        Lead.Status.HANDED_OFF: 6,
        Lead.Status.WORKING: 5,
        Lead.Status.LOST: 4,
        Lead.Status.MQL: 3,
        Lead.Status.RECYCLED: 2,
        Lead.Status.NURTURE: 1,
        Lead.Status.DISQUALIFIED: 0,
    }

    def key(lead: Lead):
        return (-rank.get(lead.status, 0), lead.first_seen_at, lead.pk)

    first, second = sorted((a, b), key=key)
    return first, second


def default_choice(key: str, survivor: Lead, merged: Lead) -> str:
    """The value proposed per field: the survivor's unless it is empty and the merged lead's is
    not, or the merged lead's was written more recently (its ``updated_at``) and differs."""
    ours = [getattr(survivor, f) for f in LEAD_FIELDS[key]]
    theirs = [getattr(merged, f) for f in LEAD_FIELDS[key]]
    if ours == theirs:
        return "survivor"
    if _empty(ours[0]) and not _empty(theirs[0]):
        return "merged"
    if _empty(theirs[0]):
        return "survivor"
    if key == "email":
        return "survivor"  # the address the survivor is known by; the other stays in the record
    return "merged" if merged.updated_at > survivor.updated_at else "survivor"


def _empty(value) -> bool:
    return value is None or value == ""


def combined_engagement(a: float, b: float) -> float:
    """Two stored engagement keys added up (both are on the same time base, see
    ``leads.scoring``): log2(2**a + 2**b), in log space."""
    if a <= NO_ENGAGEMENT:
        return b
    if b <= NO_ENGAGEMENT:
        return a
    high, low = max(a, b), min(a, b)
    return high + math.log2(1.0 + 2.0 ** (low - high))


def _snapshot(lead: Lead) -> dict:
    values = {}
    for f in Lead._meta.concrete_fields:
        value = getattr(lead, f.attname)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif value is not None and not isinstance(value, str | int | float | bool | dict | list):
            value = str(value)
        values[f.attname] = value
    values["tags"] = sorted(lead.tags.values_list("name", flat=True))
    return values


def _lock_pair(survivor_id: int, merged_id: int) -> tuple[Lead, Lead]:
    locked = {
        lead.pk: lead
        for lead in Lead.objects.select_for_update().filter(pk__in=[survivor_id, merged_id]).order_by("pk")
    }
    for pk in (survivor_id, merged_id):
        if pk not in locked:
            gone = LeadRedirect.objects.filter(old_id=pk).values_list("lead_id", flat=True).first()
            if gone is not None:
                raise MergeRefused(f"Lead {pk} was already merged into lead {gone}.")
            raise MergeRefused(f"Lead {pk} no longer exists.")
    return locked[survivor_id], locked[merged_id]


def _check_live_opportunities(keep: Lead, gone: Lead) -> None:
    """A lead has one live opportunity at most (handed off or open): two cannot meet on one."""
    live = dict(
        Opportunity.objects.filter(lead__in=[keep, gone], status__in=LIVE_OPPORTUNITY).values_list(
            "lead_id", "pk"
        )
    )
    if len(live) == 2:
        raise MergeRefused(
            f"Both leads have a live opportunity ({live[keep.pk]} and {live[gone.pk]}): "
            "win, lose or reject one of them first, then merge."
        )


def _check_chosen(chosen: dict) -> None:
    for key, side in chosen.items():
        if key not in LEAD_FIELDS:
            raise MergeRefused(f"“{key}” is not a field a merge chooses.", field=key)
        if side not in CHOICES:
            raise MergeRefused("Choose the survivor's value or the merged lead's.", field=key)


def merge_leads(
    *,
    survivor: Lead | int,
    merged: Lead | int,
    chosen: dict[str, str],
    by: User | None,
    now: datetime | None = None,
) -> MergeRecord:
    """Merge ``merged`` into ``survivor`` (see the module's docstring for what moves), in one
    transaction; returns the record of the merge. Raises ``MergeRefused`` when a lead is gone
    (already merged) or both are the same lead, or ``chosen`` names an unknown field or side."""
    survivor_id = survivor if isinstance(survivor, int) else survivor.pk
    merged_id = merged if isinstance(merged, int) else merged.pk
    if survivor_id == merged_id:
        raise MergeRefused("A lead cannot be merged into itself.")
    _check_chosen(chosen)
    now = now or timezone.now()
    with transaction.atomic():
        keep, gone = _lock_pair(survivor_id, merged_id)
        _check_live_opportunities(keep, gone)
        before = _snapshot(gone)
        addresses = {keep.email, gone.email}
        moved = _move_relations(keep, gone, by=by, now=now)
        _take_values(keep, gone, chosen)
        record = MergeRecord.objects.create(
            kind=Kind.LEAD,
            survivor_id=keep.pk,
            merged_id=gone.pk,
            merged_by=by,
            merged_at=now,
            merged_values=before,
            chosen={key: chosen.get(key, "survivor") for key in LEAD_FIELDS},
            moved=moved,
        )
        gone_email = gone.email
        LeadRedirect.objects.filter(lead_id=gone.pk).update(lead_id=keep.pk)  # before the cascade
        gone.delete()
        keep.save()
        # The address the survivor does not keep goes on reaching it (capture, API, imports).
        (left,) = addresses - {keep.email} or {""}
        LeadRedirect.objects.create(old_id=merged_id, lead=keep, merged_at=now, email=left)
        taken = [k for k in LEAD_FIELDS if chosen.get(k) == "merged"]
        LeadEvent.objects.create(
            lead=keep,
            kind=LeadEvent.Kind.UPDATED,
            at=now,
            actor=by,
            message=(
                f"Merged with lead {merged_id} ({gone_email})"
                + (f"; kept its {', '.join(k.replace('_', ' ') for k in taken)}" if taken else "")
                + "."
            )[:500],
        )
    return record


def _move_relations(keep: Lead, gone: Lead, *, by, now: datetime) -> dict[str, int]:
    moved: dict[str, int] = {}
    # First, so the event it writes on the merged lead moves with the others.
    if Enrollment.objects.filter(lead__in=[keep, gone], state=Enrollment.State.ACTIVE).count() == 2:
        cadences.end_enrollments(
            lead_ids=[gone.pk],
            state=Enrollment.State.STOPPED,
            now=now,
            by=by,
            reason=f"merged into lead {keep.pk}",
        )
    moved["enrollments"] = Enrollment.objects.filter(lead=gone).update(lead=keep)
    moved["activities"] = Activity.objects.filter(lead=gone).update(lead=keep)
    moved["events"] = LeadEvent.objects.filter(lead=gone).update(lead=keep)
    moved["email_messages"] = Message.objects.filter(lead=gone).update(lead=keep)
    moved["opportunities"] = Opportunity.objects.filter(lead=gone).update(lead=keep)

    lead_type = ContentType.objects.get_for_model(Lead)
    moved["work_items"] = WorkItem.objects.filter(content_type=lead_type, object_id=gone.pk).update(
        object_id=keep.pk
    )

    LeadImport.objects.filter(lead=gone, job__in=LeadImport.objects.filter(lead=keep).values("job")).delete()
    # The survivor was not created by the merged lead's imports: undoing one of them must not
    # delete it, so a "created" link arrives as "unchanged".
    LeadImport.objects.filter(lead=gone, action=LeadImport.Action.CREATED).update(
        action=LeadImport.Action.UNCHANGED
    )
    moved["import_links"] = LeadImport.objects.filter(lead=gone).update(lead=keep)

    moved["contact"] = 0
    if Contact.objects.filter(lead=gone).exists():
        if Contact.objects.filter(lead=keep).exists():
            moved["contact_unlinked"] = Contact.objects.filter(lead=gone).update(lead=None)
        else:
            moved["contact"] = Contact.objects.filter(lead=gone).update(lead=keep)

    tags = list(gone.tags.all())
    moved["tags"] = len(tags)
    keep.tags.add(*tags)

    moved["notifications"] = Notification.objects.filter(url=reverse("leads:detail", args=[gone.pk])).update(
        url=reverse("leads:detail", args=[keep.pk])
    )
    DismissedPair.objects.filter(kind=Kind.LEAD, first_id=gone.pk).delete()
    DismissedPair.objects.filter(kind=Kind.LEAD, second_id=gone.pk).delete()
    return moved


def _take_values(keep: Lead, gone: Lead, chosen: dict[str, str]) -> None:
    for key, fields in LEAD_FIELDS.items():
        if chosen.get(key) == "merged":
            for f in fields:
                setattr(keep, f, getattr(gone, f))
    keep.engagement_key = combined_engagement(keep.engagement_key, gone.engagement_key)
    keep.first_seen_at = min(keep.first_seen_at, gone.first_seen_at)
    keep.captured_at = min(keep.captured_at, gone.captured_at)
    if keep.mql_at and gone.mql_at and gone.mql_at < keep.mql_at:
        keep.mql_at = gone.mql_at
    keep.source_attributes = {**(gone.source_attributes or {}), **(keep.source_attributes or {})}
    fit = compute_fit(keep)
    keep.fit_score, keep.fit_grade = fit.score, fit.grade
