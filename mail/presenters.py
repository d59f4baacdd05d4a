"""What the mail pages show of emails and addresses: an ``EmailLine`` per message (its state,
its time in the viewer's zone, the server's answer when it failed), and the suppression state
of an address, built without a query per row."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from kit.display import day_text, when_text

from .models import Message, Suppression


@dataclass(frozen=True)
class EmailLine:
    message: Message
    state: str  # for the style: scheduled, sending, sent, failed, cancelled, reply, auto_reply, ...
    label: str  # "Sent", "Scheduled", "Reply", ...
    when: str  # "sent Mon 7 Dec 2026, 14:30 CET", "to send Tue 8 Dec 2026, 09:00 CET"
    zone: str
    can_cancel: bool


def _moment(message: Message) -> tuple[str, datetime | None]:
    status = message.status
    if message.direction == Message.Direction.IN:
        return "received", message.received_at or message.created_at
    if status == Message.Status.SENT:
        return "sent", message.sent_at
    if status == Message.Status.SCHEDULED:
        return "to send", message.send_at
    if status == Message.Status.SENDING:
        return "sending since", message.claimed_at
    return "written", message.created_at


def email_line(message: Message, tz: ZoneInfo, viewer) -> EmailLine:
    if message.direction == Message.Direction.IN:
        state, label = message.kind, message.get_kind_display()
    else:
        state, label = message.status, message.get_status_display()
    what, at = _moment(message)
    return EmailLine(
        message=message,
        state=state,
        label=label,
        when=f"{what} {when_text(at, tz)}" if at else what,
        zone=tz.key,
        can_cancel=message.status == Message.Status.SCHEDULED and message.sender_id == viewer.pk,
    )


def email_lines(messages, tz: ZoneInfo, viewer) -> list[EmailLine]:
    return [email_line(message, tz, viewer) for message in messages]


def messages_about(*, lead_id: int | None = None, contact_id: int | None = None) -> QuerySet[Message]:
    """The emails about a lead (also those written to the contact it became) and/or a contact
    (give its lead too, when it has one), newest first."""
    where = Q(pk__in=[])
    if lead_id is not None:
        where |= Q(lead_id=lead_id) | Q(contact__lead_id=lead_id)
    if contact_id is not None:
        where |= Q(contact_id=contact_id)
    return Message.objects.filter(where).select_related("sender").order_by("-created_at", "-id")


@dataclass(frozen=True)
class AddressState:
    """Whether an address is on the suppression list, said as the lead's page says it."""

    address: str
    suppression: Suppression | None
    text: str


def address_state(address: str, row: Suppression | None, tz: ZoneInfo) -> AddressState:
    if row is None:
        return AddressState(address, None, "")
    day = day_text(row.at, tz)
    if row.reason == Suppression.Reason.UNSUBSCRIBED:
        text = f"Unsubscribed on {day}: nobody emails {row.address} again."
    elif row.reason == Suppression.Reason.BOUNCED:
        text = f"Bounces since {day}: {row.address} is not emailed until a manager takes it off the list."
    else:
        text = f"On the suppression list since {day}: {row.address} is not emailed."
    if row.detail:
        text += f" ({row.detail})"
    return AddressState(address, row, text)
