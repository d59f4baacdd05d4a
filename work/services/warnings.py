"""The SLA warning sweep (every minute, from beat): the owner of an open timer is told, before
it breaches, once its policy's share of the time has passed (``SlaPolicy.warn_at_share``; the
moment is fixed when the item opens, ``WorkItem.warn_at``, counted on the same clock as its
due time).

Exactly-once: the sweep claims due warnings with ``FOR UPDATE SKIP LOCKED`` and clears their
``warn_at`` in the same transaction as it writes the notifications, so two sweeps at once, or a
sweep run twice, warn each item once; the notification's key (the item and its due time) is
the second guard. An item already past due, breached, done, cancelled or waiting in a team's
unassigned queue is claimed and not warned.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from kit.display import when_text
from notifications.models import Kind
from notifications.services import News, notify

from ..models import WorkItem
from .timers import Schedules

WARN_BATCH = 500


def warn_due_timers(*, now: datetime | None = None, batch_size: int = WARN_BATCH) -> int:
    """Warn the owners of open timers past their warning time and not yet due; returns how
    many were warned. Safe to run twice or concurrently."""
    now = now or timezone.now()
    warned = 0
    while True:
        with transaction.atomic():
            claimed, count = _warn_batch(now, batch_size)
        warned += count
        if claimed < batch_size:
            return warned


def _warn_batch(now: datetime, limit: int) -> tuple[int, int]:
    ids = list(
        WorkItem.objects.filter(state=WorkItem.State.OPEN, warn_at__isnull=False, warn_at__lte=now)
        .select_for_update(skip_locked=True)
        .order_by("warn_at")
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return 0, 0
    WorkItem.objects.filter(pk__in=ids).update(warn_at=None)
    items = list(
        WorkItem.objects.filter(
            pk__in=ids, owner__isnull=False, breached_at__isnull=True, due_at__gt=now, policy__isnull=False
        )
        .select_related("policy")
        .prefetch_related("subject")
    )
    schedules = Schedules().load(item.team_id for item in items)
    news = []
    for item in items:
        assert item.owner_id is not None  # filtered above
        subject = item.subject
        url = (
            subject.get_absolute_url() if subject is not None and hasattr(subject, "get_absolute_url") else ""
        )
        news.append(
            News(
                recipient_id=item.owner_id,
                kind=Kind.SLA_WARNING,
                text=f"SLA about to breach: {item.title}, due {when_text(item.due_at, schedules.for_team(item.team_id).tz)}",
                url=url,
                key=f"workitem:{item.pk}:{item.due_at:%Y%m%d%H%M%S}",
            )
        )
    notify(news, now=now)
    return len(ids), len(news)
