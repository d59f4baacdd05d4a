"""Nurture tracks: a lead in nurture (moved there by an SDR, or captured below the MQL threshold)
joins marketing's active track, whose steps are automatic emails from the track's sender, in
nobody's queue; its opens, clicks and replies raise its engagement until it becomes an MQL,
is routed to an SDR, and the track ends: no more emails. The story runs with a frozen clock
against the loopback SMTP and IMAP servers. Marketing and the SDRs work Berlin hours."""

import re
from urllib.parse import urlsplit

import pytest

from leads.models import Activity, ActivityKind, Lead, ScoringSettings
from leads.services import capture_lead, scoring_changed, sweep_engagement_thresholds
from mail import services
from mail.models import Message
from sdr import services as sdr
from sdr.models import Cadence, Enrollment
from sdr.queue import queue_for, unassigned_for
from sdr.services import cadences
from tests.factories import open_steps, routed_lead
from tests.mail.cadence_kit import FRI, THU, WED, berlin, email_cadence, own_mailbox
from tests.mailservers import (
    mail_servers,  # noqa: F401
    unique_address,
    wait_for_messages,
)
from work.models import WorkItem

NOW = berlin(WED, 11)
pytestmark = [pytest.mark.usefixtures("frozen", "mail_servers"), pytest.mark.django_db]

NEWSLETTER = (
    "What {{ lead.company | your team }} can learn from speed to lead",
    "Hello {{ lead.first_name | there }},\n\nOur study: https://refinery.example/study\n\n{{ sender.name }}",
)
FOLLOW_UP = ("One more idea", "Hello {{ lead.first_name | there }},\n\nA webinar next week.")


@pytest.fixture
def track(marketing):
    own_mailbox(marketing)
    return email_cadence(
        "Nurture: speed to lead",
        steps=((0, "email", True, *NEWSLETTER), (5, "email", True, *FOLLOW_UP)),
        kind=Cadence.Kind.NURTURE,
        sender=marketing,
    )


def captured_into_nurture(**details) -> Lead:
    """Someone downloads content (a form fill, 20 points: under the MQL threshold of 40)."""
    details = {"first_name": "Ada", "company": "Globex"} | details
    lead = capture_lead(email=unique_address("nurtured"), details=details, via="web_form").lead
    assert lead.status == Lead.Status.NURTURE
    return lead


def test_a_lead_an_sdr_moves_to_nurture_joins_the_track_in_nobodys_queue(inbound_sdr, manager, track):
    lead = routed_lead(inbound_sdr, now=NOW, email=unique_address("parked"))
    sdr.dispose_lead(lead_id=lead.pk, by=inbound_sdr, to=Lead.Status.NURTURE, reason="Not ready yet (timing)")

    enrollment = Enrollment.objects.get(lead=lead)
    assert (enrollment.cadence, enrollment.state, enrollment.step.position) == (track, "active", 1)
    [item] = open_steps(lead)
    assert (item.owner, item.team, item.due_at) == (None, None, NOW)
    assert not queue_for(inbound_sdr).exists()
    assert not unassigned_for([inbound_sdr.team_id]).exists()


def test_leads_captured_into_nurture_join_the_track_by_the_sweep(track, frozen):
    lead = captured_into_nurture()
    assert cadences.enroll_nurture_leads() == 1
    assert Enrollment.objects.get(lead=lead).cadence == track
    frozen.shift(300)
    assert cadences.enroll_nurture_leads() == 0  # a re-run finds nobody new


def test_without_an_active_track_nobody_joins(track):
    Cadence.objects.filter(pk=track.pk).update(is_active=False)
    captured_into_nurture()
    assert cadences.enroll_nurture_leads() == 0
    assert not Enrollment.objects.exists()


def test_a_nurture_lead_hears_from_marketing_until_it_clicks_and_replies_its_way_to_an_sdr(
    track, marketing, inbound_sdr, catch_all_rule, client, frozen
):
    lead = captured_into_nurture()
    assert cadences.enroll_nurture_leads() == 1

    # Step 1: the newsletter, from marketing's mailbox, through the real SMTP server.
    assert services.send_due_steps().scheduled == 1
    assert services.send_due().sent == 1
    [received] = wait_for_messages(lead.email, 1)
    sent = Message.objects.get(lead=lead, direction="out")
    assert received["Message-ID"] == sent.message_id and sent.sender == marketing
    assert received["Subject"] == "What Globex can learn from speed to lead"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # marketing's email, not a rep's touch: speed to lead does not count it
    assert Activity.objects.get(lead=lead, kind=ActivityKind.NURTURE_EMAIL).actor == marketing
    assert not Activity.objects.filter(lead=lead, kind=ActivityKind.EMAIL).exists()
    enrollment = Enrollment.objects.get(lead=lead)
    assert enrollment.step.position == 2
    [step_two] = open_steps(lead)
    assert step_two.owner is None and step_two.due_at == berlin(WED + 7, 9)  # 5 business days on

    # The prospect clicks the tracked link: the original page, one click activity.
    html = received.get_body(("html",)).get_content()
    [click_url] = [url for url in re.findall(r'href="([^"]+)"', html) if "/m/c/" in url]
    frozen.shift(3600)
    response = client.get(urlsplit(click_url).path)
    assert (response.status_code, response["Location"]) == (302, "https://refinery.example/study")
    lead.refresh_from_db()
    assert lead.status == Lead.Status.NURTURE  # 20 + 5 points: not yet

    # ... and replies (the poller would record this one; it is another helper's): 20 more points.
    reply = Message.objects.create(
        direction=Message.Direction.IN,
        status=Message.Status.RECEIVED,
        kind=Message.Kind.REPLY,
        lead=lead,
        from_address=lead.email,
        to_address=sent.from_address,
        subject="Re: " + sent.subject,
        body="Interesting. Can someone show me?",
        in_reply_to=sent.message_id,
        received_at=berlin(WED, 12, 30),
    )
    frozen.shift(1800)
    services.record_reply(reply)

    lead.refresh_from_db()
    assert (lead.status, lead.owner) == (Lead.Status.MQL, inbound_sdr)  # routed to an SDR
    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.step) == (Enrollment.State.SALES_READY, None)
    assert not WorkItem.objects.open().for_subject(lead).filter(kind=WorkItem.Kind.CADENCE_STEP).exists()
    assert queue_for(inbound_sdr).filter(kind=WorkItem.Kind.FIRST_TOUCH, object_id=lead.pk).exists()
    assert set(Activity.objects.filter(lead=lead).values_list("kind", flat=True)) >= {
        ActivityKind.EMAIL_CLICK,
        ActivityKind.EMAIL_REPLY,
    }

    # The track's second email never leaves.
    frozen.move_to(berlin(WED + 7, 9))
    assert services.send_due_steps().outcomes == {}
    assert services.send_due().sent == 0
    assert len(wait_for_messages(lead.email, 1)) == 1


def test_the_threshold_sweep_and_the_routing_sweep_end_the_track(track, inbound_sdr, catch_all_rule, frozen):
    lead = captured_into_nurture()
    cadences.enroll_nurture_leads()
    ScoringSettings.objects.filter(pk=1).update(mql_threshold=15, cold_threshold=5)
    scoring_changed()

    assert sweep_engagement_thresholds().promoted == 1  # MQL, not yet routed (the routing sweep does)
    assert services.send_due_steps().outcomes == {"ended": 1}  # nurture's email is not for an MQL
    enrollment = Enrollment.objects.get(lead=lead)
    assert enrollment.state == Enrollment.State.SALES_READY
    sdr.route_waiting_leads()
    lead.refresh_from_db()
    assert lead.owner == inbound_sdr
    assert not Message.objects.filter(lead=lead).exists()


def test_routing_ends_the_track_and_cancels_an_email_already_written(track, inbound_sdr, catch_all_rule):
    lead = captured_into_nurture()
    cadences.enroll_nurture_leads()
    assert services.send_due_steps().scheduled == 1
    ScoringSettings.objects.filter(pk=1).update(mql_threshold=15, cold_threshold=5)
    scoring_changed()
    sweep_engagement_thresholds()

    assert services.send_due().outcomes == {"cancelled": 1}  # claimed after the lead left nurture
    message = Message.objects.get(lead=lead)
    assert message.status == Message.Status.CANCELLED and "left nurture" in message.error
    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.SALES_READY
    sdr.route_waiting_leads()
    assert Lead.objects.get(pk=lead.pk).owner == inbound_sdr


def test_a_track_finished_leaves_nothing_in_any_queue(track, frozen):
    lead = captured_into_nurture()
    cadences.enroll_nurture_leads()
    for when in (NOW, berlin(WED + 7, 9)):
        frozen.move_to(when)
        assert services.send_due_steps().scheduled == 1
        assert services.send_due().sent == 1
    assert len(wait_for_messages(lead.email, 2)) == 2
    enrollment = Enrollment.objects.get(lead=lead)
    assert enrollment.state == Enrollment.State.FINISHED
    assert not WorkItem.objects.open().for_subject(lead).exists()  # no "move to nurture?" question


def test_a_nurture_step_without_a_value_ends_the_track(marketing):
    own_mailbox(marketing)
    email_cadence(
        "Blunt nurture",
        steps=((0, "email", True, "Hi {{ lead.first_name }}", "Hello"),),
        kind=Cadence.Kind.NURTURE,
        sender=marketing,
    )
    lead = captured_into_nurture(first_name="")
    cadences.enroll_nurture_leads()
    assert services.send_due_steps().outcomes == {"held": 1}
    assert Message.objects.get(lead=lead).status == Message.Status.FAILED
    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.STOPPED
    assert not WorkItem.objects.open().for_subject(lead).exists()


@pytest.mark.parametrize("day", [THU, FRI])
def test_a_lead_moved_to_nurture_late_in_the_week_hears_on_the_next_business_day(
    inbound_sdr, track, frozen, day
):
    frozen.move_to(berlin(day, 18))
    lead = routed_lead(inbound_sdr, now=berlin(day, 18), email=unique_address("parked"))
    sdr.dispose_lead(lead_id=lead.pk, by=inbound_sdr, to=Lead.Status.NURTURE, reason="No budget yet")
    [item] = open_steps(lead)
    assert item.due_at == berlin(day + 1 if day == THU else 7, 9)
