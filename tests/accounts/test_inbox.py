"""The AE's inbox: pending handoffs with the SDR's notes, source, scores and acceptance SLA, in
the order their timers fall due; one-click accept and a reject with reason and note, both
answered in place; a teammate's waiting handoffs to cover; and who may do what."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Opportunity, OpportunityEvent
from accounts.services import accept_handoff, hand_off
from leads.models import Lead, LeadEvent
from tests.factories import CampaignFactory, qualifying, routed_lead
from work.models import WorkItem

HTMX = {"HTTP_HX_REQUEST": "true"}
# Tuesday 24 November 2026, 10:00 in Berlin (CET, UTC+1).
TUESDAY_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def handoff(sdr, ae, at: datetime, *, ask=False, meeting=None, **lead_fields) -> Opportunity:
    """``sdr`` hands a lead to ``ae`` at ``at`` (the acceptance timer starts then)."""
    with time_machine.travel(at, tick=False):
        lead = routed_lead(sdr, now=at, **lead_fields)
        changes = {"asked_for_meeting": ask, "proposed_meeting_at": meeting} if ask or meeting else {}
        return hand_off(lead_id=lead.pk, by=sdr, qualifying=qualifying(**changes), ae=ae, now=at)


def row_of(body: str, opportunity: Opportunity) -> str:
    match = re.search(rf'<li class="ib-row[^"]*" id="inbox-{opportunity.pk}".*?</li>', body, re.S)
    assert match, f"no row for opportunity {opportunity.pk}"
    return match.group(0)


# --- what the inbox shows -----------------------------------------------------------------------


@pytest.mark.django_db
def test_inbox_lists_my_handoffs_most_urgent_first_with_notes_source_and_scores(
    client_for, inbound_sdr, ae, other_ae
):
    campaign = CampaignFactory(name="Spring webinar")
    later = handoff(inbound_sdr, ae, TUESDAY_10 + timedelta(hours=2), first_name="Lou", company="Later AG")
    meeting = datetime(2026, 11, 26, 14, 30, tzinfo=UTC)  # 15:30 in Berlin
    urgent = handoff(
        inbound_sdr,
        ae,
        TUESDAY_10,
        ask=True,
        meeting=meeting,
        first_name="Uma",
        company="Urgent GmbH",
        campaign=campaign,
        fit_grade="A",
        fit_score=85,
    )
    someone_elses = handoff(inbound_sdr, other_ae, TUESDAY_10, first_name="Otto")

    with time_machine.travel(TUESDAY_10 + timedelta(hours=3), tick=False):
        response = client_for(ae).get(reverse("accounts:inbox"))

    assert response.status_code == 200
    body = response.content.decode()
    mine = body.split('id="inbox-mine"')[1].split("</ol>")[0]
    assert [int(pk) for pk in re.findall(r'id="inbox-(\d+)"', mine)] == [urgent.pk, later.pk]
    row = row_of(body, urgent)
    assert "Their SDRs miss hand-raisers" in row  # the SDR's need note
    assert "Head of sales ops, signs off up to 50k." in row
    assert "Spring webinar" in row and "Inbound" in row and str(inbound_sdr) in row
    assert ">A" in row and "fit 85/100" in row
    assert "asked for a meeting" in row
    assert "Thu 26 Nov 2026, 15:30 CET" in row  # in the viewer's zone, named
    # The SLA: 8 business hours from 10:00 is 10:00 the next day; 3 hours gone.
    assert re.search(r'class="sla sla-on_track" data-due="2026-11-25T09:00:00\+00:00"', row)
    assert "21h 00m left" in row
    # The AE never gets a link to a raw lead.
    assert "/leads/" not in body
    team = body.split('id="inbox-team"')[1].split("</ol>")[0]
    assert f'id="inbox-{someone_elses.pk}"' in team
    assert f"For {other_ae}" in row_of(body, someone_elses)


@pytest.mark.django_db
def test_a_breached_handoff_shows_breached_and_tops_the_list(client_for, inbound_sdr, ae):
    fresh = handoff(inbound_sdr, ae, TUESDAY_10 + timedelta(days=1))
    old = handoff(inbound_sdr, ae, TUESDAY_10 - timedelta(days=1))  # due Tuesday 10:00

    with time_machine.travel(TUESDAY_10 + timedelta(days=1, hours=1), tick=False):
        body = client_for(ae).get(reverse("accounts:inbox")).content.decode()

    assert body.index(f'id="inbox-{old.pk}"') < body.index(f'id="inbox-{fresh.pk}"')
    assert 'class="sla sla-breached"' in row_of(body, old)
    assert "breached 1d 1h ago" in row_of(body, old)


@pytest.mark.django_db
def test_the_timeline_panel_shows_the_leads_history_and_the_opportunitys_events(client_for, inbound_sdr, ae):
    opportunity = handoff(inbound_sdr, ae, TUESDAY_10, first_name="Tia")

    response = client_for(ae).get(
        reverse("accounts:opportunity", args=[opportunity.pk]), {"part": "panel"}, **HTMX
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "The lead\u2019s timeline" in body
    assert f"Handed off to {ae}" in body  # the lead's status change
    assert f"Handed off by {inbound_sdr} to {ae}." in body  # the opportunity's event
    assert opportunity.contact.email in body
    assert "/leads/" not in body


@pytest.mark.django_db
def test_an_empty_inbox_says_so(client_for, ae):
    body = client_for(ae).get(reverse("accounts:inbox")).content.decode()
    assert "No handoff is waiting for you" in body


# --- accept ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_accept_is_one_click_and_the_row_leaves_the_inbox(client_for, inbound_sdr, ae):
    opportunity = handoff(inbound_sdr, ae, TUESDAY_10)
    client = client_for(ae)

    response = client.post(reverse("accounts:accept", args=[opportunity.pk]), {"on": "inbox"}, **HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert "In pipeline: Discovery" in body
    assert 'class="ib-row ib-done"' in body and "Accept" not in body
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.OPEN and opportunity.stage.name == "Discovery"
    assert not WorkItem.objects.for_subject(opportunity).open().exists()
    assert f'id="inbox-{opportunity.pk}"' not in client.get(reverse("accounts:inbox")).content.decode()


@pytest.mark.django_db
def test_accept_without_javascript_redirects_back_with_a_message(client_for, inbound_sdr, ae):
    opportunity = handoff(inbound_sdr, ae, TUESDAY_10)

    response = client_for(ae).post(
        reverse("accounts:accept", args=[opportunity.pk]), {"next": reverse("accounts:inbox")}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("accounts:inbox")
    assert "In pipeline: Discovery" in response.content.decode()


@pytest.mark.django_db
def test_accepting_twice_says_it_was_already_answered_and_changes_nothing(client_for, inbound_sdr, ae):
    opportunity = handoff(inbound_sdr, ae, TUESDAY_10)
    accept_handoff(opportunity_id=opportunity.pk, by=ae, now=TUESDAY_10 + timedelta(minutes=5))
    events = OpportunityEvent.objects.filter(opportunity=opportunity).count()

    response = client_for(ae).post(reverse("accounts:accept", args=[opportunity.pk]), {"on": "inbox"}, **HTMX)

    assert response.status_code == 409
    body = response.content.decode()
    assert "already answered: in pipeline on Tue 24 Nov 2026" in body
    assert 'role="alert"' in body
    opportunity.refresh_from_db()
    assert opportunity.accepted_at == TUESDAY_10 + timedelta(minutes=5)
    assert OpportunityEvent.objects.filter(opportunity=opportunity).count() == events


@pytest.mark.django_db
def test_a_teammate_covers_a_waiting_handoff_and_takes_it_over(client_for, inbound_sdr, ae, other_ae):
    opportunity = handoff(inbound_sdr, other_ae, TUESDAY_10)

    body = client_for(ae).get(reverse("accounts:inbox")).content.decode()
    team = body.split('id="inbox-team"')[1].split("</ol>")[0]
    assert f'id="inbox-{opportunity.pk}"' in team and "Accept (cover)" in team

    response = client_for(ae).post(reverse("accounts:accept", args=[opportunity.pk]), {"on": "inbox"}, **HTMX)

    assert response.status_code == 200 and "In pipeline: Discovery" in response.content.decode()
    opportunity.refresh_from_db()
    assert opportunity.owner == ae


@pytest.mark.django_db
def test_accepting_after_a_teammate_did_is_a_clear_refusal(client_for, inbound_sdr, ae, other_ae):
    opportunity = handoff(inbound_sdr, other_ae, TUESDAY_10)
    accept_handoff(opportunity_id=opportunity.pk, by=other_ae)

    response = client_for(ae).post(reverse("accounts:accept", args=[opportunity.pk]), {"on": "inbox"}, **HTMX)

    assert response.status_code == 409
    assert "already answered" in response.content.decode()
    opportunity.refresh_from_db()
    assert opportunity.owner == other_ae


@pytest.mark.django_db
def test_an_ae_of_another_team_cannot_see_or_answer_the_handoff(client_for, inbound_sdr, ae, far_ae):
    opportunity = handoff(inbound_sdr, ae, TUESDAY_10)
    client = client_for(far_ae)

    assert f'id="inbox-{opportunity.pk}"' not in client.get(reverse("accounts:inbox")).content.decode()
    assert client.post(reverse("accounts:accept", args=[opportunity.pk]), **HTMX).status_code == 404
    data = {"reason": "Other", "note": "Not mine"}
    assert client.post(reverse("accounts:reject", args=[opportunity.pk]), data, **HTMX).status_code == 404
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.HANDED_OFF


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["inbound_sdr", "sales_manager", "manager", "am", "marketing"])
def test_only_an_ae_accepts_or_rejects(client_for, request, inbound_sdr, ae, who):
    opportunity = handoff(inbound_sdr, ae, TUESDAY_10)
    client = client_for(request.getfixturevalue(who))

    assert client.post(reverse("accounts:accept", args=[opportunity.pk]), **HTMX).status_code == 403
    data = {"reason": "Other", "note": "No"}
    assert client.post(reverse("accounts:reject", args=[opportunity.pk]), data, **HTMX).status_code == 403
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.HANDED_OFF


# --- reject ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reject_sends_the_lead_back_to_its_sdr_with_the_reason(client_for, inbound_sdr, ae):
    opportunity = handoff(inbound_sdr, ae, TUESDAY_10)

    response = client_for(ae).post(
        reverse("accounts:reject", args=[opportunity.pk]),
        {"on": "inbox", "reason": "Timing: not buying this year", "note": "They start budgeting in 2028."},
        **HTMX,
    )

    assert response.status_code == 200
    assert f"Rejected (Timing: not buying this year): back to {inbound_sdr}" in response.content.decode()
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.REJECTED
    lead = Lead.objects.get(pk=opportunity.lead_id)
    assert lead.status == Lead.Status.WORKING and lead.owner == inbound_sdr
    assert LeadEvent.objects.filter(lead=lead, message__contains="They start budgeting in 2028.").exists()
    assert WorkItem.objects.for_subject(lead).open().get().kind == WorkItem.Kind.HANDOFF_RETURNED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "", "note": "Why not"}, "Choose a reason."),
        ({"reason": "Because", "note": "Why not"}, "Choose a reason from the list."),
        ({"reason": "Other", "note": "   "}, "Tell the SDR why, in a note"),
        ({}, "Choose a reason."),
    ],
)
def test_a_rejection_without_reason_or_note_is_refused_in_place(client_for, inbound_sdr, ae, data, message):
    opportunity = handoff(inbound_sdr, ae, TUESDAY_10)

    response = client_for(ae).post(reverse("accounts:reject", args=[opportunity.pk]), data, **HTMX)

    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert f'id="inbox-{opportunity.pk}"' in body and '<details class="ib-reject" open>' in body
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.HANDED_OFF


@pytest.mark.django_db
def test_a_refused_rejection_without_javascript_shows_the_inbox_with_the_errors(client_for, inbound_sdr, ae):
    opportunity = handoff(inbound_sdr, ae, TUESDAY_10)

    response = client_for(ae).post(reverse("accounts:reject", args=[opportunity.pk]), {"reason": "Other"})

    assert response.status_code == 400
    body = response.content.decode()
    assert "<h1>Inbox</h1>" in body and "Tell the SDR why" in body


@pytest.mark.django_db
def test_rejecting_an_accepted_handoff_is_refused_and_changes_nothing(client_for, inbound_sdr, ae):
    opportunity = handoff(inbound_sdr, ae, TUESDAY_10)
    accept_handoff(opportunity_id=opportunity.pk, by=ae)

    response = client_for(ae).post(
        reverse("accounts:reject", args=[opportunity.pk]), {"reason": "Other", "note": "Oops"}, **HTMX
    )

    assert response.status_code == 409
    assert "already answered" in response.content.decode()
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.OPEN and opportunity.reject_reason == ""


# --- who sees the inbox ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("ae", 200),
        ("other_ae", 200),
        ("inbound_sdr", 403),
        ("outbound_sdr", 403),
        ("sales_manager", 403),
        ("manager", 403),
        ("am", 403),
        ("marketing", 403),
    ],
)
def test_the_inbox_is_an_aes(client_for, request, who, status):
    assert client_for(request.getfixturevalue(who)).get(reverse("accounts:inbox")).status_code == status


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(client, inbound_sdr, ae):
    opportunity = handoff(inbound_sdr, ae, TUESDAY_10)
    for url in (reverse("accounts:inbox"), reverse("accounts:accept", args=[opportunity.pk])):
        response = client.post(url) if "accept" in url else client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.HANDED_OFF


# --- cost ----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 12, 60])
def test_the_inbox_costs_the_same_queries_whatever_its_size(
    client_for, django_assert_num_queries, inbound_sdr, ae, other_ae, size
):
    for n in range(size):
        handoff(inbound_sdr, ae if n % 2 else other_ae, TUESDAY_10 + timedelta(minutes=n))
    client = client_for(ae)
    client.get(reverse("accounts:inbox"))  # warm the content-type cache

    # session, user with their team's calendar, scoring settings, my rows + their items, team
    # rows + items, how many wait in all
    with django_assert_num_queries(8):
        response = client.get(reverse("accounts:inbox"))
    page = response.content.decode()
    mine, team = size // 2, size - size // 2
    assert page.count('class="ib-row') == min(mine, 25) + min(team, 10)
    if size == 60:  # the oldest are shown, and the totals say how many wait
        assert "30 · the oldest 25 shown: answer them to see the rest" in page
        assert "30 (the oldest 10 shown)" in page
