"""A person's email to a lead or a contact: merged, checked and scheduled (sent at once, or at
a time within the sender's business hours)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Contact
from kit.display import when_text
from leads.models import Lead
from sdr.models import Channel, Enrollment
from team.zones import user_zone

from .. import merge, tracking
from ..access import may_email_contact, may_email_lead, templates_for
from ..models import Message
from .common import MailError
from .mailboxes import mailbox_for
from .sending import in_business_hours, next_opening, schedule
from .suppression import refuse_suppressed

# A "send at" this far in the past is a mistake in the form, not "now".
PAST_GRACE = timedelta(minutes=1)


@dataclass(frozen=True)
class Recipient:
    """Whom an email is to: a lead, or a contact (with its lead when it came from one)."""

    address: str
    lead: Lead | None = None
    contact: Contact | None = None

    @property
    def person(self) -> Lead | Contact:
        person = self.contact or self.lead
        assert person is not None
        return person

    @property
    def company(self) -> str:
        if self.contact is not None:
            return self.contact.account.name
        return self.lead.company if self.lead is not None else ""

    def __str__(self) -> str:
        return str(self.person)


def recipient_for(user, *, lead_id: int | None = None, contact_id: int | None = None) -> Recipient:
    """The recipient, if ``user`` may email it (``MailError`` otherwise: the views answer 404
    before this for what the user may not see)."""
    if contact_id is not None:
        contact = Contact.objects.select_related("account", "lead").filter(pk=contact_id).first()
        if contact is None or not may_email_contact(user, contact):
            raise MailError("You cannot email this contact.")
        return Recipient(address=contact.email, lead=contact.lead, contact=contact)
    if lead_id is not None:
        lead = Lead.objects.filter(pk=lead_id).first()
        if lead is None or not may_email_lead(user, lead):
            raise MailError("You cannot email this lead.")
        return Recipient(address=lead.email, lead=lead)
    raise MailError("Choose whom to email.")


def merge_values(user, recipient: Recipient) -> dict[str, str]:
    mailbox = mailbox_for(user)
    return merge.recipient_values(recipient.person, company=recipient.company) | merge.sender_values(
        user, signature=mailbox.signature, address=mailbox.from_address
    )


def preview(*, sender, recipient: Recipient, subject: str, body: str) -> merge.Rendered:
    """The email as the recipient will read it (``MergeError`` for a missing field)."""
    return merge.render(subject=subject, body=body, values=merge_values(sender, recipient))


def check_send_at(sender, send_at: datetime | None, now: datetime) -> datetime:
    if send_at is None:
        return now
    if send_at < now - PAST_GRACE:
        raise MailError("That time has passed; choose a later one or send now.", field="send_at")
    send_at = max(send_at, now)
    if not in_business_hours(sender, send_at):
        opening = when_text(next_opening(sender, send_at), user_zone(sender))
        raise MailError(
            f"That is outside your business hours; the next opening is {opening}.",
            field="send_at",
        )
    return send_at


def schedule_email(
    *,
    sender,
    lead_id: int | None = None,
    contact_id: int | None = None,
    subject: str,
    body: str,
    send_at: datetime | None = None,
    template_id: int | None = None,
    now: datetime | None = None,
    step_id: int | None = None,
) -> Message:
    """Merge, check and schedule a person's email (see ``sending`` for what happens next).
    Refuses, before anything is saved: a recipient the sender may not email, a merge field
    with no value, an empty subject or body, a suppressed address, a time outside the sender's
    business hours.

    With ``step_id`` (the composer opened from a cadence's email step), the email is that
    step's (linked to the lead's enrollment and the step, with the one-click unsubscribe every
    cadence email carries) while the lead's cadence is on that step; otherwise it is sent as an
    ordinary email. A step's email already scheduled or sent is refused; one that failed (an
    automatic attempt) stays on the timeline, unlinked."""
    now = now or timezone.now()
    recipient = recipient_for(sender, lead_id=lead_id, contact_id=contact_id)
    if not subject.strip():
        raise MailError("Write a subject.", field="subject")
    if not body.strip():
        raise MailError("Write the email.", field="body")
    rendered = preview(sender=sender, recipient=recipient, subject=subject, body=body)
    refuse_suppressed(recipient.address)
    when = check_send_at(sender, send_at, now)
    template = None
    if template_id is not None:
        template = templates_for(sender).filter(pk=template_id).first()
        if template is None:
            raise MailError("Choose one of your templates or a shared one.", field="template")
    mailbox = mailbox_for(sender)
    with transaction.atomic():
        enrollment = _step_enrollment(recipient, step_id) if step_id is not None else None
        return schedule(
            Message(
                mailbox=mailbox,
                sender=sender,
                lead=recipient.lead,
                contact=recipient.contact,
                template=template,
                enrollment=enrollment,
                step=enrollment.step if enrollment is not None else None,
                from_address=mailbox.from_header,
                to_address=recipient.address,
                subject=rendered.subject.strip(),
                body=rendered.body,
                tracked=tracking.tracking_enabled(),
                unsubscribe_link=enrollment is not None,
                send_at=when,
            ),
            now=now,
        )


def _step_enrollment(recipient: Recipient, step_id: int) -> Enrollment | None:
    """The recipient lead's enrollment, locked, when its cadence is on email step ``step_id``."""
    if recipient.lead is None:
        return None
    enrollment = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("step")
        .filter(
            lead=recipient.lead,
            state=Enrollment.State.ACTIVE,
            step_id=step_id,
            step__channel=Channel.EMAIL,
        )
        .first()
    )
    if enrollment is None:
        return None
    written = Message.objects.filter(enrollment=enrollment, step_id=step_id)
    if written.exclude(status__in=[Message.Status.FAILED, Message.Status.CANCELLED]).exists():
        raise MailError("This cadence step's email is already scheduled or sent.")
    written.update(step=None)  # a failed attempt stays on the timeline, no longer the step's
    return enrollment


def cancel_scheduled(*, message_id: int, by) -> Message:
    """The sender takes back an email not sent yet."""
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id, sender=by).first()
        if message is None:
            raise MailError("You cannot cancel this email.")
        if message.status != Message.Status.SCHEDULED:
            raise MailError(
                f"This email is {message.get_status_display().lower()}; it can no longer be cancelled."
            )
        message.status = Message.Status.CANCELLED
        message.error = f"Cancelled by {by}."
        message.save(update_fields=["status", "error"])
    return message
