"""Exactly once, and nothing lost, against the loopback SMTP server and the recipient's IMAP
INBOX: two workers sending one message deliver one copy; two step sweeps at once write one
email per step; an SMTP outage delays the email and it leaves once the server is back; a
temporary refusal is retried, then failed with the server's answer; a permanent one fails at
once and suppresses the address; a worker that dies after the server accepted an email has it
re-sent under the same Message-ID, and the email is sent (and touched) once."""

import socket
import threading
import time

import pytest

from leads.models import Activity
from mail import services
from mail.models import Message, Suppression
from mail.services import sending
from sdr.models import Enrollment
from sdr.services import log_touch
from tests.concurrency import run_concurrently
from tests.factories import routed_lead
from tests.mail.cadence_kit import WED, berlin, email_cadence, enrolled, own_mailbox
from tests.mailservers import (
    SMTP_PORT,
    imap_messages,
    mail_servers,  # noqa: F401
    unique_address,
    wait_for_messages,
)

NOW = berlin(WED, 11)
pytestmark = pytest.mark.usefixtures("frozen", "mail_servers")


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def a_lead(owner, prefix: str = "prospect"):
    return routed_lead(owner, now=NOW, email=unique_address(prefix), first_name="Ada", company="Globex")


def only(address: str) -> list:
    """The messages in ``address``'s INBOX once delivery has settled (a second copy, if any,
    would arrive within the wait)."""
    received = wait_for_messages(address, 1)
    time.sleep(0.5)
    return imap_messages(address) or received


# --- two workers, two sweeps -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_one_message_deliver_one_copy(inbound_sdr):
    own_mailbox(inbound_sdr)
    lead = a_lead(inbound_sdr)
    message = services.schedule_email(sender=inbound_sdr, lead_id=lead.pk, subject="Once", body="Only once.")

    outcomes = run_concurrently(
        lambda: services.send_message(message_id=message.pk),
        lambda: services.send_message(message_id=message.pk),
    )
    assert sorted(outcomes) == ["sent", "skipped"]
    [received] = only(lead.email)
    message.refresh_from_db()
    assert received["Message-ID"] == message.message_id
    assert (message.status, message.attempts) == (Message.Status.SENT, 1)
    assert Activity.objects.filter(lead=lead, kind="email").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_step_sweeps_at_once_write_one_email_per_step(inbound_sdr):
    own_mailbox(inbound_sdr)
    cadence = email_cadence()
    leads = [enrolled(inbound_sdr, cadence, NOW) for _ in range(6)]

    outcomes = run_concurrently(services.send_due_steps, services.send_due_steps)
    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert sum(o.scheduled for o in outcomes) == 6
    assert sorted(Message.objects.values_list("lead_id", flat=True)) == sorted(lead.pk for lead in leads)

    assert services.send_due().sent == 6
    for lead in leads[:2]:
        assert len(only(lead.email)) == 1


# --- outages and refusals ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_smtp_outage_delays_the_email_and_it_leaves_when_the_server_is_back(inbound_sdr, frozen):
    mailbox = own_mailbox(inbound_sdr, port=closed_port())
    lead = a_lead(inbound_sdr)
    message = services.schedule_email(sender=inbound_sdr, lead_id=lead.pk, subject="Hello", body="Hi Ada")

    assert services.send_due().outcomes == {"retry": 1}
    message.refresh_from_db()
    assert message.status == Message.Status.SCHEDULED
    assert message.send_at == NOW + services.sending.RETRY_DELAYS[0]
    assert "refused the connection" in message.error and message.attempts == 1
    assert services.send_due().outcomes == {}  # not before its time

    mailbox.smtp_port = SMTP_PORT
    mailbox.save(update_fields=["smtp_port"])
    frozen.shift(services.sending.RETRY_DELAYS[0].total_seconds())
    assert services.send_due().outcomes == {"sent": 1}
    [received] = only(lead.email)
    message.refresh_from_db()
    assert received["Message-ID"] == message.message_id
    assert (message.status, message.attempts, message.error) == (Message.Status.SENT, 2, "")


@pytest.mark.django_db
def test_a_temporary_refusal_is_retried_then_failed_with_the_servers_answer(inbound_sdr, frozen, settings):
    settings.MAIL_SEND_ATTEMPTS = 3
    own_mailbox(inbound_sdr)
    lead = a_lead(inbound_sdr, "tempfail")
    message = services.schedule_email(sender=inbound_sdr, lead_id=lead.pk, subject="Hello", body="Hi Ada")

    for delay in services.sending.RETRY_DELAYS[:2]:
        assert services.send_due().outcomes == {"retry": 1}
        message.refresh_from_db()
        assert message.status == Message.Status.SCHEDULED and message.error == "451 4.3.0 try again later"
        frozen.shift(delay.total_seconds())
    assert services.send_due().outcomes == {"failed": 1}
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and message.attempts == 3
    assert message.error == "Not sent after 3 attempts: 451 4.3.0 try again later"
    assert not Suppression.objects.exists()  # a temporary refusal says nothing of the address


@pytest.mark.django_db
def test_a_permanent_refusal_fails_at_once_suppresses_the_address_and_ends_the_cadence(inbound_sdr):
    own_mailbox(inbound_sdr)
    lead = enrolled(inbound_sdr, email_cadence(), NOW, email=unique_address("reject"))
    services.send_due_steps()

    assert services.send_due().outcomes == {"failed": 1}
    message = Message.objects.get(lead=lead)
    assert message.status == Message.Status.FAILED and message.attempts == 1
    assert message.error == "The server refused it: 550 5.1.1 mailbox unavailable"
    row = Suppression.objects.get()
    assert (row.address, row.reason) == (lead.email, Suppression.Reason.BOUNCED)
    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.BOUNCED
    with pytest.raises(services.MailError, match="bounces"):
        services.schedule_email(sender=inbound_sdr, lead_id=lead.pk, subject="Again", body="Hi")


# --- a crash after the server accepted ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_crash_after_the_server_accepted_is_resent_under_the_same_message_id(
    inbound_sdr, frozen, monkeypatch
):
    own_mailbox(inbound_sdr)
    lead = enrolled(inbound_sdr, email_cadence(), NOW)
    services.send_due_steps()
    message = Message.objects.get(lead=lead)

    def killed(message):
        raise RuntimeError("the worker died before committing the send")

    # The server has the email; the process dies before ``sending -> sent`` commits.
    monkeypatch.setattr("mail.services.recording.record_sent", killed)
    with pytest.raises(RuntimeError, match="worker died"):
        services.send_message(message_id=message.pk)
    monkeypatch.undo()
    message.refresh_from_db()
    assert (message.status, message.claimed_at) == (Message.Status.SENDING, NOW)
    wait_for_messages(lead.email, 1)

    frozen.shift(5 * 60)
    assert services.send_due().outcomes == {}  # a send claimed 5 minutes ago may still be running
    frozen.shift(6 * 60)
    assert services.send_due().outcomes == {"sent": 1}  # recovered after 10 minutes, re-sent
    copies = wait_for_messages(lead.email, 2)
    assert {copy["Message-ID"] for copy in copies} == {message.message_id}  # one email to the reader
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.SENT, 2)
    assert Activity.objects.filter(lead=lead, kind="email").count() == 1  # touched once
    assert Enrollment.objects.get(lead=lead).step.position == 2
    frozen.shift(11 * 60)
    assert services.send_due().outcomes == {}


@pytest.mark.django_db
def test_a_password_no_key_can_read_fails_the_email_with_what_to_do(inbound_sdr, settings):
    from cryptography.fernet import Fernet

    from mail import crypto

    mailbox = own_mailbox(inbound_sdr)
    settings.MAIL_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    crypto.keys_changed()
    try:
        mailbox.smtp_username, mailbox.smtp_password = "sam", "app-password"
        mailbox.save()
        settings.MAIL_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the key was changed
        crypto.keys_changed()
        lead = routed_lead(inbound_sdr, email=unique_address("prospect"))
        message = services.schedule_email(sender=inbound_sdr, lead_id=lead.pk, subject="Hi", body="Hello")
        assert services.send_message(message_id=message.pk) == services.Outcome.FAILED
    finally:
        crypto.keys_changed()
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert "enter it again" in message.error


@pytest.mark.django_db(transaction=True)
def test_a_rep_logging_a_touch_does_not_wait_for_a_claim_of_their_mailbox(inbound_sdr, monkeypatch):
    own_mailbox(inbound_sdr)
    message = services.schedule_email(
        sender=inbound_sdr, lead_id=a_lead(inbound_sdr).pk, subject="Held", body="A slow claim."
    )
    other = a_lead(inbound_sdr, "other")
    claiming, touched = threading.Event(), threading.Event()
    touch_done_during_claim = []
    pace = sending._pace

    def slow_pace(mailbox, now):  # the claim, mailbox locked, takes its time
        claiming.set()
        touch_done_during_claim.append(touched.wait(5))
        return pace(mailbox, now)

    monkeypatch.setattr(sending, "_pace", slow_pace)

    def touch():
        assert claiming.wait(30)
        log_touch(lead_id=other.pk, by=inbound_sdr, kind="call", outcome="connected")
        touched.set()

    sent, _ = run_concurrently(lambda: services.send_message(message_id=message.pk), touch)

    # The touch committed while the claim still held the mailbox: its activity refers to the
    # rep, whose row the claim no longer locks.
    assert touch_done_during_claim == [True]
    assert sent == services.Outcome.SENT
    assert Activity.objects.filter(lead=other).count() == 1
