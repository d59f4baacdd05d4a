"""Cadences send their email steps: an automatic step's email is written once when its item
comes due, inside the sender's hours and sending window, sent through the loopback SMTP server
and read back from the prospect's IMAP INBOX, and its sending moves the cadence on; what would
make it wrong (a blank merge field, a suppressed address, a cadence that moved on) sends
nothing; a manual step waits for the rep, who writes it in the composer; the pace and the daily
limit spread a big cadence over minutes and days. The rep works Berlin hours, Mon-Fri 9-17."""

from datetime import timedelta

import pytest

from leads.models import Activity, ActivitySource, Lead
from mail import services
from mail.models import Message, Suppression
from sdr import services as sdr
from sdr.models import Enrollment
from sdr.queue import Bucket, queue_for
from tests.factories import open_steps
from tests.mail.cadence_kit import FRI, THU, WED, berlin, email_cadence, enrolled, own_mailbox
from tests.mailservers import (
    mail_servers,  # noqa: F401
    unique_address,
    wait_for_messages,
)
from work.models import WorkItem

NOW = berlin(WED, 11)
pytestmark = [pytest.mark.usefixtures("frozen", "mail_servers"), pytest.mark.django_db]


@pytest.fixture
def cadence():
    return email_cadence()


@pytest.fixture
def mailbox(inbound_sdr):
    return own_mailbox(inbound_sdr)


def step_email(lead) -> Message:
    return Message.objects.get(lead=lead, step__isnull=False)


# --- automatic steps ---------------------------------------------------------------------------


def test_an_automatic_step_is_sent_when_due_and_the_next_step_comes_due(inbound_sdr, mailbox, cadence):
    lead = enrolled(inbound_sdr, cadence, NOW)

    assert services.send_due_steps().scheduled == 1
    message = step_email(lead)
    assert message.status == Message.Status.SCHEDULED and message.send_at == NOW
    assert (message.sender, message.mailbox, message.enrollment.lead) == (inbound_sdr, mailbox, lead)
    assert message.unsubscribe_link and message.tracked
    assert message.subject == "Globex and speed to lead"
    assert services.send_due().sent == 1

    [received] = wait_for_messages(lead.email, 1)
    assert received["Message-ID"] == message.message_id
    assert received["Subject"] == "Globex and speed to lead"
    assert received["From"].addresses[0].addr_spec == mailbox.from_address
    assert "Hi Ada," in received.get_body(("plain",)).get_content()
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # The touch: on the timeline, first touch done, and the cadence on its next step.
    touch = Activity.objects.get(lead=lead, kind="email")
    assert (touch.source, touch.actor, touch.occurred_at) == (ActivitySource.EMAIL, inbound_sdr, NOW)
    lead.refresh_from_db()
    assert lead.status == Lead.Status.WORKING
    enrollment = Enrollment.objects.get(lead=lead)
    assert enrollment.state == Enrollment.State.ACTIVE and enrollment.step.position == 2
    [step_two] = open_steps(lead)
    assert step_two.due_at == berlin(FRI, 9)  # two business days after Wednesday's step
    assert step_two.owner == inbound_sdr
    done = WorkItem.objects.for_subject(lead).get(kind=WorkItem.Kind.CADENCE_STEP, state="done")
    assert done.completed_by == inbound_sdr and done.completed_at == NOW


def test_sweeping_again_writes_nothing_more(inbound_sdr, mailbox, cadence, frozen):
    lead = enrolled(inbound_sdr, cadence, NOW)
    assert services.send_due_steps().scheduled == 1
    frozen.shift(60)
    assert services.send_due_steps().outcomes == {}
    assert Message.objects.filter(lead=lead).count() == 1


def test_a_step_due_at_night_waits_for_the_opening_and_the_sending_window(
    inbound_sdr, mailbox, cadence, frozen, settings
):
    settings.MAIL_SENDING_WINDOW = "10:00-16:00"
    lead = enrolled(inbound_sdr, cadence, berlin(WED, 19))
    [item] = open_steps(lead)
    assert item.due_at == berlin(THU, 9)

    frozen.move_to(berlin(WED, 19))
    assert services.send_due_steps().outcomes == {}
    frozen.move_to(berlin(THU, 9))
    assert services.send_due_steps().scheduled == 1
    message = step_email(lead)
    assert message.send_at == berlin(THU, 10)  # open at 9, but the window opens at 10
    assert services.send_due().sent == 0
    frozen.move_to(berlin(THU, 10))
    assert services.send_due().sent == 1


def test_a_paced_email_pushed_past_closing_waits_for_the_next_opening(inbound_sdr, cadence, frozen):
    own_mailbox(inbound_sdr, pace=3600)
    first, second = (enrolled(inbound_sdr, cadence, berlin(WED, 16, 30)) for _ in range(2))
    frozen.move_to(berlin(WED, 16, 30))
    assert services.send_due_steps().scheduled == 2
    assert services.send_due().outcomes == {"sent": 1, "deferred": 1}
    frozen.move_to(berlin(WED, 17, 30))  # the pace allows it now, but the team went home at 17
    assert services.send_due().outcomes == {"deferred": 1}
    waiting = Message.objects.get(status=Message.Status.SCHEDULED)
    assert waiting.send_at == berlin(THU, 9)
    assert {first.pk, second.pk} == set(Message.objects.values_list("lead_id", flat=True))


def test_a_merge_field_without_a_value_sends_nothing_and_hands_the_step_to_the_rep(
    inbound_sdr, mailbox, cadence, frozen
):
    lead = enrolled(inbound_sdr, cadence, NOW, first_name="")

    assert services.send_due_steps().outcomes == {"held": 1}
    failed = step_email(lead)
    assert failed.status == Message.Status.FAILED
    assert "{{ lead.first_name }} has no value" in failed.error
    assert services.send_due().sent == 0
    enrollment = Enrollment.objects.get(lead=lead)
    assert "{{ lead.first_name }} has no value" in enrollment.manual_reason
    [item] = open_steps(lead)
    assert item.note.startswith("Not sent automatically: {{ lead.first_name }} has no value")
    assert item.title.endswith("(write it yourself)")
    # In the rep's queue now as work due, not as an email that sends itself.
    [queued] = queue_for(inbound_sdr).filter(kind=WorkItem.Kind.CADENCE_STEP)
    assert queued.bucket == Bucket.FOLLOW_UP_DUE
    frozen.shift(60)
    assert services.send_due_steps().outcomes == {}  # held: the sweep leaves it to the rep

    # The rep writes it in the composer: it is the step's email, and the cadence moves on.
    message = services.schedule_email(
        sender=inbound_sdr,
        lead_id=lead.pk,
        subject="Globex",
        body="Hello,\n\nTen minutes?",
        step_id=enrollment.step_id,
    )
    assert (message.enrollment_id, message.step_id) == (enrollment.pk, enrollment.step_id)
    assert message.unsubscribe_link
    failed.refresh_from_db()
    assert failed.step_id is None and failed.status == Message.Status.FAILED  # still on the timeline
    assert services.send_due().sent == 1
    wait_for_messages(lead.email, 1)
    enrollment.refresh_from_db()
    assert enrollment.step.position == 2 and enrollment.manual_reason == ""


@pytest.mark.parametrize(
    ("reason", "state"),
    [
        (Suppression.Reason.UNSUBSCRIBED, Enrollment.State.UNSUBSCRIBED),
        (Suppression.Reason.BOUNCED, Enrollment.State.BOUNCED),
    ],
)
def test_a_suppressed_address_ends_the_cadence_instead(inbound_sdr, mailbox, cadence, reason, state):
    lead = enrolled(inbound_sdr, cadence, NOW)
    services.suppress(address=lead.email, reason=reason)

    assert services.send_due_steps().outcomes == {"ended": 1}
    assert not Message.objects.filter(lead=lead).exists()
    assert Enrollment.objects.get(lead=lead).state == state
    assert open_steps(lead) == []


def test_a_touch_before_the_paced_email_leaves_cancels_it(inbound_sdr, cadence, frozen):
    own_mailbox(inbound_sdr, pace=600)
    busy = enrolled(inbound_sdr, cadence, NOW)
    lead = enrolled(inbound_sdr, cadence, NOW)
    assert services.send_due_steps().scheduled == 2
    assert services.send_due().outcomes == {"sent": 1, "deferred": 1}
    waiting = Message.objects.get(status=Message.Status.SCHEDULED)
    assert waiting.lead_id == lead.pk and busy.pk != lead.pk

    # Meanwhile the rep calls the prospect: that touch was the step, the cadence moves on.
    sdr.log_touch(lead_id=lead.pk, by=inbound_sdr, kind="call", outcome="no_answer")
    frozen.shift(600)
    assert services.send_due().outcomes == {"cancelled": 1}
    waiting.refresh_from_db()
    assert waiting.status == Message.Status.CANCELLED and "moved on" in waiting.error
    assert Enrollment.objects.get(lead=lead).step.position == 2


def test_the_queue_shows_an_automatic_step_as_sending_itself(
    inbound_sdr, mailbox, cadence, client_for, frozen
):
    lead = enrolled(inbound_sdr, cadence, berlin(WED, 19))
    [item] = queue_for(inbound_sdr, berlin(WED, 19)).filter(kind=WorkItem.Kind.CADENCE_STEP)
    assert item.bucket == Bucket.SENDS_ITSELF

    frozen.move_to(berlin(THU, 9, 30))  # due, not sent yet (the beat has not run): no nagging
    page = client_for(inbound_sdr).get("/queue/").content.decode()
    assert "Sends automatically at Thu 3 Dec 2026, 09:00 CET" in page
    assert "overdue" not in page
    [item] = queue_for(inbound_sdr).filter(kind=WorkItem.Kind.CADENCE_STEP)
    assert item.bucket == Bucket.SENDS_ITSELF and item.object_id == lead.pk


# --- manual steps -------------------------------------------------------------------------------


@pytest.fixture
def manual():
    return email_cadence(
        "Personal first",
        steps=(
            (0, "email", False, "About {{ lead.company }}", "Hi {{ lead.first_name }},\n\n..."),
            (3, "call", False, "", ""),
        ),
    )


def test_a_manual_step_waits_for_the_rep_who_writes_it_in_the_composer(
    inbound_sdr, mailbox, manual, client_for
):
    lead = enrolled(inbound_sdr, manual, NOW)
    assert services.send_due_steps().outcomes == {}
    assert not Message.objects.exists()
    [item] = queue_for(inbound_sdr).filter(kind=WorkItem.Kind.CADENCE_STEP)
    assert item.bucket == Bucket.FOLLOW_UP_DUE

    enrollment = Enrollment.objects.get(lead=lead)
    panel = client_for(inbound_sdr).get(f"/queue/items/{item.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert f"/mail/compose/?lead={lead.pk}&amp;step={enrollment.step_id}" in panel
    draft = services.step_draft(sender=inbound_sdr, lead_id=lead.pk, step_id=enrollment.step_id)
    assert draft is not None
    assert (draft.subject, draft.label) == ("About {{ lead.company }}", "Personal first: step 1")

    composer = f"/mail/compose/?lead={lead.pk}&step={enrollment.step_id}"
    page = client_for(inbound_sdr).get(composer).content.decode()
    assert "About {{ lead.company }}" in page and "Personal first: step 1" in page  # the step's text
    answer = client_for(inbound_sdr).post(
        composer, {"subject": draft.subject, "body": draft.body, "action": "send"}
    )
    assert answer.status_code == 302
    message = Message.objects.get(lead=lead)
    assert (message.enrollment_id, message.step_id, message.unsubscribe_link) == (
        enrollment.pk,
        enrollment.step_id,
        True,
    )
    with pytest.raises(services.MailError, match="already scheduled or sent"):
        services.schedule_email(
            sender=inbound_sdr, lead_id=lead.pk, subject="Again", body="Again", step_id=draft.step_id
        )
    assert services.send_due().sent == 1
    [received] = wait_for_messages(lead.email, 1)
    assert received["Subject"] == "About Globex"
    enrollment.refresh_from_db()
    assert enrollment.step.position == 2
    assert Activity.objects.filter(lead=lead, kind="email", source=ActivitySource.EMAIL).count() == 1


def test_another_reps_step_gives_no_draft(other_sdr, inbound_sdr, manual):
    lead = enrolled(inbound_sdr, manual, NOW)
    step_id = Enrollment.objects.get(lead=lead).step_id
    assert services.step_draft(sender=other_sdr, lead_id=lead.pk, step_id=step_id) is None
    assert services.step_draft(sender=inbound_sdr, lead_id=lead.pk, step_id=step_id + 1) is None


# --- pace and daily limit ------------------------------------------------------------------------


def test_a_big_cadence_leaves_one_email_a_minute(inbound_sdr, cadence, frozen):
    """The issue's 500 prospects, at 30 to stay fast: with a pace of 60 s, one pass sends one
    email and defers the rest; each later minute sends the next."""
    own_mailbox(inbound_sdr, pace=60)
    leads = [enrolled(inbound_sdr, cadence, NOW, email=unique_address("many")) for _ in range(30)]
    assert services.send_due_steps().scheduled == 30

    assert services.send_due().outcomes == {"sent": 1, "deferred": 29}
    deferred = Message.objects.filter(status=Message.Status.SCHEDULED)
    assert set(deferred.values_list("send_at", flat=True)) == {NOW + timedelta(seconds=60)}
    for minute in range(1, 30):
        frozen.move_to(NOW + timedelta(seconds=60 * minute))
        left = 29 - minute
        assert services.send_due().outcomes == ({"sent": 1, "deferred": left} if left else {"sent": 1})
    sent = list(Message.objects.order_by("sent_at").values_list("sent_at", flat=True))
    assert sent == [NOW + timedelta(seconds=60 * n) for n in range(30)]
    for lead in (leads[0], leads[-1]):
        wait_for_messages(lead.email, 1)


def test_the_daily_limit_stops_the_day_and_resumes_at_the_next_opening(inbound_sdr, cadence, frozen):
    own_mailbox(inbound_sdr, pace=0, daily_limit=10)
    for _ in range(25):
        enrolled(inbound_sdr, cadence, NOW, email=unique_address("many"))
    assert services.send_due_steps().scheduled == 25

    assert services.send_due().outcomes == {"sent": 10, "deferred": 15}
    assert set(Message.objects.filter(status="scheduled").values_list("send_at", flat=True)) == {
        berlin(THU, 9)
    }
    frozen.move_to(berlin(WED, 16))
    assert services.send_due().outcomes == {}
    frozen.move_to(berlin(THU, 9))
    assert services.send_due().outcomes == {"sent": 10, "deferred": 5}
    assert set(Message.objects.filter(status="scheduled").values_list("send_at", flat=True)) == {
        berlin(FRI, 9)
    }
    frozen.move_to(berlin(FRI, 9))
    assert services.send_due().outcomes == {"sent": 5}
    assert Message.objects.filter(status=Message.Status.SENT).count() == 25


# --- the cadence admin ---------------------------------------------------------------------------


def test_the_cadence_admin_refuses_an_unknown_merge_field(admin_client):
    from tests.sdr.test_cadences import admin_form

    step = {"automatic": "on", "subject": "Hi {{ lead.nickname }}", "body": "Hello {{ lead.first_name }}"}
    response = admin_client.post("/admin/sdr/cadence/add/", admin_form("Typo", [(1, 0, "email", step)]))
    assert response.status_code == 200
    assert "Unknown merge field {{ lead.nickname }}" in response.content.decode()
    step["subject"] = "Hi {{ lead.first_name | there }}"
    response = admin_client.post("/admin/sdr/cadence/add/", admin_form("Typo", [(1, 0, "email", step)]))
    assert response.status_code == 302
