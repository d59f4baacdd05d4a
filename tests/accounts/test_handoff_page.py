"""The SDR's qualify & hand-off page: what it shows, who may use it, the hand-off it makes, the
errors it answers with (nothing changed), and a returned handoff seen back in the queue."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts import services as accounts
from accounts.models import Account, Opportunity
from leads.models import Lead
from sdr import services as sdr
from sdr.models import Cadence, CadenceStep
from sdr.services import cadences
from tests.factories import UserFactory, handoff_snapshot, routed_lead
from work.models import SlaPolicy, WorkItem

HTMX = {"HTTP_HX_REQUEST": "true"}
# Tuesday 24 November 2026, 10:00 in Berlin (CET, UTC+1): the SDRs' team calendar.
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def lead(inbound_sdr):
    return routed_lead(
        inbound_sdr,
        email="dana.scully@acme-widgets.example",
        first_name="Dana",
        last_name="Scully",
        company="Acme Widgets",
        title="Head of Sales Ops",
        fit_grade="A",
    )


def url(lead) -> str:
    return reverse("accounts:handoff", args=[lead.pk])


def form_data(**changes) -> dict:
    """What an SDR types: the meeting on Thursday at 15:00 their (Berlin) time."""
    data = {
        "budget": "partly",
        "budget_note": "Budget is being set for Q1.",
        "authority": "confirmed",
        "authority_note": "Signs off up to 50k.",
        "need": "confirmed",
        "need_note": "Their SDRs miss hand-raisers.",
        "timing": "partly",
        "timing_note": "Live before the spring campaign.",
        "asked_for_meeting": "on",
        "proposed_meeting_at": "2026-11-26T15:00",
        "amount": "24000",
        "ae": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def errors_of(response) -> dict:
    return {field: list(messages) for field, messages in response.context["form"].errors.items()}


# --- the page ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_shows_the_lead_its_last_touches_and_the_form(client_for, inbound_sdr, lead, ae):
    sdr.log_touch(lead_id=lead.pk, by=inbound_sdr, kind="call", outcome="connected", note="Wants a demo")
    response = client_for(inbound_sdr).get(url(lead))
    body = response.content.decode()
    assert response.status_code == 200
    for shown in ("Dana Scully", "Acme Widgets", "Head of Sales Ops", "Wants a demo", "Call"):
        assert shown in body
    assert re.search(r'class="grade grade-A">A\d<', body)
    assert "By territory (round-robin)" in body and str(ae) in body
    assert "Europe/Berlin" in body  # the meeting time is typed in the SDR's calendar time
    for name in ("budget", "authority", "need", "timing", "need_note", "proposed_meeting_at", "amount"):
        assert f'name="{name}"' in body


@pytest.mark.django_db
def test_only_active_account_executives_are_offered(client_for, inbound_sdr, lead, ae, other_sdr, am):
    gone = UserFactory(username="gone", first_name="Gone", last_name="Away", role="ae", is_active=False)
    body = client_for(inbound_sdr).get(url(lead)).content.decode()
    options = re.findall(r'<option value="(\d*)"', body)
    assert options == ["", str(ae.pk)]
    assert str(gone) not in body


@pytest.mark.django_db
def test_the_queue_panel_opens_the_form_in_place(client_for, inbound_sdr, lead):
    item = WorkItem.objects.for_subject(lead).get()
    client = client_for(inbound_sdr)
    panel = client.get(reverse("sdr:item", args=[item.pk]), **HTMX).content.decode()
    assert f'hx-get="{url(lead)}?from=queue"' in panel and "Qualify &amp; hand off" in panel
    form = client.get(url(lead) + "?from=queue", **HTMX)
    body = form.content.decode()
    assert form.status_code == 200 and "<html" not in body
    assert f'hx-post="{url(lead)}"' in body and 'name="from" value="queue"' in body


@pytest.mark.django_db
def test_the_lead_page_offers_the_hand_off_to_its_sdr(client_for, inbound_sdr, lead):
    body = client_for(inbound_sdr).get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert f'href="{url(lead)}"' in body


@pytest.mark.django_db
def test_the_lead_page_offers_no_hand_off_for_a_lead_out_of_the_queue(client_for, inbound_sdr, lead):
    sdr.dispose_lead(lead_id=lead.pk, by=inbound_sdr, to="disqualified", reason="Spam or fake details")
    body = client_for(inbound_sdr).get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert url(lead) not in body


# --- handing off ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sdr_hands_off_to_the_territorys_ae(client_for, inbound_sdr, lead, ae, ae_rule):
    client = client_for(inbound_sdr)
    response = client.post(url(lead), form_data())
    assert response.status_code == 302 and response["Location"] == reverse("sdr:queue")

    opportunity = Opportunity.objects.select_related("account", "contact").get()
    queue = client.get(reverse("sdr:queue")).content.decode()
    assert f"Handed off to {ae}: {opportunity.name}." in queue
    assert f'href="/leads/{lead.pk}/"' not in queue  # the lead left the SDR's queue

    assert (opportunity.owner, opportunity.sdr, opportunity.status) == (ae, inbound_sdr, "handed_off")
    assert opportunity.account.domain == "acme-widgets.example"
    assert opportunity.account.name == "Acme Widgets"
    assert opportunity.contact.email == lead.email and opportunity.contact.lead_id == lead.pk
    assert (opportunity.need, opportunity.need_note) == ("confirmed", "Their SDRs miss hand-raisers.")
    assert opportunity.asked_for_meeting is True and opportunity.amount == Decimal("24000")
    # Thursday 15:00 in Berlin is 14:00 UTC.
    assert opportunity.proposed_meeting_at == datetime(2026, 11, 26, 14, 0, tzinfo=UTC)

    lead.refresh_from_db()
    assert lead.status == Lead.Status.HANDED_OFF
    first_touch = WorkItem.objects.for_subject(lead).get(kind=WorkItem.Kind.FIRST_TOUCH)
    assert first_touch.state == WorkItem.State.DONE
    acceptance = WorkItem.objects.for_subject(opportunity).get()
    assert (acceptance.kind, acceptance.owner, acceptance.state) == ("accept_handoff", ae, "open")
    assert acceptance.policy.key == SlaPolicy.ACCEPT_HANDOFF


@pytest.mark.django_db
def test_sdr_hands_off_to_an_ae_chosen_by_hand(client_for, inbound_sdr, lead, ae, other_ae, ae_rule):
    response = client_for(inbound_sdr).post(url(lead), form_data(ae=str(other_ae.pk)))
    assert response.status_code == 302
    opportunity = Opportunity.objects.get()
    assert opportunity.owner == other_ae
    assert WorkItem.objects.for_subject(opportunity).get().owner == other_ae


@pytest.mark.django_db
def test_an_ae_chosen_by_hand_needs_no_territory_rule(client_for, inbound_sdr, lead, ae):
    assert client_for(inbound_sdr).post(url(lead), form_data(ae=str(ae.pk))).status_code == 302
    assert Opportunity.objects.get().owner == ae


@pytest.mark.django_db
def test_the_account_is_matched_by_the_email_domain(client_for, inbound_sdr, lead, ae):
    acme = Account.objects.create(name="ACME Widgets Inc.", domain="acme-widgets.example")
    client_for(inbound_sdr).post(url(lead), form_data(ae=str(ae.pk)))
    assert Opportunity.objects.get().account == acme
    assert Account.objects.count() == 1


@pytest.mark.django_db
def test_a_hand_off_without_meeting_or_amount_is_fine_when_the_prospect_did_not_ask(
    client_for, inbound_sdr, lead, ae
):
    data = form_data(ae=str(ae.pk), asked_for_meeting=None, proposed_meeting_at="", amount="")
    assert client_for(inbound_sdr).post(url(lead), data).status_code == 302
    opportunity = Opportunity.objects.get()
    assert (opportunity.proposed_meeting_at, opportunity.amount, opportunity.asked_for_meeting) == (
        None,
        None,
        False,
    )


@pytest.mark.django_db
def test_with_htmx_a_hand_off_sends_the_browser_back_to_the_queue(client_for, inbound_sdr, lead, ae):
    response = client_for(inbound_sdr).post(url(lead), form_data(ae=str(ae.pk), **{"from": "queue"}), **HTMX)
    assert response.status_code == 204 and response["HX-Redirect"] == reverse("sdr:queue")
    assert Opportunity.objects.count() == 1


@pytest.mark.django_db
def test_a_manager_hands_off_a_lead_of_their_team(client_for, manager, inbound_sdr, lead, ae):
    client = client_for(manager)
    assert client.get(url(lead)).status_code == 200
    response = client.post(url(lead), form_data(ae=str(ae.pk)))
    assert response["Location"] == reverse("sdr:queue") + f"?rep={inbound_sdr.pk}"
    assert Opportunity.objects.get().sdr == inbound_sdr  # the SDR who worked it is credited


# --- who may ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["other_sdr", "other_manager"])
def test_someone_elses_lead_is_not_found(client_for, request, lead, ae, who):
    client = client_for(request.getfixturevalue(who))
    before = handoff_snapshot(lead)
    assert client.get(url(lead)).status_code == 404
    assert client.post(url(lead), form_data(ae=str(ae.pk))).status_code == 404
    assert handoff_snapshot(lead) == before


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["ae", "am", "marketing"])
def test_roles_without_a_queue_are_forbidden(client_for, request, lead, ae, who):
    client = client_for(request.getfixturevalue(who))
    before = handoff_snapshot(lead)
    assert client.get(url(lead)).status_code == 403
    assert client.post(url(lead), form_data(ae=str(ae.pk))).status_code == 403
    assert handoff_snapshot(lead) == before


@pytest.mark.django_db
def test_an_anonymous_visitor_is_sent_to_log_in(client, lead):
    response = client.get(url(lead))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_an_unknown_lead_is_not_found(client_for, inbound_sdr):
    assert client_for(inbound_sdr).get(reverse("accounts:handoff", args=[987654])).status_code == 404


# --- refused, nothing changed --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_disqualified_lead_says_why_and_offers_no_form(client_for, inbound_sdr, lead, ae):
    sdr.dispose_lead(lead_id=lead.pk, by=inbound_sdr, to="disqualified", reason="Spam or fake details")
    client = client_for(inbound_sdr)
    body = client.get(url(lead)).content.decode()
    assert "This lead cannot be handed off" in body and "Disqualified" in body
    assert "<form" not in body.split("<main>")[1]

    before = handoff_snapshot(lead)
    response = client.post(url(lead), form_data(ae=str(ae.pk)))
    assert response.status_code == 400
    assert "A lead in Disqualified cannot be handed off" in response.content.decode()
    assert handoff_snapshot(lead) == before


@pytest.mark.django_db
def test_handing_off_twice_is_refused(client_for, inbound_sdr, lead, ae):
    client = client_for(inbound_sdr)
    client.post(url(lead), form_data(ae=str(ae.pk)))
    before = handoff_snapshot(lead)
    response = client.post(url(lead), form_data(ae=str(ae.pk)))
    assert response.status_code == 400
    body = response.content.decode()
    assert "A lead in Handed off cannot be handed off" in body
    assert f"It was handed off to {ae}" in body
    assert handoff_snapshot(lead) == before


@pytest.mark.django_db
def test_without_a_territory_rule_the_ae_must_be_chosen(client_for, inbound_sdr, lead, ae):
    before = handoff_snapshot(lead)
    response = client_for(inbound_sdr).post(url(lead), form_data(ae=""))
    assert response.status_code == 400
    assert errors_of(response) == {"ae": [accounts_ae_message()]}
    assert handoff_snapshot(lead) == before


def accounts_ae_message() -> str:
    return "No AE territory rule matches this lead, or every AE in it is away: choose an AE."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"proposed_meeting_at": "2026-11-24T09:00"}, "proposed_meeting_at", "in the future"),
        ({"proposed_meeting_at": "2028-01-10T09:00"}, "proposed_meeting_at", "within the next year"),
        ({"proposed_meeting_at": ""}, "proposed_meeting_at", "asked for a meeting: propose its time"),
        ({"proposed_meeting_at": "Thursday"}, "proposed_meeting_at", "Enter a date and time."),
        ({"need": "unknown"}, "need", "without a confirmed need is not qualified"),
        ({"need_note": "  "}, "need_note", "Say what the prospect needs"),
        ({"budget": ""}, "budget", "Choose one of: Confirmed, Partly, Not yet known."),
        ({"timing": "soonish"}, "timing", "Choose one of: Confirmed, Partly, Not yet known."),
        ({"amount": "-5"}, "amount", "Enter an amount of zero or more."),
        ({"amount": "lots"}, "amount", "Enter an amount"),
    ],
)
def test_an_invalid_qualification_is_refused_beside_its_field(
    client_for, inbound_sdr, lead, ae, changes, field, message
):
    before = handoff_snapshot(lead)
    response = client_for(inbound_sdr).post(url(lead), form_data(ae=str(ae.pk), **changes))
    assert response.status_code == 400
    errors = errors_of(response)
    assert list(errors) == [field] and message in errors[field][0]
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert handoff_snapshot(lead) == before


@pytest.mark.django_db
def test_every_problem_is_listed_at_once(client_for, inbound_sdr, lead, ae):
    data = form_data(ae=str(ae.pk), need="unknown", need_note="", budget="", proposed_meeting_at="")
    response = client_for(inbound_sdr).post(url(lead), data)
    assert set(errors_of(response)) == {"need", "need_note", "budget", "proposed_meeting_at"}


@pytest.mark.django_db
@pytest.mark.parametrize("chosen", ["other_sdr", "am", "inactive_ae"])
def test_choosing_someone_who_is_not_an_active_ae_is_refused(client_for, request, inbound_sdr, lead, chosen):
    if chosen == "inactive_ae":
        person = UserFactory(role="ae", is_active=False)
    else:
        person = request.getfixturevalue(chosen)
    before = handoff_snapshot(lead)
    response = client_for(inbound_sdr).post(url(lead), form_data(ae=str(person.pk)))
    assert response.status_code == 400
    assert errors_of(response)["ae"] == [
        "Choose an active account executive from the list, or leave it to the territory's round-robin."
    ]
    assert handoff_snapshot(lead) == before


@pytest.mark.django_db
def test_with_htmx_a_refused_form_comes_back_in_place_with_its_errors(client_for, inbound_sdr, lead, ae):
    response = client_for(inbound_sdr).post(url(lead), form_data(ae=str(ae.pk), need="unknown"), **HTMX)
    body = response.content.decode()
    assert response.status_code == 400 and "<html" not in body
    assert body.strip().startswith(f'<div class="handoff" id="handoff-{lead.pk}">')
    assert "without a confirmed need is not qualified" in body
    assert 'value="unknown"' in body and "Their SDRs miss hand-raisers." in body  # what was typed stays


# --- a returned handoff, back in the queue --------------------------------------------------------


def returned(sdr_user, ae, lead) -> Opportunity:
    opportunity = accounts.hand_off(
        lead_id=lead.pk,
        by=sdr_user,
        qualifying=accounts.Qualifying(
            budget="unknown", authority="partly", need="partly", timing="unknown", need_note="Curious."
        ),
        ae=ae,
    )
    return accounts.reject_handoff(
        opportunity_id=opportunity.pk,
        by=ae,
        reason="Not qualified: no budget",
        note="No budget until next fiscal year; call them back in March.",
    )


@pytest.mark.django_db
def test_a_rejected_handoff_shows_in_the_queue_with_the_reason_and_the_aes_note(
    client_for, inbound_sdr, lead, ae
):
    returned(inbound_sdr, ae, lead)
    client = client_for(inbound_sdr)
    body = client.get(reverse("sdr:queue")).content.decode()
    item = WorkItem.objects.for_subject(lead).get(state="open")
    row = re.search(rf'<li class="q-row[^"]*" id="item-{item.pk}".*?</li>', body, re.S).group(0)
    assert '<span class="tag returned">Returned</span>' in row
    assert f"Handoff rejected by {ae}: Not qualified: no budget" in row
    assert "No budget until next fiscal year; call them back in March." in row

    panel = client.get(reverse("sdr:item", args=[item.pk]), **HTMX).content.decode()
    assert "The AE\u2019s note" in panel and "call them back in March" in panel


@pytest.mark.django_db
def test_a_rejected_handoff_is_on_the_lead_page_and_the_next_hand_off_form(client_for, inbound_sdr, lead, ae):
    returned(inbound_sdr, ae, lead)
    client = client_for(inbound_sdr)
    lead_page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    timeline = lead_page.split('id="timeline"')[1]
    assert f"Handoff rejected by {ae}: Not qualified: no budget. No budget until next fiscal year" in timeline
    assert f'href="{url(lead)}"' in lead_page  # working again: it can be handed off again

    form_page = client.get(url(lead)).content.decode()
    assert "Returned</span> by" in form_page and "call them back in March" in form_page


@pytest.mark.django_db
def test_the_next_hand_off_starts_from_what_the_sdr_wrote_last_time(client_for, inbound_sdr, lead, ae):
    returned(inbound_sdr, ae, lead)
    form = client_for(inbound_sdr).get(url(lead)).context["form"]
    assert form["need_note"].value() == "Curious."
    assert (form["budget"].value(), form["need"].value()) == ("unknown", "partly")
    assert form["proposed_meeting_at"].value() is None  # the last proposal has most likely passed


@pytest.mark.django_db
def test_times_are_shown_in_the_sdrs_calendar_time(client_for, inbound_sdr, lead):
    sdr.log_touch(lead_id=lead.pk, by=inbound_sdr, kind="call")
    body = client_for(inbound_sdr).get(url(lead)).content.decode()
    assert "Tue 24 Nov 2026, 10:00 CET" in body  # 09:00 UTC in Berlin


@pytest.mark.django_db
def test_a_returned_lead_can_be_handed_off_again(client_for, inbound_sdr, lead, ae):
    returned(inbound_sdr, ae, lead)
    response = client_for(inbound_sdr).post(url(lead), form_data(ae=str(ae.pk)))
    assert response.status_code == 302
    assert list(Opportunity.objects.order_by("pk").values_list("status", flat=True)) == [
        "rejected",
        "handed_off",
    ]
    assert not WorkItem.objects.for_subject(lead).filter(state="open").exists()


@pytest.mark.django_db
def test_cadence_steps_show_as_such_with_their_instructions(client_for, inbound_sdr, lead):
    cadence = Cadence.objects.create(name="Inbound follow-up")
    CadenceStep.objects.create(
        cadence=cadence, position=1, day_offset=0, channel="email", instructions="Send the ROI one-pager."
    )
    sdr.log_touch(lead_id=lead.pk, by=inbound_sdr, kind="call")
    cadences.enroll(lead_id=lead.pk, cadence_id=cadence.pk, by=inbound_sdr)
    item = WorkItem.objects.for_subject(lead).get(state="open", kind=WorkItem.Kind.CADENCE_STEP)
    client = client_for(inbound_sdr)
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        body = client.get(reverse("sdr:queue")).content.decode()
    row = re.search(rf'<li class="q-row[^"]*" id="item-{item.pk}".*?</li>', body, re.S).group(0)
    assert '<span class="tag">Cadence step</span>' in row and item.title in row
    panel = client.get(reverse("sdr:item", args=[item.pk]), **HTMX).content.decode()
    assert "Step instructions:</strong> Send the ROI one-pager." in panel


# --- a fixed number of queries --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 12])
def test_the_page_issues_the_same_queries_whatever_the_history(
    client_for, django_assert_num_queries, inbound_sdr, lead, size
):
    for n in range(size):
        sdr.log_touch(lead_id=lead.pk, by=inbound_sdr, kind="email", note=f"Touch {n}")
        UserFactory(role="ae")
    client = client_for(inbound_sdr)
    client.get(url(lead))
    # session, user with their team's calendar, lead, scoring settings, last handoff, touches, AEs
    with django_assert_num_queries(7):
        response = client.get(url(lead))
    assert response.content.decode().count('<option value="') == size + 1
