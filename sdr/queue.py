"""The SDR's queue: open work items on leads, in the order a rep should work them.

Shared by the queue page and the API. Two queries whatever the queue's length: the items
(ordered with a join to their lead, last touch from a correlated subquery on the activity
index), and their leads.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.lookups import Exact
from django.utils import timezone

from leads.models import TOUCH_KINDS, Activity, Lead, ScoringSettings
from work.models import WorkItem
from work.services import at_risk_window

from .models import Channel, Enrollment

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

QUEUE_LIMIT = 200
# Items the rep scheduled (or a cadence did): due at their time, "later" before it.
SCHEDULED = (WorkItem.Kind.FOLLOW_UP, WorkItem.Kind.CADENCE_STEP)
# Items that ask the rep to look now: a handoff the AE sent back, a cadence that finished.
ASK_NOW = (WorkItem.Kind.HANDOFF_RETURNED, WorkItem.Kind.CADENCE_FINISHED)


class Bucket:
    """Why an item sits where it does in the queue (lower first)."""

    URGENT = 0  # breached, or due within the at-risk window
    HAND_RAISER = 1
    FOLLOW_UP_DUE = 2
    BY_GRADE = 3
    LATER = 4  # follow-ups not due yet
    SENDS_ITSELF = 5  # an automatic email step: Refinery sends it, the rep need not act

    LABELS = {
        URGENT: "Breached or at risk",
        HAND_RAISER: "Asked for a call",
        FOLLOW_UP_DUE: "Due now",
        BY_GRADE: "New leads by grade",
        LATER: "Scheduled later",
        SENDS_ITSELF: "Sends automatically",
    }


def sends_itself():
    """Whether a cadence-step item's step is an automatic email still to be sent by Refinery
    (not one that could not be and waits for the rep: ``Enrollment.manual_reason``)."""
    return Q(kind=WorkItem.Kind.CADENCE_STEP) & Exists(
        Enrollment.objects.filter(
            lead_id=OuterRef("object_id"),
            state=Enrollment.State.ACTIVE,
            step__automatic=True,
            step__channel=Channel.EMAIL,
            manual_reason="",
        )
    )


class QueueAnnotations(TypedDict):
    """What ``lead_items`` annotates on each work item."""

    bucket: int
    urgent_due: datetime | None
    lead_fit_grade: str
    lead_engagement_key: float
    learned: float | None
    last_touch_at: datetime | None
    last_touch_kind: str | None


def _bucket(now: datetime) -> Case:
    return Case(
        When(Q(policy__isnull=False, due_at__lte=now + at_risk_window()), then=Value(Bucket.URGENT)),
        When(sends_itself(), then=Value(Bucket.SENDS_ITSELF)),
        When(lead__hand_raiser=True, then=Value(Bucket.HAND_RAISER)),
        When(kind__in=ASK_NOW, then=Value(Bucket.FOLLOW_UP_DUE)),
        When(Q(kind__in=SCHEDULED, due_at__lte=now), then=Value(Bucket.FOLLOW_UP_DUE)),
        When(kind__in=SCHEDULED, then=Value(Bucket.LATER)),
        default=Value(Bucket.BY_GRADE),
        output_field=IntegerField(),
    )


def _learned_order() -> Case:
    """The lead's learned probability when the scoring settings say the queue orders by it
    (switched on only while the learned model beats the fit score, ``ScoringSettings.clean``),
    else nothing, so the grade decides. The switch is read inside the statement (an
    uncorrelated subquery PostgreSQL evaluates once): no query more for any queue."""
    switched_on = Subquery(ScoringSettings.objects.filter(pk=1).values("order_queue_by_propensity")[:1])
    return Case(
        When(Exact(switched_on, True), then=F("lead__propensity")),
        default=Value(None),
        output_field=FloatField(),
    )


def _open_lead_items() -> "QuerySet[WorkItem]":
    return WorkItem.objects.open().filter(content_type=ContentType.objects.get_for_model(Lead))


def lead_items(now: datetime | None = None) -> "QuerySet[WithAnnotations[WorkItem, QueueAnnotations]]":
    """Open work items on leads, annotated and ordered for a queue (filter by owner or
    team after)."""
    now = now or timezone.now()
    last_touch = Activity.objects.filter(lead=OuterRef("object_id"), kind__in=TOUCH_KINDS).order_by(
        "-occurred_at", "-id"
    )
    bucket = _bucket(now)
    return (
        _open_lead_items()
        .select_related("policy")
        .annotate(
            bucket=bucket,
            urgent_due=Case(When(bucket=Bucket.URGENT, then=F("due_at"))),
            lead_fit_grade=F("lead__fit_grade"),
            lead_engagement_key=F("lead__engagement_key"),
            learned=_learned_order(),
            last_touch_at=Subquery(last_touch.values("occurred_at")[:1]),
            last_touch_kind=Subquery(last_touch.values("kind")[:1]),
        )
        .order_by(
            "bucket",
            F("urgent_due").asc(nulls_last=True),
            F("learned").desc(nulls_last=True),
            "lead_fit_grade",
            "-lead_engagement_key",
            "due_at",
            "id",
        )
        .prefetch_related(GenericPrefetch("subject", [Lead.objects.select_related("campaign")]))
    )


def queue_for(owner, now: datetime | None = None) -> "QuerySet[WithAnnotations[WorkItem, QueueAnnotations]]":
    """One rep's queue."""
    return lead_items(now).filter(owner=owner)


def unassigned_for(
    team_ids, now: datetime | None = None
) -> "QuerySet[WithAnnotations[WorkItem, QueueAnnotations]]":
    """What waits in these teams' unassigned queues (for their manager)."""
    return lead_items(now).filter(owner__isnull=True, team_id__in=list(team_ids))


@dataclass(frozen=True)
class QueueSummary:
    """How many items wait in each bucket of a queue, and its fingerprint: what the queue
    page's live version (``kit.live``) is computed from. The fingerprint changes when an item
    joins or leaves the queue, moves to another bucket (a hand-raiser, a timer coming due) or
    changes policy (a tightened first-touch timer)."""

    counts: list[tuple[str, int, int]]  # (label, count, bucket) for every bucket
    fingerprint: tuple[object, ...]

    @property
    def total(self) -> int:
        return sum(n for _, n, _ in self.counts)


def queue_summary(owner, now: datetime | None = None) -> QueueSummary:
    """One grouped query over the whole queue (the open-queue index, and the leads' keys),
    without what only the rows need (last touches, ordering): the live endpoint asks it every
    few seconds for every open page, and compiling it is most of a 304's time."""
    rows = (
        _open_lead_items()
        .filter(owner=owner)
        .annotate(bucket=_bucket(now or timezone.now()))
        .order_by()
        .values("bucket")
        .annotate(n=Count("pk"), ids=Sum("pk"), last=Max("pk"), policies=Sum("policy_id"))
    )
    found = {row["bucket"]: row for row in rows}
    counts = [
        (label, found[bucket]["n"] if bucket in found else 0, bucket)
        for bucket, label in sorted(Bucket.LABELS.items())
    ]
    fingerprint = tuple(
        (bucket, row["n"], row["ids"], row["last"], row["policies"]) for bucket, row in sorted(found.items())
    )
    return QueueSummary(counts, fingerprint)
