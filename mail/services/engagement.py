"""What a recipient does with an email: the first open (the pixel) and the first click are
engagement activities on the lead; an unsubscribe puts the address on the suppression list
and ends the cadence. Each is recorded once per email, whoever (a person, their mail client,
a link scanner) loads the URL again."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from leads.models import ActivityKind, ActivitySource, Lead
from leads.services import log_activity

from ..models import Message, Suppression
from .recording import lead_of, record_unsubscribe
from .suppression import suppress


def _first(message_id: int, field: str, now: datetime) -> Message | None:
    """Set ``field`` on a sent message if it is still empty: the caller records the activity
    only when this returns the message (a compare-and-swap, so twice is once)."""
    updated = Message.objects.filter(
        pk=message_id,
        direction=Message.Direction.OUT,
        status=Message.Status.SENT,
        **{f"{field}__isnull": True},
    ).update(**{field: now})
    return Message.objects.select_related("contact").filter(pk=message_id).first() if updated else None


def record_open(*, message_id: int, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    with transaction.atomic():
        message = _first(message_id, "opened_at", now)
        lead_id = lead_of(message) if message is not None else None
        if message is None or lead_id is None:
            return False
        log_activity(
            lead_id=lead_id,
            kind=ActivityKind.EMAIL_OPEN,
            via=ActivitySource.EMAIL,
            note=message.subject,
            occurred_at=now,
        )
    return True


def record_click(*, message_id: int, url: str, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    with transaction.atomic():
        message = _first(message_id, "clicked_at", now)
        lead_id = lead_of(message) if message is not None else None
        if message is None or lead_id is None:
            return False
        log_activity(
            lead_id=lead_id,
            kind=ActivityKind.EMAIL_CLICK,
            via=ActivitySource.EMAIL,
            note=f"{message.subject}: {url}"[:2000],
            occurred_at=now,
        )
    return True


def unsubscribe(*, message_id: int, now: datetime | None = None) -> str | None:
    """The recipient of ``message`` unsubscribes: their address is suppressed (once) and every
    lead with that address leaves its cadence. Returns the address, or None for an unknown
    message."""
    now = now or timezone.now()
    message = (
        Message.objects.select_related("contact")
        .filter(pk=message_id, direction=Message.Direction.OUT)
        .first()
    )
    if message is None:
        return None
    with transaction.atomic():
        _, new = suppress(
            address=message.to_address,
            reason=Suppression.Reason.UNSUBSCRIBED,
            detail="One-click unsubscribe",
            message=message,
            now=now,
        )
        if new:
            lead_ids = set(Lead.objects.filter(email__iexact=message.to_address).values_list("pk", flat=True))
            if (lead_id := lead_of(message)) is not None:
                lead_ids.add(lead_id)
            record_unsubscribe(lead_ids=sorted(lead_ids), address=message.to_address, now=now)
    return message.to_address
