"""One opportunity's page (where the breach review links): qualification, source, stage and
amounts, its events, its lead's timeline and its work items with their SLA; who may see it;
and the actions shown only to whom may use them, refused with the errors on the page."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Opportunity
from accounts.services import hand_off, move_stage, update_opportunity
from leads.models import Lead
from tests.factories import (
    CampaignFactory,
    accepted,
    qualifying,
    routed_lead,
    stage,
)
from work.services import sweep_breaches

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Berlin


@pytest.fixture(autouse=True)
def _two_days_on():
    """Every test here looks at its opportunities two days after they were handed off and
    accepted (Thursday 26 November 2026), whatever the real date: a loss on that day is early."""
    with time_machine.travel(NOW + timedelta(days=2)):
        yield


def page(opportunity) -> str:
    return reverse("accounts:opportunity", args=[opportunity.pk])


@pytest.fixture
def handoff(inbound_sdr, ae):
    """A handoff with a meeting the prospect asked for, from a campaign."""
    with time_machine.travel(NOW, tick=False):
        lead = routed_lead(
            inbound_sdr, now=NOW, campaign=CampaignFactory(name="Spring webinar"), fit_grade="B"
        )
        return hand_off(
            lead_id=lead.pk,
            by=inbound_sdr,
            qualifying=qualifying(asked_for_meeting=True, proposed_meeting_at=NOW + timedelta(days=2)),
            ae=ae,
            now=NOW,
        )


@pytest.fixture
def opportunity(inbound_sdr, ae):
    opportunity = accepted(inbound_sdr, ae, now=NOW, company="Olli AG")
    update_opportunity(
        opportunity_id=opportunity.pk,
        by=ae,
        amount=Decimal("15000"),
        close_date=datetime(2027, 1, 31).date(),
        next_step="Send the proposal",
        now=NOW,
    )
    return opportunity


# --- what it shows -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_shows_qualification_source_state_and_history(client_for, inbound_sdr, ae, handoff):
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        body = client_for(ae).get(page(handoff)).content.decode()

    assert handoff.name in body and "Awaiting acceptance" in body
    assert "Their SDRs miss hand-raisers" in body and "Head of sales ops, signs off up to 50k." in body
    assert "Spring webinar" in body and str(inbound_sdr) in body and "Inbound" in body
    assert "Thu 26 Nov 2026, 10:00 CET" in body  # 09:00 UTC in Berlin
    assert "asked for by the prospect" in body
    # the acceptance timer, with its SLA
    assert "Accept handoff" in body and 'class="sla sla-on_track"' in body
    # the opportunity's events and the lead's timeline
    assert f"Handed off by {inbound_sdr} to {ae}." in body
    assert "Qualified" in body  # the lead's MQL -> working move
    assert "/leads/" not in body  # no way to a raw lead


@pytest.mark.django_db
def test_the_breach_review_links_here(client_for, inbound_sdr, ae, sales_manager, handoff):
    sweep_breaches(now=NOW + timedelta(days=3))

    review = client_for(sales_manager).get(reverse("work:breaches")).content.decode()
    assert f'href="{page(handoff)}"' in review
    assert client_for(sales_manager).get(page(handoff)).status_code == 200


@pytest.mark.django_db
def test_a_closed_opportunity_shows_how_it_ended(client_for, ae, opportunity):
    move_stage(
        opportunity_id=opportunity.pk,
        by=ae,
        stage_id=stage("Lost").pk,
        lost_reason="Price",
        lost_note="Too dear",
    )

    body = client_for(ae).get(page(opportunity)).content.decode()

    assert "Lost" in body and "Price" in body and "Too dear" in body and "early loss" in body
    assert 'name="stage"' not in body and 'name="amount"' not in body  # nothing left to do


# --- who sees it, and which actions ---------------------------------------------------------------


ACTIONS = ('name="amount"', 'name="stage"', 'name="lost_reason"')


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status", "acts"),
    [
        ("ae", 200, True),
        ("sales_manager", 200, True),
        ("inbound_sdr", 200, False),  # handed it off: read-only
        ("manager", 200, False),  # her SDR's handoff: read-only
        ("marketing", 200, False),
        ("other_ae", 404, False),
        ("far_ae", 404, False),
        ("other_sdr", 404, False),
        ("other_manager", 404, False),
        ("am", 403, False),
    ],
)
def test_who_sees_an_opportunity_and_who_may_work_it(client_for, request, opportunity, who, status, acts):
    response = client_for(request.getfixturevalue(who)).get(page(opportunity))

    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert all(a in body for a in ACTIONS) is acts
        assert any(a in body for a in ACTIONS) is acts
        assert ("read-only" in body) is not acts


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "answer"),
    [
        ("ae", "Accept or reject this handoff"),
        ("other_ae", "cover for them?"),
        ("sales_manager", None),
        ("inbound_sdr", None),
    ],
)
def test_accept_and_reject_are_shown_to_the_aes_of_the_team_only(client_for, request, handoff, who, answer):
    body = client_for(request.getfixturevalue(who)).get(page(handoff)).content.decode()
    assert (f'action="/opportunities/{handoff.pk}/accept/"' in body) is bool(answer)
    if answer:
        assert answer in body


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(client, opportunity):
    response = client.get(page(opportunity))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.django_db
def test_an_unknown_opportunity_is_a_404(client_for, ae):
    for pk in (999999, 2**40):
        assert client_for(ae).get(f"/opportunities/{pk}/").status_code == 404


# --- acting from the page ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_accepting_from_the_page_comes_back_to_it_with_a_message(client_for, ae, handoff):
    response = client_for(ae).post(
        reverse("accounts:accept", args=[handoff.pk]), {"on": "page", "next": page(handoff)}, follow=True
    )

    assert response.redirect_chain[-1][0] == page(handoff)
    body = response.content.decode()
    assert "In pipeline: Discovery" in body and 'name="stage"' in body


@pytest.mark.django_db
def test_a_rejection_without_a_note_is_shown_on_the_page(client_for, ae, handoff):
    response = client_for(ae).post(
        reverse("accounts:reject", args=[handoff.pk]), {"on": "page", "reason": "Other", "note": ""}
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert handoff.name in body and "Tell the SDR why" in body
    handoff.refresh_from_db()
    assert handoff.status == Opportunity.Status.HANDED_OFF


@pytest.mark.django_db
def test_accepting_twice_from_the_page_shows_the_conflict(client_for, ae, handoff):
    client = client_for(ae)
    client.post(reverse("accounts:accept", args=[handoff.pk]), {"on": "page"})

    response = client.post(reverse("accounts:accept", args=[handoff.pk]), {"on": "page"})

    assert response.status_code == 409
    assert re.search(r'id="opp-error">This handoff was already answered', response.content.decode())


@pytest.mark.django_db
def test_lost_without_a_reason_reopens_the_lost_form_with_the_error(client_for, ae, opportunity):
    response = client_for(ae).post(
        reverse("accounts:move", args=[opportunity.pk]),
        {"on": "page", "stage": stage("Lost").pk, "lost_reason": ""},
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert '<details class="opp-lost" open>' in body and "Choose why it was lost" in body
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.OPEN


@pytest.mark.django_db
def test_won_without_an_amount_is_refused_on_the_page(client_for, inbound_sdr, ae):
    bare = accepted(inbound_sdr, ae, now=NOW)

    response = client_for(ae).post(
        reverse("accounts:move", args=[bare.pk]), {"on": "page", "stage": stage("Won").pk}
    )

    assert response.status_code == 400
    assert "Enter the amount won before closing it won." in response.content.decode()
    bare.refresh_from_db()
    assert bare.status == Opportunity.Status.OPEN


@pytest.mark.django_db
def test_won_from_the_page_closes_the_lead_as_won(client_for, ae, opportunity):
    response = client_for(ae).post(
        reverse("accounts:move", args=[opportunity.pk]),
        {"on": "page", "stage": stage("Won").pk, "next": page(opportunity)},
        follow=True,
    )

    assert "Moved to Won" in response.content.decode()
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.WON
    assert Lead.objects.get(pk=opportunity.lead_id).status == Lead.Status.WON


@pytest.mark.django_db
def test_bad_details_are_shown_on_the_page_and_nothing_is_saved(client_for, ae, opportunity):
    response = client_for(ae).post(
        reverse("accounts:details", args=[opportunity.pk]),
        {"on": "page", "amount": "-3", "close_date": "2027-02-30", "next_step": "Keep"},
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter an amount of zero or more." in body and "Enter a date" in body
    opportunity.refresh_from_db()
    assert opportunity.amount == Decimal("15000") and opportunity.next_step == "Send the proposal"


@pytest.mark.django_db
def test_an_offsite_next_is_ignored(client_for, ae, opportunity):
    response = client_for(ae).post(
        reverse("accounts:details", args=[opportunity.pk]),
        {"amount": "1", "next_step": "x", "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response["Location"] == page(opportunity)


# --- cost ------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("moves", [1, 6])
def test_the_page_costs_the_same_queries_whatever_its_history(
    client_for, django_assert_num_queries, ae, opportunity, moves
):
    names = ["Demo", "Proposal", "Negotiation", "Discovery"]
    for n in range(moves):
        move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stage(names[n % 4]).pk)
    client = client_for(ae)
    client.get(page(opportunity))

    # session, user (with their zone), the opportunity, its work items, its events, the lead's
    # events and activities, scoring settings, the stages for the move form, the accounts whose
    # contacts the AE may email (the contact's address links to the composer), and the calls,
    # meetings and notes logged on it
    with django_assert_num_queries(11):
        response = client.get(page(opportunity))
    assert response.status_code == 200
