"""Reading mail back over IMAP (mail.services.polling) against the real Dovecot on loopback:
a prospect's reply ends their cadence and raises their engagement, an out-of-office does
not, a bounce suppresses the address, the Sent folder is a touch, and nothing is read twice
or lost when the server is down, the password is wrong, the folder is renumbered or two
pollers run at once. Tom (an outbound SDR, Berlin calendar) reads his own mailbox."""

import threading
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid

import pytest
import time_machine
from django.db import connection, transaction

from leads.models import ActivityKind, ActivitySource, Lead, LeadEvent, ScoringSettings
from leads.scoring import engagement_key, engagement_value
from mail import services, tasks
from mail.models import FolderState, Mailbox, Message, Security, Suppression
from mail.services import MailError
from sdr import services as sdr
from sdr.models import Cadence, CadenceStep, Enrollment
from sdr.services import cadences
from tests.concurrency import run_concurrently
from tests.factories import LeadFactory, UserFactory, open_steps, routed_lead
from tests.mail.messages import dsn, email
from tests.mailservers import PASSWORD, imap_append, mail_servers, unique_address  # noqa: F401

pytestmark = pytest.mark.usefixtures("mail_servers", "frozen")

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Berlin
CLOSED_PORT = 1  # nothing listens on 127.0.0.1:1


def own_mailbox(user, **fields) -> Mailbox:
    """``user``'s own mailbox on the test Dovecot (a fresh IMAP user)."""
    address = unique_address("tom")
    settings = {
        "kind": Mailbox.Kind.OWN,
        "from_name": user.get_full_name(),
        "from_address": address,
        "smtp_host": "127.0.0.1",
        "smtp_port": 10025,
        "smtp_security": Security.NONE,
        "imap_host": "127.0.0.1",
        "imap_port": 10143,
        "imap_security": Security.NONE,
        "imap_username": address,
    }
    mailbox = Mailbox(user=user, **(settings | fields))
    mailbox.imap_password = PASSWORD
    mailbox.save()
    return mailbox


@pytest.fixture
def mailbox(outbound_sdr):
    return own_mailbox(outbound_sdr)


@pytest.fixture
def cadence(db):
    cadence = Cadence.objects.create(name="Outbound 3 touches")
    CadenceStep.objects.bulk_create(
        CadenceStep(cadence=cadence, position=i, day_offset=offset, channel=channel)
        for i, (offset, channel) in enumerate(((0, "email"), (2, "call"), (5, "email")), start=1)
    )
    return cadence


def prospect(owner, cadence=None, **fields) -> Lead:
    """A lead in ``owner``'s queue, touched once yesterday, enrolled in ``cadence`` now."""
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        lead = routed_lead(owner, **fields)
        sdr.log_touch(lead_id=lead.pk, by=owner, kind="call")
    if cadence is not None:
        cadences.enroll(lead_id=lead.pk, cadence_id=cadence.pk, by=owner)
    return Lead.objects.get(pk=lead.pk)


def sent_email(mailbox: Mailbox, lead: Lead, **fields) -> Message:
    """An email Refinery sent to ``lead`` from ``mailbox`` an hour ago."""
    fields = {"status": Message.Status.SENT, "sent_at": NOW - timedelta(hours=1), **fields}
    return Message.objects.create(
        direction=Message.Direction.OUT,
        mailbox=mailbox,
        sender=mailbox.user,
        lead=lead,
        from_address=mailbox.from_address,
        to_address=lead.email,
        subject="Quick question",
        body="Hi, would Thursday work?",
        message_id=make_msgid(domain="refinery.test"),
        **fields,
    )


def reply(lead: Lead, mailbox: Mailbox, **fields) -> bytes:
    return email(
        sender=f"{lead.first_name} <{lead.email}>", to=mailbox.from_address, **({"date": NOW} | fields)
    )


def poll(mailbox: Mailbox, **kwargs) -> services.PollResult:
    return services.poll_mailbox(mailbox_id=mailbox.pk, **kwargs)


def engagement(lead: Lead) -> float:
    lead.refresh_from_db()
    return engagement_value(lead.engagement_key, NOW)


def emails(lead: Lead):
    """The email touches and activities on the lead, oldest first."""
    return lead.activities.filter(kind=ActivityKind.EMAIL).order_by("occurred_at", "pk")


def replies(lead: Lead):
    return lead.activities.filter(kind=ActivityKind.EMAIL_REPLY)


# --- replies ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_reply_to_our_email_ends_the_cadence_and_raises_engagement(mailbox, cadence):
    lead = prospect(mailbox.user, cadence)
    [step] = open_steps(lead)
    ours = sent_email(mailbox, lead)
    before = engagement(lead)
    imap_append(
        mailbox.imap_username, reply(lead, mailbox, in_reply_to=ours.message_id, body="Thursday works.")
    )

    result = poll(mailbox)

    assert result.count("reply") == 1 and not result.error
    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.REPLIED
    step.refresh_from_db()
    assert step.state == step.State.CANCELLED and open_steps(lead) == []
    [activity] = replies(lead)
    assert activity.points == 20 and "Thursday works." in activity.note
    assert engagement(lead) == pytest.approx(before + 20)
    stored = Message.objects.get(direction=Message.Direction.IN, lead=lead)
    assert stored.kind == Message.Kind.REPLY and stored.status == Message.Status.RECEIVED
    assert stored.in_reply_to == ours.message_id and stored.body == "Thursday works."
    assert stored.mailbox == mailbox and stored.received_at == NOW


@pytest.mark.django_db
def test_a_reply_matched_only_by_its_senders_address(mailbox, cadence):
    lead = prospect(mailbox.user, cadence, email="ada@prospect.example")
    raw = email(sender="Ada <ADA@prospect.example>", to=mailbox.from_address, subject="Hello", date=NOW)
    imap_append(mailbox.imap_username, raw)

    assert poll(mailbox).count("reply") == 1

    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.REPLIED
    assert replies(lead).count() == 1


@pytest.mark.django_db
def test_a_reply_from_a_contact_is_recorded_on_the_contact_and_its_lead(mailbox, cadence, ae):
    from accounts.models import Account, Contact

    lead = prospect(mailbox.user, cadence)
    contact = Contact.objects.create(
        account=Account.objects.create(name="Prospect Inc"),
        lead=lead,
        email="cfo@prospect.example",
        first_name="Cleo",
    )
    imap_append(mailbox.imap_username, email(sender="cfo@prospect.example", to=mailbox.from_address))

    assert poll(mailbox).count("reply") == 1

    stored = Message.objects.get(direction=Message.Direction.IN)
    assert (stored.contact, stored.lead) == (contact, lead)
    assert replies(lead).count() == 1


@pytest.mark.django_db
def test_an_out_of_office_neither_ends_the_cadence_nor_adds_engagement(mailbox, cadence):
    lead = prospect(mailbox.user, cadence)
    ours = sent_email(mailbox, lead)
    before = engagement(lead)
    imap_append(
        mailbox.imap_username,
        reply(
            lead,
            mailbox,
            subject="Out of office: Quick question",
            body="I am away until Monday.",
            in_reply_to=ours.message_id,
            Auto_Submitted="auto-replied",
        ),
    )

    assert poll(mailbox).count("auto_reply") == 1

    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.ACTIVE
    assert len(open_steps(lead)) == 1
    assert not replies(lead).exists() and engagement(lead) == pytest.approx(before)
    assert Message.objects.get(direction=Message.Direction.IN).kind == Message.Kind.AUTO_REPLY
    assert LeadEvent.objects.filter(lead=lead, message__startswith="Automatic reply").exists()


@pytest.mark.django_db
def test_a_bounce_suppresses_the_address_ends_the_cadence_and_refuses_the_next_email(mailbox, cadence):
    lead = prospect(mailbox.user, cadence)
    ours = sent_email(mailbox, lead)
    imap_append(
        mailbox.imap_username, dsn(to=mailbox.from_address, recipient=lead.email, original_id=ours.message_id)
    )

    assert poll(mailbox).count("bounce") == 1

    suppression = Suppression.objects.get(address=lead.email)
    assert suppression.reason == Suppression.Reason.BOUNCED and "550 5.1.1" in suppression.detail
    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.BOUNCED and open_steps(lead) == []
    ours.refresh_from_db()
    assert ours.status == Message.Status.SENT and ours.error.startswith("Bounced: 550 5.1.1")
    assert Message.objects.get(direction=Message.Direction.IN).kind == Message.Kind.BOUNCE
    assert not replies(lead).exists()
    with pytest.raises(MailError, match="bounces"):
        services.schedule_email(sender=mailbox.user, lead_id=lead.pk, subject="Again", body="Hello again")


@pytest.mark.django_db
def test_a_bounce_naming_only_its_recipient_finds_our_last_email_to_it(mailbox, cadence):
    lead = prospect(mailbox.user, cadence)
    ours = sent_email(mailbox, lead)
    imap_append(mailbox.imap_username, dsn(to=mailbox.from_address, recipient=lead.email.upper()))

    assert poll(mailbox).count("bounce") == 1

    assert Suppression.objects.filter(address=lead.email).exists()
    ours.refresh_from_db()
    assert ours.error.startswith("Bounced:")


@pytest.mark.django_db
def test_a_nurture_lead_whose_reply_crosses_the_mql_threshold_becomes_an_mql(mailbox):
    settings = ScoringSettings.load()
    below = settings.mql_threshold - 15  # the reply's 20 points lift it over
    lead = LeadFactory(
        status=Lead.Status.NURTURE, engagement_key=engagement_key(below, NOW, settings.half_life_days)
    )
    imap_append(mailbox.imap_username, reply(lead, mailbox))

    poll(mailbox)

    lead.refresh_from_db()
    assert lead.status == Lead.Status.MQL and lead.mql_at == NOW
    assert engagement(lead) == pytest.approx(below + 20) and engagement(lead) >= settings.mql_threshold


@pytest.mark.django_db
def test_a_message_from_an_unknown_sender_is_not_stored(mailbox):
    imap_append(mailbox.imap_username, email(sender="stranger@elsewhere.example", to=mailbox.from_address))

    result = poll(mailbox)

    assert result.count("ignored") == 1 and not Message.objects.exists()
    assert FolderState.objects.get(mailbox=mailbox, folder="INBOX").last_uid == 1


@pytest.mark.django_db
def test_mail_from_before_the_mailbox_was_connected_is_passed_over(mailbox, cadence):
    lead = prospect(mailbox.user, cadence)
    imap_append(mailbox.imap_username, reply(lead, mailbox, date=NOW - timedelta(days=400)))
    imap_append(mailbox.imap_username, reply(lead, mailbox, date=NOW - timedelta(hours=20)))

    result = poll(mailbox)

    assert result.count("old") == 1 and result.count("reply") == 1
    assert replies(lead).count() == 1


@pytest.mark.django_db
def test_an_untrusted_certificate_is_refused_and_said(outbound_sdr):
    mailbox = own_mailbox(outbound_sdr, imap_port=10993, imap_security=Security.SSL)

    result = poll(mailbox)

    mailbox.refresh_from_db()
    assert "TLS failed" in result.error and "CERTIFICATE_VERIFY_FAILED" in mailbox.check_error


@pytest.mark.django_db
def test_the_reps_own_messages_in_the_inbox_are_not_replies(mailbox, cadence):
    lead = prospect(mailbox.user, cadence)
    ours = sent_email(mailbox, lead)
    raw = email(sender=mailbox.from_address, to=lead.email, in_reply_to=ours.message_id)
    imap_append(mailbox.imap_username, raw)

    poll(mailbox)

    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.ACTIVE
    assert not Message.objects.filter(direction=Message.Direction.IN).exists()


# --- never twice, never lost ------------------------------------------------------------------


@pytest.mark.django_db
def test_polling_twice_records_once(mailbox, cadence):
    lead = prospect(mailbox.user, cadence)
    imap_append(mailbox.imap_username, reply(lead, mailbox))

    first, second = poll(mailbox), poll(mailbox)

    assert first.count("reply") == 1 and second.count("read") == 0
    assert replies(lead).count() == 1
    assert Message.objects.filter(direction=Message.Direction.IN).count() == 1


@pytest.mark.django_db
def test_a_changed_uidvalidity_reads_the_folder_again_without_duplicates(mailbox, cadence):
    lead = prospect(mailbox.user, cadence)
    imap_append(mailbox.imap_username, reply(lead, mailbox))
    imap_append(mailbox.imap_username, email(sender="stranger@elsewhere.example", to=mailbox.from_address))
    poll(mailbox)
    FolderState.objects.filter(mailbox=mailbox, folder="INBOX").update(uidvalidity=12345)

    again = poll(mailbox)

    [inbox] = [f for f in again.folders if f.folder == "INBOX"]
    assert inbox.counts == {"restarted": 1, "read": 2, "duplicate": 1, "ignored": 1}
    assert replies(lead).count() == 1
    assert Message.objects.filter(direction=Message.Direction.IN).count() == 1
    assert FolderState.objects.get(mailbox=mailbox, folder="INBOX").uidvalidity != 12345


@pytest.mark.django_db
def test_new_messages_are_read_in_batches_each_moving_the_position(mailbox):
    leads = [LeadFactory() for _ in range(5)]
    for lead in leads:
        imap_append(mailbox.imap_username, reply(lead, mailbox))

    result = poll(mailbox, batch_size=2)

    assert result.count("reply") == 5
    assert FolderState.objects.get(mailbox=mailbox, folder="INBOX").last_uid == 5
    assert all(replies(lead).count() == 1 for lead in leads)


@pytest.mark.django_db
def test_an_unreachable_server_is_recorded_and_the_next_poll_reads_everything(mailbox, cadence):
    lead = prospect(mailbox.user, cadence)
    poll(mailbox)  # the folders' positions exist
    imap_append(mailbox.imap_username, reply(lead, mailbox))
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=CLOSED_PORT)

    down = poll(mailbox)

    mailbox.refresh_from_db()
    assert "refused the connection" in down.error and mailbox.check_error == down.error
    assert mailbox.checked_at == NOW
    assert FolderState.objects.get(mailbox=mailbox, folder="INBOX").error == down.error
    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.ACTIVE

    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=10143)
    up = poll(mailbox)

    assert up.count("reply") == 1 and not up.error
    mailbox.refresh_from_db()
    assert mailbox.check_error == "" and FolderState.objects.get(mailbox=mailbox, folder="INBOX").error == ""
    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.REPLIED


@pytest.mark.django_db
def test_a_wrong_password_is_recorded_without_the_password_and_the_next_poll_reads_everything(
    mailbox, cadence
):
    lead = prospect(mailbox.user, cadence)
    imap_append(mailbox.imap_username, reply(lead, mailbox))
    mailbox.imap_password = "not-the-password"
    mailbox.save()

    down = poll(mailbox)

    mailbox.refresh_from_db()
    assert "refused the login" in mailbox.check_error and "not-the-password" not in mailbox.check_error
    assert not replies(lead).exists()

    mailbox.imap_password = PASSWORD
    mailbox.save()
    assert poll(mailbox).count("reply") == 1 and replies(lead).count() == 1
    assert down.count("read") == 0


@pytest.mark.django_db
def test_a_missing_sent_folder_is_reported_and_the_inbox_still_read(outbound_sdr):
    mailbox = own_mailbox(outbound_sdr, sent_folder="Sent Items")
    lead = LeadFactory()
    imap_append(mailbox.imap_username, reply(lead, mailbox))

    result = poll(mailbox)

    assert result.count("reply") == 1
    assert "Sent Items" in result.error
    mailbox.refresh_from_db()
    assert "Sent Items" in mailbox.check_error


@pytest.mark.django_db
def test_one_failing_mailbox_does_not_stop_the_others(mailbox, other_sdr):
    broken = own_mailbox(other_sdr, imap_port=CLOSED_PORT)
    Mailbox.objects.create(user=UserFactory(), from_address=unique_address())  # a system mailbox
    lead = LeadFactory()
    imap_append(mailbox.imap_username, reply(lead, mailbox))

    results = tasks.poll_mailboxes()

    assert set(results) == {mailbox.pk, broken.pk}  # a system mailbox is not read
    assert "refused the connection" in results[broken.pk]["error"]
    assert results[mailbox.pk]["folders"]["INBOX"]["reply"] == 1
    assert replies(lead).count() == 1


@pytest.mark.django_db
def test_the_task_polls_one_mailbox_by_id(mailbox):
    lead = LeadFactory()
    imap_append(mailbox.imap_username, reply(lead, mailbox))

    assert tasks.poll_mailbox(mailbox.pk)["folders"]["INBOX"] == {"read": 1, "reply": 1}
    assert tasks.poll_mailbox(mailbox.pk)["folders"]["INBOX"] == {}


# --- the Sent folder ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_email_the_rep_sent_from_their_mail_client_is_a_touch_once(mailbox, cadence):
    lead = prospect(mailbox.user, cadence)
    touches = emails(lead).count()
    [step] = open_steps(lead)
    raw = email(
        sender=mailbox.from_address,
        to=f"Ada <{lead.email}>",
        subject="Following up",
        body="Hi Ada, following up on my call.",
        date=NOW - timedelta(minutes=5),
    )
    imap_append(mailbox.imap_username, raw, folder="Sent")

    first, second = poll(mailbox), poll(mailbox)

    assert first.count("sent") == 1 and second.count("read") == 0
    stored = Message.objects.get(kind=Message.Kind.SENT_ELSEWHERE)
    assert stored.direction == Message.Direction.IN and stored.status == Message.Status.SENT
    assert (
        stored.sender == mailbox.user and stored.lead == lead and stored.sent_at == NOW - timedelta(minutes=5)
    )
    [touch] = emails(lead)[touches:]
    assert touch.actor == mailbox.user and touch.source == ActivitySource.EMAIL
    assert touch.occurred_at == NOW - timedelta(minutes=5) and "following up on my call" in touch.note
    step.refresh_from_db()
    assert step.state == step.State.DONE  # the touch did the cadence's email step

    FolderState.objects.filter(mailbox=mailbox, folder="Sent").update(uidvalidity=1)
    poll(mailbox)
    assert emails(lead).count() == touches + 1
    assert Message.objects.filter(kind=Message.Kind.SENT_ELSEWHERE).count() == 1


@pytest.mark.django_db
def test_a_reply_to_an_email_sent_from_the_reps_client_is_matched_by_its_thread(mailbox, cadence):
    lead = prospect(mailbox.user, cadence, email="ada@prospect.example")
    sent_id = make_msgid(domain="refinery.test")
    imap_append(
        mailbox.imap_username,
        email(sender=mailbox.from_address, to=lead.email, message_id=sent_id, date=NOW),
        folder="Sent",
    )
    poll(mailbox)
    imap_append(
        mailbox.imap_username,
        email(sender="ada.private@gmail.example", to=mailbox.from_address, in_reply_to=sent_id),
    )

    assert poll(mailbox).count("reply") == 1
    assert replies(lead).count() == 1


@pytest.mark.django_db
def test_an_interrupted_send_found_in_the_sent_folder_is_sent(mailbox, cadence):
    lead = prospect(mailbox.user, cadence)
    interrupted = sent_email(
        mailbox,
        lead,
        status=Message.Status.SENDING,
        sent_at=None,
        claimed_at=NOW - timedelta(minutes=2),
        attempts=1,
    )
    raw = email(
        sender=mailbox.from_address,
        to=lead.email,
        subject=interrupted.subject,
        message_id=interrupted.message_id,
    )
    imap_append(mailbox.imap_username, raw, folder="Sent")
    touches = emails(lead).count()

    result = poll(mailbox)

    assert result.count("confirmed") == 1
    interrupted.refresh_from_db()
    assert interrupted.status == Message.Status.SENT and interrupted.sent_at == NOW - timedelta(minutes=2)
    assert emails(lead).count() == touches + 1
    assert not Message.objects.filter(kind=Message.Kind.SENT_ELSEWHERE).exists()


# --- two pollers -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_pollers_at_once_record_each_message_once(outbound_sdr):
    mailbox = own_mailbox(outbound_sdr)
    leads = [LeadFactory() for _ in range(12)]
    for lead in leads:
        imap_append(mailbox.imap_username, reply(lead, mailbox))

    outcomes = run_concurrently(*(lambda: poll(mailbox, batch_size=3) for _ in range(2)))

    assert all(isinstance(o, services.PollResult) and not o.error for o in outcomes), outcomes
    assert sum(o.count("reply") for o in outcomes) == 12  # type: ignore[union-attr]
    assert all(replies(lead).count() == 1 for lead in leads)
    assert Message.objects.filter(direction=Message.Direction.IN).count() == 12


@pytest.mark.django_db(transaction=True)
def test_a_poller_that_finds_the_folder_held_by_another_reads_nothing(outbound_sdr):
    mailbox = own_mailbox(outbound_sdr)
    poll(mailbox)  # the folders' positions exist
    lead = LeadFactory()
    imap_append(mailbox.imap_username, reply(lead, mailbox))
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                FolderState.objects.select_for_update().filter(mailbox=mailbox, folder="INBOX").get()
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        busy = poll(mailbox)
    finally:
        release.set()
        holder.join()

    [inbox] = [f for f in busy.folders if f.folder == "INBOX"]
    assert inbox.busy and busy.count("read") == 0 and not replies(lead).exists()
    assert poll(mailbox).count("reply") == 1


@pytest.mark.django_db
def test_a_reply_from_a_merged_leads_old_address_reaches_the_survivor(mailbox, cadence, manager):
    from dedupe.services import merge_leads

    survivor = prospect(mailbox.user, cadence, email="ada@new.example")
    old = LeadFactory(email="ada@old.example")
    merge_leads(survivor=survivor, merged=old, chosen={}, by=manager)
    raw = email(sender="Ada <ada@old.example>", to=mailbox.from_address, subject="Hello", date=NOW)
    imap_append(mailbox.imap_username, raw)

    assert poll(mailbox).count("reply") == 1

    assert Enrollment.objects.get(lead=survivor).state == Enrollment.State.REPLIED
    assert replies(survivor).count() == 1 and Lead.objects.filter(email="ada@old.example").count() == 0
