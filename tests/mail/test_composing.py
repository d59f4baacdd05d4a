"""A rep's email from Refinery, sent for real through the SMTP server on loopback and read
back from the recipient's IMAP mailbox: it is a touch (first-touch timer stopped, on the
timeline with its body), it can wait for a time in the sender's business hours, and what
would make it wrong (another rep's lead, a blank merge field, a suppressed address) refuses it
before anything is saved. The team works Berlin hours, Monday to Friday 9-17; 2 Dec 2026 is a
Wednesday (CET)."""

from datetime import UTC, datetime, timedelta

import pytest

from kit.errors import Refused
from leads.models import Activity, ActivitySource, Lead
from mail import services
from mail.models import Message, Suppression
from tests.factories import routed_lead
from tests.mailservers import (
    mail_servers,  # noqa: F401
    unique_address,
    wait_for_messages,
)
from work.models import WorkItem

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # 11:00 in Berlin
pytestmark = [pytest.mark.usefixtures("frozen", "mail_servers"), pytest.mark.django_db]


@pytest.fixture(autouse=True)
def system_smtp(settings):
    """The installation's SMTP server is the one on loopback."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 10025
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""


@pytest.fixture
def lead(inbound_sdr):
    return routed_lead(
        inbound_sdr, now=NOW, email=unique_address("prospect"), first_name="Ada", company="Globex", title=""
    )


def test_a_sent_email_arrives_and_is_the_first_touch(inbound_sdr, lead):
    message = services.schedule_email(
        sender=inbound_sdr,
        lead_id=lead.pk,
        subject="{{ lead.company }} and your pipeline",
        body="Hi {{ lead.first_name }},\n\nTen minutes this week?\n\n{{ sender.name }}",
    )
    assert services.send_due().sent == 1

    [received] = wait_for_messages(lead.email, 1)
    assert received["Message-ID"] == Message.objects.get(pk=message.pk).message_id
    assert received["Subject"] == "Globex and your pipeline"
    assert "Hi Ada," in received.get_body(("plain",)).get_content()

    message.refresh_from_db()
    assert (message.status, message.sent_at) == (Message.Status.SENT, NOW)
    lead.refresh_from_db()
    assert lead.status == Lead.Status.WORKING
    assert not WorkItem.objects.open().for_subject(lead).filter(kind=WorkItem.Kind.FIRST_TOUCH).exists()
    touch = Activity.objects.get(lead=lead, kind="email")
    assert touch.source == ActivitySource.EMAIL and touch.actor == inbound_sdr
    assert touch.note.startswith("Globex and your pipeline\n\nHi Ada,")


def test_a_later_send_waits_for_its_time(inbound_sdr, lead, frozen):
    at = NOW + timedelta(hours=2)  # 13:00 in Berlin
    message = services.schedule_email(
        sender=inbound_sdr, lead_id=lead.pk, subject="Hi", body="Hello", send_at=at
    )
    assert services.send_due().sent == 0
    frozen.move_to(at)
    assert services.send_due().sent == 1
    assert Message.objects.get(pk=message.pk).sent_at == at


def test_a_time_outside_business_hours_is_refused_with_the_next_opening(inbound_sdr, lead):
    evening = datetime(2026, 12, 2, 19, 0, tzinfo=UTC)  # 20:00 in Berlin
    with pytest.raises(services.MailError) as refused:
        services.schedule_email(
            sender=inbound_sdr, lead_id=lead.pk, subject="Hi", body="Hello", send_at=evening
        )
    assert refused.value.field == "send_at"
    assert "Thu 3 Dec 2026, 09:00 CET" in str(refused.value)
    assert not Message.objects.exists()


def test_another_reps_lead_is_refused(other_sdr, lead):
    with pytest.raises(services.MailError, match="cannot email this lead"):
        services.schedule_email(sender=other_sdr, lead_id=lead.pk, subject="Hi", body="Hello")
    assert not Message.objects.exists()


def test_a_merge_field_without_a_value_saves_nothing(inbound_sdr, lead):
    with pytest.raises(Refused) as refused:
        services.schedule_email(
            sender=inbound_sdr, lead_id=lead.pk, subject="Hi", body="As {{ lead.title }}..."
        )
    assert refused.value.field == "body"
    assert not Message.objects.exists()


def test_a_suppressed_address_is_refused(inbound_sdr, lead):
    services.suppress(address=lead.email.upper(), reason=Suppression.Reason.UNSUBSCRIBED)
    with pytest.raises(services.MailError, match="unsubscribed"):
        services.schedule_email(sender=inbound_sdr, lead_id=lead.pk, subject="Hi", body="Hello")
    assert not Message.objects.exists()


def test_an_unsubscribe_before_the_send_cancels_it(inbound_sdr, lead, frozen):
    at = NOW + timedelta(hours=1)
    message = services.schedule_email(
        sender=inbound_sdr, lead_id=lead.pk, subject="Hi", body="Hello", send_at=at
    )
    services.suppress(address=lead.email, reason=Suppression.Reason.UNSUBSCRIBED)
    frozen.move_to(at)
    assert services.send_due().sent == 0
    message.refresh_from_db()
    assert message.status == Message.Status.CANCELLED and "unsubscribed" in message.error


def test_an_emailed_first_touch_counts_in_speed_to_lead(inbound_sdr, lead, frozen):
    from insight import facts
    from insight.models import LeadFact

    frozen.shift(15 * 60)
    services.schedule_email(sender=inbound_sdr, lead_id=lead.pk, subject="Hi", body="Hello")
    services.send_due()
    facts.refresh()
    fact = LeadFact.objects.get(lead=lead)
    assert fact.first_touch_at == NOW + timedelta(minutes=15)
