"""What an email means for the lead it is about, written on the lead's timeline in the same
transaction as the message's new state:

- sent (by Refinery, or found in the rep's Sent folder): a touch by the sender. For a lead in
  the sender's queue it is ``sdr.services.log_touch`` (the first touch stops the first-touch
  SLA and moves the lead to working; a cadence step moves on); otherwise an email activity;
- a reply: an engagement activity (it raises the engagement score and can make a nurture lead
  an MQL) that ends the prospect's cadence or nurture track;
- an automatic reply: on the timeline only;
- a bounce or an unsubscribe: the cadence ends, and the address is on the suppression list.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from kit.errors import Refused
from leads.models import ActivityKind, ActivitySource, Lead, LeadEvent
from leads.services import IN_SALES, log_activity
from notifications.models import Kind
from notifications.services import News, notify
from sdr import services as sdr
from sdr.models import Cadence, Enrollment

from ..models import Message

NOTE_LENGTH = 2000


def lead_of(message: Message) -> int | None:
    if message.lead_id:
        return message.lead_id
    if message.contact is not None:
        return message.contact.lead_id
    return None


def summary(message: Message) -> str:
    """The timeline's text of an email: its subject, then its body, cut to fit."""
    text = f"{message.subject}\n\n{message.body.strip()}" if message.subject else message.body.strip()
    return text if len(text) <= NOTE_LENGTH else text[: NOTE_LENGTH - 1] + "…"


def record_sent(message: Message) -> None:
    """Inside the transaction that marked ``message`` sent."""
    lead_id = lead_of(message)
    if lead_id is None:
        return
    at = message.sent_at or timezone.now()
    note = summary(message)
    sender = message.sender
    status, owner_id = Lead.objects.filter(pk=lead_id).values_list("status", "owner_id").get()
    if sender is not None and status in IN_SALES and owner_id == sender.pk:
        try:
            with transaction.atomic():
                sdr.log_touch(
                    lead_id=lead_id,
                    by=sender,
                    kind=ActivityKind.EMAIL,
                    note=note,
                    now=at,
                    via=ActivitySource.EMAIL,
                )
            return
        except Refused:
            pass  # reassigned in between: still on the timeline, as an email activity
    nurture = message.enrollment is not None and message.enrollment.cadence.kind == Cadence.Kind.NURTURE
    log_activity(
        lead_id=lead_id,
        # A nurture track's email is marketing's, not a rep's touch.
        kind=ActivityKind.NURTURE_EMAIL if nurture else ActivityKind.EMAIL,
        via=ActivitySource.EMAIL,
        actor=sender,
        note=note,
        occurred_at=at,
    )
    if message.enrollment_id:
        # A nurture track's step (no SDR queue): move the track on.
        sdr.cadences.advance(lead_ids=[lead_id], by=None, now=at)


def record_reply(message: Message, *, now: datetime | None = None) -> None:
    """A prospect's reply (not an automatic one): engagement, and their cadence ends; its
    lead's owner (a contact's AM, else the mailbox's owner) is notified."""
    lead_id = lead_of(message)
    if lead_id is None:
        _notify_reply(message, None, now)
        return
    now = now or timezone.now()
    at = min(message.received_at or now, now)
    log_activity(
        lead_id=lead_id,
        kind=ActivityKind.EMAIL_REPLY,
        via=ActivitySource.EMAIL,
        note=summary(message),
        occurred_at=at,
    )
    sdr.cadences.end_enrollments(
        lead_ids=[lead_id], state=Enrollment.State.REPLIED, now=now, reason="an email reply"
    )
    _notify_reply(message, lead_id, now)


def _notify_reply(message: Message, lead_id: int | None, now: datetime | None) -> None:
    """ "A reply received", to whoever works the person now: the lead's owner (read after the
    reply's activity, which may just have routed it), else the contact's account manager, else
    the mailbox's owner; with the page that shows the reply on its timeline."""
    lead = Lead.objects.filter(pk=lead_id).only("pk", "owner_id").first() if lead_id else None
    account = message.contact.account if message.contact_id and message.contact else None
    recipient = (lead.owner_id if lead else None) or (account.account_manager_id if account else None)
    recipient = recipient or (message.mailbox.user_id if message.mailbox_id and message.mailbox else None)
    if recipient is None:
        return
    url = lead.get_absolute_url() if lead else (account.get_absolute_url() if account else "")
    who = message.from_address or "a prospect"
    notify(
        [
            News(
                recipient_id=recipient,
                kind=Kind.REPLY,
                text=f"Reply from {who}: {message.subject or '(no subject)'}",
                url=url,
                key=f"message:{message.pk}",
            )
        ],
        now=now,
    )


def record_auto_reply(message: Message, *, now: datetime | None = None) -> None:
    lead_id = lead_of(message)
    if lead_id is None:
        return
    LeadEvent.objects.create(
        lead_id=lead_id,
        kind=LeadEvent.Kind.UPDATED,
        at=message.received_at or now or timezone.now(),
        via=ActivitySource.EMAIL,
        message=f"Automatic reply (the cadence goes on): {message.subject}"[:500],
    )


def record_bounce(message: Message, reply: str, *, now: datetime | None = None) -> None:
    """``message`` (ours) bounced: its lead's cadence ends and the timeline says why."""
    lead_id = lead_of(message)
    if lead_id is None:
        return
    now = now or timezone.now()
    sdr.cadences.end_enrollments(
        lead_ids=[lead_id], state=Enrollment.State.BOUNCED, now=now, reason=f"{message.to_address} bounces"
    )
    LeadEvent.objects.create(
        lead_id=lead_id,
        kind=LeadEvent.Kind.UPDATED,
        at=now,
        via=ActivitySource.EMAIL,
        message=f"Email to {message.to_address} bounced: {reply}"[:500],
    )


def record_unsubscribe(*, lead_ids: list[int], address: str, now: datetime | None = None) -> None:
    now = now or timezone.now()
    sdr.cadences.end_enrollments(
        lead_ids=lead_ids, state=Enrollment.State.UNSUBSCRIBED, now=now, reason=f"{address} unsubscribed"
    )
    LeadEvent.objects.bulk_create(
        LeadEvent(
            lead_id=pk,
            kind=LeadEvent.Kind.UPDATED,
            at=now,
            via=ActivitySource.EMAIL,
            message=f"{address} unsubscribed: nobody emails it again.",
        )
        for pk in lead_ids
    )
