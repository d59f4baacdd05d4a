"""Writing notifications, reading them, and emailing the kinds each person chose.

``notify`` is what every app with news calls, inside the transaction that made the news (the
notification commits, or rolls back, with it). The email leaves after the commit, from a
worker (``send_pending_emails``), claimed first so it goes once.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kit.mailing import send_claimed
from team.models import User

from .models import DEFAULT_EMAIL_KINDS, Kind, Notification, Preference

logger = logging.getLogger(__name__)

EMAIL_BATCH = 100


@dataclass(frozen=True)
class News:
    """One notification to write: for whom, what kind, what happened and the page to open (a
    path inside Refinery to a page the recipient may see). ``key`` names the event when its
    trigger may fire twice, so the second time writes nothing."""

    recipient_id: int
    kind: str
    text: str
    url: str = ""
    key: str = ""


def _safe_path(url: str) -> str:
    # Only a path inside Refinery: opening a notification never leaves the site.
    return url if url.startswith("/") and not url.startswith("//") and "\\" not in url else ""


def notify(news: Iterable[News], *, by: User | int | None = None, now: datetime | None = None) -> int:
    """Write these notifications in one INSERT (those whose key was already notified are
    skipped; nobody is notified of what they did themselves) and, for the kinds each recipient
    chose, have them emailed after the commit. Call it inside the transaction that made the
    news. Returns how many were offered for writing."""
    by_id = by.pk if isinstance(by, User) else by
    items = [n for n in news if n.recipient_id and n.recipient_id != by_id]
    if not items:
        return 0
    now = now or timezone.now()
    emailed = email_kinds_for({n.recipient_id for n in items})
    rows = [
        Notification(
            recipient_id=n.recipient_id,
            kind=n.kind,
            text=n.text[:300],
            url=_safe_path(n.url)[:300],
            key=n.key[:100],
            created_at=now,
            email=Notification.Email.PENDING
            if n.kind in emailed.get(n.recipient_id, ())
            else Notification.Email.NONE,
        )
        for n in items
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if any(row.email == Notification.Email.PENDING for row in rows):
        transaction.on_commit(_enqueue_emails)
    return len(rows)


def _enqueue_emails() -> None:
    """Ask a worker to send the pending emails now; a broker outage only delays them (the beat
    runs the same task every minute)."""
    from .tasks import send_notification_emails

    try:
        send_notification_emails.delay()
    except Exception:  # the broker is down: the beat's run sends them
        logger.warning("Notification emails not queued; the periodic run sends them", exc_info=True)


def email_kinds_for(user_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    """The kinds each of these people gets by email (none without an address). Two queries."""
    ids = list(user_ids)
    chosen = dict(Preference.objects.filter(user_id__in=ids).values_list("user_id", "email_kinds"))
    return {
        pk: frozenset(chosen.get(pk, DEFAULT_EMAIL_KINDS)) if email else frozenset()
        for pk, email in User.objects.filter(pk__in=ids).values_list("pk", "email")
    }


def email_kinds(user: User) -> list[str]:
    """What ``user`` chose to get by email (the defaults until they choose)."""
    preference = Preference.objects.filter(user=user).first()
    return list(preference.email_kinds) if preference else [str(kind) for kind in DEFAULT_EMAIL_KINDS]


def set_email_kinds(*, user: User, kinds: Sequence[str]) -> Preference:
    """Save which kinds ``user`` also gets by email (unknown kinds are dropped)."""
    chosen = [kind for kind in Kind.values if kind in set(kinds)]
    preference, _ = Preference.objects.update_or_create(user=user, defaults={"email_kinds": chosen})
    return preference


def mark_read(*, user: User, notification_id: int, now: datetime | None = None) -> Notification | None:
    """Mark one of ``user``'s notifications read (already read: unchanged). None when it is not
    theirs or does not exist."""
    now = now or timezone.now()
    Notification.objects.for_recipient(user).filter(pk=notification_id, read_at__isnull=True).update(
        read_at=now
    )
    return Notification.objects.for_recipient(user).filter(pk=notification_id).first()


def mark_all_read(*, user: User, now: datetime | None = None) -> int:
    """Mark every unread notification of ``user`` read; returns how many."""
    return Notification.objects.for_recipient(user).unread().update(read_at=now or timezone.now())


# --- email ------------------------------------------------------------------------------------


def send_pending_emails(*, now: datetime | None = None) -> int:
    """Email every notification waiting for it, at most once: a batch is claimed (``SKIP
    LOCKED``, marked sent, committed) before any email goes out, as the breach escalations are;
    one the mail server refuses goes back to pending for the next run. Returns how many were
    sent."""
    now = now or timezone.now()
    sent = 0
    while True:
        with transaction.atomic():
            batch = list(
                Notification.objects.filter(email=Notification.Email.PENDING)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("recipient")
                .order_by("id")[:EMAIL_BATCH]
            )
            Notification.objects.filter(pk__in=[n.pk for n in batch]).update(
                email=Notification.Email.SENT, emailed_at=now
            )
        done = _send(batch)
        sent += done
        if len(batch) < EMAIL_BATCH or done < len(batch):
            return sent


def _send(batch: Sequence[Notification]) -> int:
    return send_claimed(
        [(n, _email(n)) for n in batch if n.recipient.email],
        give_back=lambda unsent: Notification.objects.filter(
            pk__in=[n.pk for n in unsent], email=Notification.Email.SENT
        ).update(email=Notification.Email.PENDING, emailed_at=None),
        what="notification emails",
    )


def _email(notification: Notification) -> EmailMessage:
    site = settings.SITE_URL.rstrip("/")
    lines = [notification.text, ""]
    if notification.url:
        lines.append(f"Open it: {site}{reverse('notifications:open', args=[notification.pk])}")
    lines += [
        "",
        f"All your notifications: {site}{reverse('notifications:list')}",
        f"Choose which come by email: {site}{reverse('notifications:settings')}",
    ]
    return EmailMessage(
        subject=f"[Refinery] {notification.text}"[:200],
        body="\n".join(lines),
        to=[notification.recipient.email],
    )
