"""Escalation emails: each breach whose policy escalates is emailed to its team's manager, at
most once (claimed in the database before the mail goes out)."""

from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from kit.display import when_text
from kit.mailing import send_claimed
from team.zones import user_zone

from ..models import Breach

ESCALATION_BATCH = 200


def escalate_breaches(*, now: datetime | None = None) -> int:
    """Email each pending breach to its team's manager, at most once.

    Claim first, then send. A batch of pending breaches is claimed (``SKIP LOCKED``, marked
    sent, committed) before any mail goes out, so two sweeps never send the same breach, and a
    worker killed after sending can never send it again. A mail server that refuses a message
    puts that breach and the rest of the batch back to pending for the next sweep. A worker
    killed between the claim and the send loses those emails rather than duplicating them: the
    breach itself is recorded and on the manager's breach review (where managers land) either
    way, and a manager emailed twice for one breach learns to ignore the emails.
    """
    now = now or timezone.now()
    sent = 0
    while True:
        claimed, to_send = _claim_escalations(now)
        done = _send_escalations(to_send)
        sent += done
        if claimed < ESCALATION_BATCH or done < len(to_send):
            return sent  # all claimed, or the mail server refused: the next sweep goes on


def _claim_escalations(now: datetime) -> tuple[int, list[tuple[Breach, EmailMessage]]]:
    """Mark a batch of pending breaches sent (or without a manager) and commit; return how
    many were claimed, and the breaches to email with their messages."""
    with transaction.atomic():
        batch = list(
            Breach.objects.filter(escalation=Breach.Escalation.PENDING)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("policy", "owner", "team__manager", "work_item")
            .prefetch_related("work_item__subject")
            .order_by("id")[:ESCALATION_BATCH]
        )
        to_send, no_manager = [], []
        for breach in batch:
            manager = breach.team.manager if breach.team else None
            if manager is None or not manager.email:
                no_manager.append(breach.pk)
            else:
                to_send.append((breach, _escalation_email(breach, manager)))
        Breach.objects.filter(pk__in=[breach.pk for breach, _ in to_send]).update(
            escalation=Breach.Escalation.SENT, escalated_at=now
        )
        Breach.objects.filter(pk__in=no_manager).update(escalation=Breach.Escalation.NO_MANAGER)
    return len(batch), to_send


def _send_escalations(pairs: list[tuple[Breach, EmailMessage]]) -> int:
    """Send the claimed emails one by one; on a refusal (the mail server is down, say), give
    the unsent breaches back to the next sweep. Returns how many were sent."""
    return send_claimed(
        pairs,
        give_back=lambda unsent: Breach.objects.filter(
            pk__in=[breach.pk for breach in unsent], escalation=Breach.Escalation.SENT
        ).update(escalation=Breach.Escalation.PENDING, escalated_at=None),
        what="escalation emails",
    )


def _escalation_email(breach: Breach, manager) -> EmailMessage:
    item = breach.work_item
    subject_obj = item.subject
    owner = breach.owner or "nobody (unassigned)"
    url = ""
    if subject_obj is not None and hasattr(subject_obj, "get_absolute_url"):
        url = settings.SITE_URL.rstrip("/") + subject_obj.get_absolute_url()
    lines = [
        f"{item.get_kind_display()} on {subject_obj or item.title} missed its SLA.",
        "",
        f"Policy:  {breach.policy.name} ({breach.policy.describe()})",
        f"Owner:   {owner}",
        f"Team:    {breach.team}",
        f"Due:     {when_text(breach.due_at, user_zone(manager))}",
        f"Why:     {item.title}",
    ]
    if url:
        lines += ["", f"Open it: {url}"]
    lines += ["", f"Review breaches: {settings.SITE_URL.rstrip('/')}/work/breaches/"]
    return EmailMessage(
        subject=f"[Refinery] SLA breached: {item.get_kind_display().lower()} for {subject_obj or item.title}",
        body="\n".join(lines),
        to=[manager.email],
    )
