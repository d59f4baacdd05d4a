"""Notifications: the services the stories replayed notified people as it happened (a routed
lead, a handoff and its answer, a renewal opened, a reply), and beat's first minute warns of
the SLAs about to breach. People read their news as it came, except the last day's: each
person starts with a few unread. The seed mails nobody: its notifications are history."""

from datetime import datetime, timedelta

from django.db.models import F

from notifications.models import Notification
from work.services import warn_due_timers

# What is older than this was read an hour after it came; of the rest, each person has at
# most this many unread (the newest).
READ_AFTER = timedelta(days=1)
UNREAD_AT_MOST = 5


def settle_notifications(now: datetime) -> None:
    warn_due_timers(now=now)
    unread = Notification.objects.filter(read_at__isnull=True)
    unread.filter(created_at__lt=now - READ_AFTER).update(read_at=F("created_at") + timedelta(hours=1))
    for recipient_id in set(unread.values_list("recipient_id", flat=True)):
        older = unread.filter(recipient_id=recipient_id).order_by("-created_at", "-id")[UNREAD_AT_MOST:]
        Notification.objects.filter(pk__in=list(older.values_list("pk", flat=True))).update(
            read_at=F("created_at") + timedelta(hours=1)
        )
    Notification.objects.filter(email=Notification.Email.PENDING).update(email=Notification.Email.NONE)
