"""Work items on their subjects: opening them (each due time computed in its team's calendar),
completing, cancelling and moving a subject's open items."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from ..models import SlaPolicy, WorkItem
from .timers import Schedules, due_times, warn_time


@dataclass
class NewItem:
    """What to open: the subject, why, for whom, and either a policy or a fixed due time."""

    subject: models.Model
    kind: str
    title: str
    owner_id: int | None
    team_id: int | None
    policy: SlaPolicy | None = None
    due_at: datetime | None = None
    note: str = ""
    # Count the policy's target from here instead of from now (a renewal is due a day after
    # its contract's last day begins, whenever the item was opened).
    start: datetime | None = None


def open_items(
    new: Sequence[NewItem], *, now: datetime | None = None, schedules: Schedules | None = None
) -> list[WorkItem]:
    """Open work items in one INSERT, each due time computed in its team's calendar."""
    if not new:
        return []
    now = now or timezone.now()
    schedules = (schedules or Schedules()).load(n.team_id for n in new)
    content_types = ContentType.objects.get_for_models(*{type(n.subject) for n in new})
    items = []
    for n in new:
        warn = None
        if n.policy is not None:
            schedule = schedules.for_team(n.team_id)
            due, reassign = due_times(n.policy, n.start or now, schedule)
            warn = warn_time(n.policy, n.start or now, schedule)
        elif n.due_at is not None:
            due, reassign = n.due_at, None
        else:
            raise ValueError("A work item needs a policy or a due time.")
        items.append(
            WorkItem(
                kind=n.kind,
                owner_id=n.owner_id,
                team_id=n.team_id,
                content_type=content_types[type(n.subject)],
                object_id=n.subject.pk,
                title=n.title[:200],
                note=n.note,
                policy=n.policy,
                created_at=now,
                due_at=due,
                reassign_at=reassign,
                warn_at=warn,
            )
        )
    return WorkItem.objects.bulk_create(items)


def subject_filter(model: type[models.Model], ids: Iterable[int]) -> Q:
    return Q(content_type=ContentType.objects.get_for_model(model), object_id__in=list(ids))


def complete_items(
    *,
    model: type[models.Model],
    subject_ids: Iterable[int],
    kinds: Sequence[str],
    by=None,
    now: datetime | None = None,
    due_by: datetime | None = None,
) -> list[WorkItem]:
    """Mark the subjects' open items of ``kinds`` done (those due by ``due_by`` only, if
    given); returns the items completed. Items already done are left alone, so completing
    twice is harmless."""
    now = now or timezone.now()
    qs = WorkItem.objects.open().filter(subject_filter(model, subject_ids), kind__in=kinds)
    if due_by is not None:
        qs = qs.filter(due_at__lte=due_by)
    with transaction.atomic():
        items = list(qs.select_for_update(of=("self",)))
        if not items:
            return []
        WorkItem.objects.filter(pk__in=[i.pk for i in items]).update(
            state=WorkItem.State.DONE, completed_at=now, completed_by=by, reassign_at=None
        )
    for item in items:
        item.state, item.completed_at, item.completed_by, item.reassign_at = (
            WorkItem.State.DONE,
            now,
            by,
            None,
        )
    return items


def cancel_items(
    *, model: type[models.Model], subject_ids: Iterable[int], now: datetime | None = None
) -> int:
    """Close every open item of the subjects without doing it (the lead left the queue)."""
    now = now or timezone.now()
    return (
        WorkItem.objects.open()
        .filter(subject_filter(model, subject_ids))
        .update(state=WorkItem.State.CANCELLED, completed_at=now, reassign_at=None)
    )


def move_items(
    *, model: type[models.Model], subject_ids: Iterable[int], owner_id: int | None, team_id: int | None
) -> int:
    """Give the subjects' open items to a new owner (or to a team's unassigned queue). Due
    times stay as promised: the prospect has been waiting the same time either way."""
    return (
        WorkItem.objects.open()
        .filter(subject_filter(model, subject_ids))
        .update(owner_id=owner_id, team_id=team_id)
    )
