"""What the cadence email tests share: times in Berlin (the Inbound EMEA team's calendar, Monday
to Friday 9-17, CET in December 2026), a rep's own mailbox on the loopback SMTP server, a
cadence with email steps, and a lead of the rep's enrolled in it."""

from datetime import UTC, datetime

from leads.models import Lead
from mail.models import Mailbox, Security
from sdr.models import Cadence, CadenceStep
from sdr.services import cadences
from tests.factories import routed_lead
from tests.mailservers import HOST, SMTP_PORT, unique_address

# 30 Nov 2026 is a Monday; December is CET (UTC+1).
MON, TUE, WED, THU, FRI = 30, 1, 2, 3, 4


def berlin(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """``hour:minute`` in Berlin on ``day`` (30 is November, the others December 2026), in UTC."""
    month = 11 if day == 30 else 12
    return datetime(2026, month, day, hour - 1, minute, second, tzinfo=UTC)


def own_mailbox(user, *, pace: int = 0, daily_limit: int = 200, port: int = SMTP_PORT) -> Mailbox:
    """``user`` sends through the SMTP server on loopback (no TLS, no login), as a fresh address."""
    return Mailbox.objects.create(
        user=user,
        kind=Mailbox.Kind.OWN,
        from_name=user.get_full_name(),
        from_address=unique_address(user.username),
        smtp_host=HOST,
        smtp_port=port,
        smtp_security=Security.NONE,
        pace_seconds=pace,
        daily_limit=daily_limit,
    )


INTRO = (
    "{{ lead.company }} and speed to lead",
    "Hi {{ lead.first_name }},\n\nSee https://refinery.example/story\n\n{{ sender.name }}",
)


def email_cadence(
    name: str = "Email first",
    steps=((0, "email", True, *INTRO), (2, "call", False, "", "")),
    *,
    kind: str = Cadence.Kind.SALES,
    sender=None,
) -> Cadence:
    """A cadence of ``(day_offset, channel, automatic, subject, body)`` steps."""
    cadence = Cadence.objects.create(name=name, kind=kind, sender=sender)
    CadenceStep.objects.bulk_create(
        CadenceStep(
            cadence=cadence,
            position=i,
            day_offset=offset,
            channel=channel,
            automatic=automatic,
            subject=subject,
            body=body,
            instructions=f"Step {i}: {channel}",
        )
        for i, (offset, channel, automatic, subject, body) in enumerate(steps, start=1)
    )
    return cadence


def enrolled(owner, cadence: Cadence, at: datetime, **lead_fields) -> Lead:
    """A new lead in ``owner``'s queue (a fresh address), enrolled in ``cadence`` at ``at``."""
    fields = {"email": unique_address("prospect"), "first_name": "Ada", "company": "Globex"} | lead_fields
    lead = routed_lead(owner, now=at, **fields)
    cadences.enroll(lead_id=lead.pk, cadence_id=cadence.pk, by=owner, now=at)
    return lead
