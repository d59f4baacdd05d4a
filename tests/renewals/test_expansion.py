"""Expansion leads: someone at a customer goes to the account's AM, not to the SDRs; the AM
opens an upsell / cross-sell opportunity on the account (and wins it), or says "not now"."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.template.loader import get_template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Contact, Opportunity, Stage
from leads.models import Lead, LeadEvent
from leads.services import process_submissions
from renewals.models import AccountEvent, Contract
from renewals.presenters import expansion_items_for
from renewals.services import RenewalsError, claim_expansion_leads, not_now, open_upsell
from sdr import registry
from sdr.services import route_leads, route_waiting_leads
from team.models import Role
from tests.concurrency import run_concurrently
from tests.factories import LeadFactory, UserFactory, customer, raise_hand
from work.models import SlaPolicy, WorkItem

pytestmark = pytest.mark.django_db

# A Tuesday, 10:00 in Berlin: inside the AMs' business hours.
TUESDAY_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _no_drain_task(monkeypatch):
    """The web form asks a worker to capture its submissions; the test drains them itself."""
    monkeypatch.setattr("leads.tasks.request_submission_drain", lambda **kwargs: None)


@pytest.fixture
def acme(am):
    return customer(am)


@pytest.fixture
def other_am(am):
    return UserFactory(username="kim", role=Role.AM, team=am.team)


def sales_ready(email, **fields):
    """A lead the engagement sweep made an MQL (not a hand-raiser), waiting to be routed."""
    return LeadFactory(email=email, status=Lead.Status.MQL, mql_at=timezone.now(), **fields)


def expansion_lead(acme, email="pat@acme.example", **details):
    """An expansion lead in the AM's list: someone at Acme asked for a call."""
    with time_machine.travel(TUESDAY_10, tick=False):
        return raise_hand(email, first_name="Pat", last_name="Lee", title="Head of Ops", **details)


def upsell(client, lead, **data):
    body = {"name": "Acme: 20 more seats", "amount": "6000", "note": "Their support team grows by 20."}
    body.update(data)
    return client.post(reverse("renewals:expansion_upsell", args=[lead.pk]), body, **HTMX)


def not_now_post(client, lead, **data):
    body = {"reason": "No budget this year", "note": "Ask again in Q3."}
    body.update(data)
    return client.post(reverse("renewals:expansion_not_now", args=[lead.pk]), body, **HTMX)


# --- routing -------------------------------------------------------------------------------


def test_the_claimer_is_registered_when_the_app_starts():
    assert claim_expansion_leads in registry.claimers()


def test_a_web_form_from_someone_at_a_customer_is_an_expansion_lead_for_its_am(
    client, web_form, am, acme, inbound_sdr, catch_all_rule
):
    with time_machine.travel(TUESDAY_10, tick=False):
        response = client.post(
            reverse("web_form", args=[web_form.key]),
            {"email": "Pat@Acme.example", "first_name": "Pat", "company": "Acme", "wants_call": "on"},
        )
        assert response.status_code == 200
        assert process_submissions() == 1

    lead = Lead.objects.get()
    assert (lead.owner, lead.team, lead.status, lead.hand_raiser) == (am, am.team, Lead.Status.MQL, True)
    item = WorkItem.objects.get()
    assert (item.kind, item.owner, item.team, item.title) == (
        "expansion_lead",
        am,
        am.team,
        "Asked for a call",
    )
    assert item.policy.key == SlaPolicy.EXPANSION_LEAD
    # One business day in the AM's Berlin calendar: Wednesday 10:00.
    assert item.due_at == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    routed = lead.events.get(kind=LeadEvent.Kind.ROUTED)
    assert routed.message == f"Expansion lead: Acme GmbH is a customer; routed to its AM {am}."
    event = AccountEvent.objects.get(account=acme, kind=AccountEvent.Kind.EXPANSION_LEAD)
    assert "Pat" in event.message and "asked for a call" in event.message
    assert not Lead.objects.filter(owner=inbound_sdr).exists()


def test_a_known_contact_at_a_customer_is_an_expansion_lead_whatever_address_they_write_from(
    am, acme, inbound_sdr, catch_all_rule
):
    Contact.objects.create(account=acme, email="pat.lee@gmail.com", first_name="Pat")
    lead = sales_ready("pat.lee@gmail.com", campaign=None)

    result = route_leads(lead_ids=[lead.pk], now=TUESDAY_10)

    assert result.assigned == {lead.pk: am.pk}
    item = WorkItem.objects.get()
    assert (item.kind, item.title) == ("expansion_lead", "Expansion lead")


@pytest.mark.parametrize("case", ["prospect", "churned", "free_mail", "no_am", "inactive_am"])
def test_leads_that_are_not_at_a_served_customer_go_to_the_sdrs(am, inbound_sdr, catch_all_rule, case):
    now = timezone.now()
    if case == "prospect":
        Account.objects.create(name="Initech", domain="initech.example")
        email = "bob@initech.example"
    elif case == "churned":
        Account.objects.create(
            name="Initech", domain="initech.example", account_manager=am, customer_since=now, churned_at=now
        )
        email = "bob@initech.example"
    elif case == "free_mail":
        customer(am, name="Mail", domain="gmail.com")  # nobody's company, whatever the data says
        email = "bob@gmail.com"
    elif case == "no_am":
        customer(None, name="Initech", domain="initech.example")
        email = "bob@initech.example"
    else:
        customer(am, name="Initech", domain="initech.example")
        am.is_active = False
        am.save()
        email = "bob@initech.example"

    with time_machine.travel(TUESDAY_10, tick=False):
        lead = raise_hand(email)

    lead.refresh_from_db()
    assert lead.owner == inbound_sdr
    assert WorkItem.objects.get().kind == WorkItem.Kind.FIRST_TOUCH
    assert not AccountEvent.objects.filter(kind=AccountEvent.Kind.EXPANSION_LEAD).exists()


def test_a_batch_with_both_kinds_routes_each_lead_in_one_call(am, acme, inbound_sdr, catch_all_rule):
    globex = customer(am, name="Globex", domain="globex.example")
    leads = {
        "acme": sales_ready("pat@acme.example"),
        "prospect": sales_ready("bob@initech.example"),
        "globex": sales_ready("ann@globex.example", hand_raiser=True),
        "free": sales_ready("joe@gmail.com"),
    }

    result = route_leads(lead_ids=[lead.pk for lead in leads.values()], now=TUESDAY_10)

    assert result.assigned == {
        leads["acme"].pk: am.pk,
        leads["prospect"].pk: inbound_sdr.pk,
        leads["globex"].pk: am.pk,
        leads["free"].pk: inbound_sdr.pk,
    }
    kinds = dict(WorkItem.objects.values_list("object_id", "kind"))
    assert kinds == {
        leads["acme"].pk: "expansion_lead",
        leads["prospect"].pk: "first_touch",
        leads["globex"].pk: "expansion_lead",
        leads["free"].pk: "first_touch",
    }
    assert WorkItem.objects.get(object_id=leads["globex"].pk).title == "Asked for a call"
    assert Lead.objects.get(pk=leads["globex"].pk).hand_raiser
    accounts = sorted(
        AccountEvent.objects.filter(kind="expansion_lead").values_list("account__name", flat=True)
    )
    assert accounts == [acme.name, globex.name]


@pytest.mark.parametrize("size", [1, 8])
def test_routing_a_mixed_batch_costs_the_same_statements_whatever_its_size(
    am, acme, inbound_sdr, catch_all_rule, size
):
    ids = [sales_ready(f"p{i}@acme.example").pk for i in range(size)]
    ids += [sales_ready(f"b{i}@initech.example").pk for i in range(size)]
    ContentType.objects.get_for_model(Lead)  # cached for the process: warm it, whatever ran before
    with CaptureQueriesContext(connection) as queries:
        route_leads(lead_ids=ids, now=TUESDAY_10)
    # Savepoint x2 and the leads locked; their nurture tracks (none here); the claim: contacts,
    # accounts, policy, the AM team's calendar (4), items, events, account events; the rest:
    # rules, round-robin (2), reps, policies, leads, positions, events, the SDR team's calendar
    # (4), items; "assigned to you" for the AM and the SDR: their email choices and addresses, one
    # insert.
    assert len(queries) == 30
    assert Lead.objects.filter(owner=am).count() == size


def test_the_routing_sweep_gives_leads_at_customers_to_their_am(am, acme, inbound_sdr, catch_all_rule):
    at_customer, prospect = sales_ready("pat@acme.example"), sales_ready("bob@initech.example")

    with time_machine.travel(TUESDAY_10, tick=False):
        result = route_waiting_leads()

    assert result.assigned == {at_customer.pk: am.pk, prospect.pk: inbound_sdr.pk}
    assert route_waiting_leads().assigned == {}  # nothing left to route


# --- the AM works it -------------------------------------------------------------------------


def test_the_am_opens_an_upsell_on_the_account_and_wins_it(
    client_for, am, acme, ae, inbound_sdr, catch_all_rule
):
    lead = expansion_lead(acme)
    client = client_for(am)

    with time_machine.travel(TUESDAY_10 + timedelta(hours=2), tick=False):
        response = upsell(client, lead)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme: 20 more seats: opened on Acme GmbH, in Discovery." in body
    assert "No expansion leads waiting" in body
    opportunity = Opportunity.objects.get()
    assert (opportunity.kind, opportunity.owner, opportunity.account, opportunity.status) == (
        Opportunity.Kind.EXPANSION, am, acme, Opportunity.Status.OPEN,
    )  # fmt: skip
    assert (opportunity.stage.name, opportunity.amount, opportunity.lead) == (
        "Discovery",
        Decimal("6000"),
        lead,
    )
    assert opportunity.accepted_at == TUESDAY_10 + timedelta(hours=2)
    assert (opportunity.need, opportunity.need_note) == ("confirmed", "Their support team grows by 20.")
    assert (opportunity.budget, opportunity.authority, opportunity.timing) == ("unknown",) * 3
    assert opportunity.asked_for_meeting
    assert (opportunity.contact.email, opportunity.contact.account) == ("pat@acme.example", acme)
    lead.refresh_from_db()
    assert lead.status == Lead.Status.HANDED_OFF
    item = WorkItem.objects.get()
    assert (item.state, item.completed_by) == (WorkItem.State.DONE, am)
    assert lead.events.filter(kind=LeadEvent.Kind.OPPORTUNITY).exists()

    page = client.get(reverse("accounts:opportunity", args=[opportunity.pk]))
    assert page.status_code == 200
    assert 'id="move"' in page.content.decode()
    assert client_for(ae).get(reverse("accounts:pipeline")).content.decode().count("20 more seats") == 0
    client = client_for(am)
    assert (
        client.post(
            reverse("accounts:details", args=[opportunity.pk]),
            {"amount": "7500", "next_step": "Send the order form"},
        ).status_code
        == 302
    )
    won = Stage.objects.get(kind=Stage.Kind.WON)
    response = client.post(reverse("accounts:move", args=[opportunity.pk]), {"stage": won.pk})

    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.WON
    add_on = Contract.objects.get(account=acme)
    assert (add_on.annual_value, add_on.products, add_on.opportunity) == (
        Decimal("7500.00"), "Acme: 20 more seats", opportunity,
    )  # fmt: skip
    lead.refresh_from_db()
    assert lead.status == Lead.Status.WON


def test_the_ae_pipeline_never_shows_an_ams_upsell(client_for, am, acme, ae, inbound_sdr, catch_all_rule):
    lead = expansion_lead(acme)
    open_upsell(lead_id=lead.pk, by=am, name="Acme: cross-sell analytics", note="Wants analytics.")

    for view in ("board", "list"):
        body = client_for(ae).get(reverse("accounts:pipeline"), {"view": view}).content.decode()
        assert "cross-sell analytics" not in body


def test_not_now_sends_the_lead_back_to_nurture_and_a_later_request_comes_back_to_the_am(
    client_for, am, acme, inbound_sdr, catch_all_rule
):
    lead = expansion_lead(acme)

    response = not_now_post(client_for(am), lead)

    assert response.status_code == 200
    assert "back to nurture (No budget this year)" in response.content.decode()
    lead.refresh_from_db()
    assert (lead.status, lead.owner, lead.team) == (Lead.Status.NURTURE, None, None)
    assert lead.status_reason == "Not now: No budget this year. Ask again in Q3."
    item = WorkItem.objects.get()
    assert (item.state, item.completed_by) == (WorkItem.State.DONE, am)
    assert AccountEvent.objects.filter(account=acme, message__contains="Not now").exists()
    assert not Opportunity.objects.exists()

    with time_machine.travel(TUESDAY_10 + timedelta(days=30), tick=False):
        raise_hand("pat@acme.example")
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == (Lead.Status.MQL, am)
    assert WorkItem.objects.open().get().kind == WorkItem.Kind.EXPANSION_LEAD


def test_the_ams_manager_may_act_for_them(client_for, am, am_manager, acme):
    lead = expansion_lead(acme)

    assert upsell(client_for(am_manager), lead).status_code == 200

    opportunity = Opportunity.objects.get()
    assert opportunity.owner == am
    assert "for" in opportunity.events.get().message


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"note": ""}, "Say what the customer wants"),
        ({"name": " "}, "Name the opportunity"),
        ({"amount": "-5"}, "Enter an amount of zero or more."),
        ({"amount": "1e20"}, "Enter an amount below 1,000,000,000,000."),
        ({"amount": "NaN"}, "Enter an amount"),
    ],
)
def test_a_refused_upsell_shows_why_and_changes_nothing(client_for, am, acme, data, field_error):
    lead = expansion_lead(acme)

    response = upsell(client_for(am), lead, **data)

    assert response.status_code == 400
    assert field_error in response.content.decode()
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == (Lead.Status.MQL, am)
    assert WorkItem.objects.open().count() == 1 and not Opportunity.objects.exists()


def test_a_refused_not_now_shows_why_and_changes_nothing(client_for, am, acme):
    lead = expansion_lead(acme)

    response = not_now_post(client_for(am), lead, reason="Because")

    assert response.status_code == 400
    assert "Choose a reason from the list." in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == Lead.Status.MQL and WorkItem.objects.open().count() == 1


def test_a_lead_already_dealt_with_is_refused_with_409(client_for, am, acme):
    lead = expansion_lead(acme)
    client = client_for(am)
    assert upsell(client, lead).status_code == 200

    again = not_now_post(client, lead)

    assert again.status_code == 409
    assert "This lead is already handed off" in again.content.decode()
    assert Opportunity.objects.count() == 1


def test_without_javascript_the_actions_redirect_back_with_a_message(client_for, am, acme):
    lead = expansion_lead(acme)
    client = client_for(am)
    url = reverse("renewals:expansion_upsell", args=[lead.pk])

    refused = client.post(url, {"name": "Acme: seats", "note": ""}, follow=False)
    assert refused.status_code == 302 and refused["Location"] == reverse("renewals:renewals")
    assert not Opportunity.objects.exists()

    done = client.post(url, {"name": "Acme: seats", "note": "More seats."})
    assert done.status_code == 302
    assert Opportunity.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [("other_am", 404), ("manager", 404), ("inbound_sdr", 403), ("ae", 403), ("marketing", 403)],
)
def test_only_the_leads_am_or_their_manager_works_it(client_for, request, am, acme, who, status):
    lead = expansion_lead(acme)
    client = client_for(request.getfixturevalue(who))

    assert upsell(client, lead).status_code == status
    assert not_now_post(client, lead).status_code == status

    lead.refresh_from_db()
    assert (lead.status, lead.owner) == (Lead.Status.MQL, am)
    assert not Opportunity.objects.exists()


def test_an_sdrs_lead_is_not_an_expansion_lead_even_for_their_manager(
    client_for, manager, inbound_sdr, catch_all_rule
):
    with time_machine.travel(TUESDAY_10, tick=False):
        lead = raise_hand("bob@initech.example")

    assert upsell(client_for(manager), lead).status_code == 404


def test_the_services_refuse_who_may_not_work_the_lead(am, other_am, acme):
    lead = expansion_lead(acme)
    with pytest.raises(RenewalsError, match="Only the lead's account manager"):
        open_upsell(lead_id=lead.pk, by=other_am, name="Seats", note="More seats.")
    with pytest.raises(RenewalsError, match="Only the lead's account manager"):
        not_now(lead_id=lead.pk, by=other_am, reason="Other")


@pytest.mark.parametrize(
    ("who", "page_status", "move_status"),
    [("other_am", 403, 403), ("ae", 404, 404), ("inbound_sdr", 404, 403)],
)
def test_others_cannot_open_or_move_an_ams_upsell(
    client_for, request, am, acme, who, page_status, move_status
):
    lead = expansion_lead(acme)
    opportunity = open_upsell(
        lead_id=lead.pk, by=am, name="Acme: seats", note="More seats.", amount=Decimal(10)
    )
    client = client_for(request.getfixturevalue(who))
    won = Stage.objects.get(kind=Stage.Kind.WON)

    assert client.get(reverse("accounts:opportunity", args=[opportunity.pk])).status_code == page_status
    assert (
        client.post(reverse("accounts:move", args=[opportunity.pk]), {"stage": won.pk}).status_code
        == move_status
    )
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.OPEN


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_deal_with_the_lead_once(am, acme):
    lead = expansion_lead(acme)

    outcomes = run_concurrently(
        lambda: open_upsell(lead_id=lead.pk, by=am, name="Seats", note="More seats."),
        lambda: not_now(lead_id=lead.pk, by=am, reason="Other"),
    )

    assert sum(isinstance(o, RenewalsError) for o in outcomes) == 1
    lead.refresh_from_db()
    assert lead.status in (Lead.Status.HANDED_OFF, Lead.Status.NURTURE)
    assert WorkItem.objects.get().state == WorkItem.State.DONE


# --- the AM's list ---------------------------------------------------------------------------


def leads_for(am, acme, n):
    ids = [sales_ready(f"p{i}@acme.example", hand_raiser=bool(i % 2)).pk for i in range(n)]
    route_leads(lead_ids=ids, now=TUESDAY_10)
    return ids


@pytest.mark.parametrize("size", [1, 7])
def test_the_list_costs_four_queries_whatever_its_size(am, am_manager, acme, size, django_assert_num_queries):
    leads_for(am, acme, size)
    template = get_template("renewals/_expansion_leads.html")

    for user in (am, am_manager):
        with django_assert_num_queries(4):  # items, leads, contacts, accounts
            items = expansion_items_for(user, now=TUESDAY_10)
            html = template.render({"expansion_items": items, "user": user})
        assert len(items) == size
        assert html.count('class="sla sla-on_track"') == size
        assert "Acme GmbH" in html


def test_the_list_shows_the_ams_own_leads_most_urgent_first(am, other_am, acme, inbound_sdr, ae):
    mine = expansion_lead(acme, "pat@acme.example")
    theirs_account = customer(other_am, name="Globex", domain="globex.example")
    with time_machine.travel(TUESDAY_10, tick=False):
        theirs = raise_hand("ann@globex.example")
    assert Lead.objects.get(pk=theirs.pk).owner == other_am and theirs_account.is_customer

    assert [item.expansion_lead for item in expansion_items_for(am, now=TUESDAY_10)] == [mine]
    assert [item.expansion_lead for item in expansion_items_for(other_am, now=TUESDAY_10)] == [theirs]
    assert expansion_items_for(inbound_sdr) == [] and expansion_items_for(ae) == []
    item = expansion_items_for(am, now=TUESDAY_10 + timedelta(days=2))[0]
    assert (item.sla_css, item.account) == ("breached", acme)


@pytest.mark.parametrize("pk", [0, 999_999, 2**63, 10**30])
def test_unknown_leads_are_404_not_500(client_for, am, pk):
    client = client_for(am)
    for name in ("renewals:expansion_upsell", "renewals:expansion_not_now"):
        assert (
            client.post(reverse(name, args=[pk]), {"reason": "Other", "note": "x"}, **HTMX).status_code == 404
        )


def test_the_actions_take_posts_only(client_for, am, acme):
    lead = expansion_lead(acme)
    assert client_for(am).get(reverse("renewals:expansion_upsell", args=[lead.pk])).status_code == 405


def test_expansion_leads_follow_the_account_to_its_new_am(acme, am, other_am):
    from renewals.services import assign_account_manager

    pat = expansion_lead(acme)
    elsewhere = customer(am, name="Globex", domain="globex.example")
    kim_lead = expansion_lead(elsewhere, email="kim@globex.example")

    assign_account_manager(account_id=acme.pk, am=other_am, by=None, reason="Territory change.")

    pat.refresh_from_db()
    kim_lead.refresh_from_db()
    assert (pat.owner, kim_lead.owner) == (other_am, am)  # Globex stays with its AM
    assert WorkItem.objects.get(object_id=pat.pk, kind="expansion_lead").owner == other_am
    assert [i.expansion_lead for i in expansion_items_for(other_am)] == [pat]
    assert pat.events.filter(message__contains="moved to").exists()
