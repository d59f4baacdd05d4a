"""The opportunities API: the list and one opportunity for whoever may see them, the accept,
reject, move and details actions with their refusals (400 on a field, 403 for a role, 404 for
what is not theirs, 409 for a state), the stages, the schema, and a fixed query count."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from accounts.models import Opportunity, OpportunityEvent
from accounts.services import accept_handoff, move_stage, update_opportunity
from leads.models import Lead
from tests.factories import CampaignFactory, accepted, handed_off, stage

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _that_tuesday():
    """Every test here happens an hour after its opportunities were handed off or accepted, on
    Tuesday 24 November 2026, whatever the real date."""
    with time_machine.travel(NOW + timedelta(hours=1)):
        yield


LIST = "/api/v1/opportunities/"


def url(opportunity, action: str = "") -> str:
    return f"{LIST}{opportunity.pk}/" + (f"{action}/" if action else "")


def post(client, path: str, body: dict | None = None):
    return client.post(path, body or {}, content_type="application/json")


@pytest.fixture
def handoff(inbound_sdr, ae):
    return handed_off(inbound_sdr, ae, now=NOW, first_name="Hana", company="Hana GmbH")


@pytest.fixture
def opportunity(inbound_sdr, ae):
    return accepted(inbound_sdr, ae, now=NOW, first_name="Olli", company="Olli AG")


# --- reading ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_shows_source_qualification_and_state(client_for, inbound_sdr, ae, handoff):
    response = client_for(ae).get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["id"] == handoff.pk and row["status"] == "handed_off"
    assert row["status_label"] == "Awaiting acceptance"
    assert row["account"]["name"] == "Hana GmbH" and row["sdr_name"] == str(inbound_sdr)
    assert row["origin"] == "inbound" and row["need"] == "confirmed"
    assert row["need_note"].startswith("Their SDRs miss hand-raisers")
    assert row["page"].endswith(f"/opportunities/{handoff.pk}/")


@pytest.mark.django_db
def test_one_opportunity_comes_with_its_events_and_acceptance_timer(client_for, ae, handoff):
    response = client_for(ae).get(url(handoff))

    assert response.status_code == 200
    body = response.json()
    assert [e["kind"] for e in body["events"]] == ["handed_off"]
    [item] = body["work_items"]
    assert item["kind"] == "accept_handoff" and item["state"] == "open" and item["sla_state"]
    assert body["contact"]["email"] == handoff.contact.email


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "list_count", "detail"),
    [
        ("ae", 1, 200),
        ("other_ae", 0, 404),  # a teammate's opportunity in the pipeline
        ("far_ae", 0, 404),
        ("inbound_sdr", 1, 200),  # handed it off
        ("other_sdr", 0, 404),
        ("sales_manager", 1, 200),
        ("manager", 1, 200),
        ("other_manager", 0, 404),
        ("marketing", 1, 200),
        ("am", None, 403),
    ],
)
def test_who_sees_an_opportunity(client_for, request, opportunity, who, list_count, detail):
    client = client_for(request.getfixturevalue(who))
    listed = client.get(LIST)
    if list_count is None:
        assert listed.status_code == 403
    else:
        assert listed.status_code == 200 and listed.json()["count"] == list_count
    assert client.get(url(opportunity)).status_code == detail


@pytest.mark.django_db
def test_a_teammate_sees_the_handoffs_waiting_in_the_team(client_for, other_ae, handoff):
    body = client_for(other_ae).get(LIST, {"status": "handed_off"}).json()
    assert [row["id"] for row in body["results"]] == [handoff.pk]


@pytest.mark.django_db
def test_anonymous_callers_are_refused(client, opportunity):
    assert client.get(LIST).status_code in (401, 403)
    assert post(client, url(opportunity, "move"), {"stage": stage("Demo").pk}).status_code in (401, 403)


@pytest.mark.django_db
def test_the_list_takes_the_pipeline_filters(client_for, inbound_sdr, ae, sales_manager, other_ae):
    webinar = CampaignFactory(name="Webinar")
    a = accepted(inbound_sdr, ae, now=NOW, company="Zebra", campaign=webinar)
    b = accepted(inbound_sdr, other_ae, now=NOW)
    update_opportunity(
        opportunity_id=b.pk, by=other_ae, amount=Decimal(900), close_date=date(2027, 1, 1), next_step=""
    )
    client = client_for(sales_manager)
    ids = lambda **q: [row["id"] for row in client.get(LIST, q).json()["results"]]  # noqa: E731

    assert ids(q="zebra") == [a.pk]
    assert ids(campaign=webinar.pk) == [a.pk]
    assert ids(ae=other_ae.pk) == [b.pk]
    assert ids(close_after="2026-12-01") == [b.pk]
    assert ids(stage=stage("Discovery").pk, sort="-amount") == [b.pk, a.pk]
    bad = client.get(LIST, {"stage": 999999, "close_after": "2026-13-45", "ae": inbound_sdr.pk})
    assert bad.status_code == 400 and {"stage", "close", "ae"} <= set(bad.json())


@pytest.mark.django_db
def test_stages_are_listed_in_order(client_for, ae, am):
    body = client_for(ae).get("/api/v1/stages/").json()
    assert [(s["name"], s["kind"]) for s in body][:2] == [("Discovery", "open"), ("Demo", "open")]
    assert body[-1]["kind"] == "lost"
    assert client_for(am).get("/api/v1/stages/").status_code == 403


# --- accept and reject ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_accept_puts_the_handoff_in_the_pipeline(client_for, ae, handoff):
    response = post(client_for(ae), url(handoff, "accept"))

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "open" and body["stage_name"] == "Discovery"
    assert body["work_items"][0]["state"] == "done"


@pytest.mark.django_db
def test_accepting_twice_is_a_conflict_and_changes_nothing(client_for, ae, handoff):
    accept_handoff(opportunity_id=handoff.pk, by=ae, now=NOW + timedelta(minutes=1))
    events = OpportunityEvent.objects.filter(opportunity=handoff).count()

    response = post(client_for(ae), url(handoff, "accept"))

    assert response.status_code == 409
    assert "already answered" in response.json()["detail"]
    handoff.refresh_from_db()
    assert handoff.accepted_at == NOW + timedelta(minutes=1)
    assert OpportunityEvent.objects.filter(opportunity=handoff).count() == events


@pytest.mark.django_db
def test_a_teammate_may_cover_but_not_after_it_was_answered(client_for, ae, other_ae, handoff):
    response = post(client_for(other_ae), url(handoff, "accept"))
    assert response.status_code == 200 and response.json()["owner"] == other_ae.pk

    again = post(client_for(ae), url(handoff, "accept"))
    assert again.status_code == 409


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("inbound_sdr", 403),  # an SDR accepting for the AE
        ("sales_manager", 403),
        ("marketing", 403),
        ("am", 403),
        ("far_ae", 404),
    ],
)
def test_only_an_ae_of_the_team_answers_a_handoff(client_for, request, handoff, who, status):
    client = client_for(request.getfixturevalue(who))
    assert post(client, url(handoff, "accept")).status_code == status
    assert post(client, url(handoff, "reject"), {"reason": "Other", "note": "No"}).status_code == status
    handoff.refresh_from_db()
    assert handoff.status == Opportunity.Status.HANDED_OFF


@pytest.mark.django_db
def test_reject_returns_the_lead_to_its_sdr(client_for, inbound_sdr, ae, handoff):
    response = post(
        client_for(ae), url(handoff, "reject"), {"reason": "Wrong territory or segment", "note": "EMEA only"}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "rejected" and response.json()["reject_note"] == "EMEA only"
    lead = Lead.objects.get(pk=handoff.lead_id)
    assert lead.status == Lead.Status.WORKING and lead.owner == inbound_sdr


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "Because", "note": "x"}, "reason"),
        ({"reason": "Other", "note": ""}, "note"),
        ({"reason": "Other"}, "note"),
        ({"note": "x"}, "reason"),
        ({"reason": "Other", "note": "x" * 2001}, "note"),
        ({"reason": ["Other"], "note": "x"}, "reason"),
    ],
)
def test_a_rejection_needs_a_listed_reason_and_a_note(client_for, ae, handoff, body, field):
    response = post(client_for(ae), url(handoff, "reject"), body)

    assert response.status_code == 400 and field in response.json()
    handoff.refresh_from_db()
    assert handoff.status == Opportunity.Status.HANDED_OFF


@pytest.mark.django_db
def test_rejecting_an_accepted_handoff_is_a_conflict(client_for, ae, opportunity):
    response = post(client_for(ae), url(opportunity, "reject"), {"reason": "Other", "note": "Too late"})

    assert response.status_code == 409
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.OPEN and opportunity.reject_reason == ""


# --- moving and details --------------------------------------------------------------------------


@pytest.mark.django_db
def test_move_to_another_stage(client_for, ae, opportunity):
    response = post(client_for(ae), url(opportunity, "move"), {"stage": stage("Proposal").pk})

    assert response.status_code == 200
    assert response.json()["stage_name"] == "Proposal"
    assert response.json()["events"][0]["to_stage"] == "Proposal"


@pytest.mark.django_db
def test_lost_without_a_reason_is_a_400_on_lost_reason(client_for, ae, opportunity):
    for body in ({"stage": stage("Lost").pk}, {"stage": stage("Lost").pk, "lost_reason": "Meh"}):
        response = post(client_for(ae), url(opportunity, "move"), body)
        assert response.status_code == 400 and "lost_reason" in response.json()
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.OPEN


@pytest.mark.django_db
def test_lost_with_a_reason_closes_and_may_recycle_the_lead(client_for, ae, opportunity):
    response = post(
        client_for(ae),
        url(opportunity, "move"),
        {"stage": stage("Lost").pk, "lost_reason": "Budget cut", "lost_note": "Frozen", "recycle": True},
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["lost_reason"], body["early_loss"]) == ("lost", "Budget cut", True)
    assert Lead.objects.get(pk=opportunity.lead_id).status == Lead.Status.RECYCLED


@pytest.mark.django_db
def test_won_without_an_amount_is_a_400_on_amount(client_for, ae, opportunity):
    response = post(client_for(ae), url(opportunity, "move"), {"stage": stage("Won").pk})

    assert response.status_code == 400
    assert response.json() == {"amount": ["Enter the amount won before closing it won."]}
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.OPEN


@pytest.mark.django_db
@pytest.mark.parametrize("stage_id", [0, -1, 999999, 2**31, "x", None, 1.5, [1]])
def test_moving_to_a_stage_that_does_not_exist_is_a_400_on_stage(client_for, ae, opportunity, stage_id):
    response = post(client_for(ae), url(opportunity, "move"), {"stage": stage_id})

    assert response.status_code == 400 and "stage" in response.json()


@pytest.mark.django_db
def test_moving_a_closed_opportunity_is_a_conflict(client_for, ae, opportunity):
    move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stage("Lost").pk, lost_reason="Price")

    response = post(client_for(ae), url(opportunity, "move"), {"stage": stage("Demo").pk})

    assert response.status_code == 409 and "lost" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("sales_manager", 200),
        ("manager", 403),  # sees it through her SDR, does not manage the AE
        ("marketing", 403),
        ("inbound_sdr", 403),
        ("am", 403),
        ("other_ae", 404),
        ("far_ae", 404),
        ("other_manager", 404),
    ],
)
def test_only_the_ae_and_their_manager_move_and_edit(client_for, request, opportunity, who, status):
    client = client_for(request.getfixturevalue(who))
    assert post(client, url(opportunity, "move"), {"stage": stage("Demo").pk}).status_code == status
    edit = client.patch(url(opportunity, "details"), {"next_step": "Lunch"}, content_type="application/json")
    assert edit.status_code == status
    opportunity.refresh_from_db()
    assert (opportunity.stage.name == "Demo") is (status == 200)


@pytest.mark.django_db
def test_details_change_only_the_fields_sent(client_for, ae, opportunity):
    client = client_for(ae)
    first = client.patch(
        url(opportunity, "details"),
        {"amount": "12000.50", "close_date": "2027-02-01", "next_step": "Send the proposal"},
        content_type="application/json",
    )
    assert first.status_code == 200

    response = client.patch(
        url(opportunity, "details"), {"next_step": "Call the CFO"}, content_type="application/json"
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["amount"], body["close_date"], body["next_step"]) == (
        "12000.50",
        "2027-02-01",
        "Call the CFO",
    )
    cleared = client.patch(url(opportunity, "details"), {"amount": None}, content_type="application/json")
    assert cleared.json()["amount"] is None and cleared.json()["close_date"] == "2027-02-01"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "1" * 20}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "Infinity"}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"close_date": "2026-02-30"}, "close_date"),
        ({"close_date": "yesterday"}, "close_date"),
        ({"next_step": "x" * 301}, "next_step"),
    ],
)
def test_bad_details_are_400s_on_their_field(client_for, ae, opportunity, body, field):
    response = client_for(ae).patch(url(opportunity, "details"), body, content_type="application/json")

    assert response.status_code == 400 and field in response.json()
    opportunity.refresh_from_db()
    assert opportunity.amount is None


@pytest.mark.django_db
def test_details_of_a_closed_opportunity_are_a_conflict(client_for, ae, opportunity):
    update_opportunity(
        opportunity_id=opportunity.pk, by=ae, amount=Decimal(10), close_date=None, next_step=""
    )
    move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stage("Won").pk)

    response = client_for(ae).patch(
        url(opportunity, "details"), {"amount": "20"}, content_type="application/json"
    )

    assert response.status_code == 409
    opportunity.refresh_from_db()
    assert opportunity.amount == Decimal(10)


# --- schema and cost ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_schema_documents_the_actions_and_their_bodies(client_for, ae):
    schema = client_for(ae).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    for action in ("accept", "reject", "move", "details"):
        assert f"/api/v1/opportunities/{{id}}/{action}/" in paths
    move = paths["/api/v1/opportunities/{id}/move/"]["post"]
    assert move["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "OpportunityMoveRequest"
    )
    assert "409" in move["responses"]
    assert "patch" in paths["/api/v1/opportunities/{id}/details/"]
    names = {p["name"] for p in paths["/api/v1/opportunities/"]["get"]["parameters"]}
    assert {
        "stage",
        "status",
        "close_after",
        "close_before",
        "origin",
        "campaign",
        "q",
        "ae",
        "sort",
    } <= names


@pytest.mark.django_db
@pytest.mark.parametrize("size", [3, 12])
@pytest.mark.parametrize("who", ["ae", "sales_manager", "marketing"])
def test_the_list_costs_the_same_queries_whatever_its_size(
    client_for, request, django_assert_num_queries, inbound_sdr, ae, size, who
):
    for n in range(size):
        (accepted if n % 2 else handed_off)(inbound_sdr, ae, now=NOW, campaign=CampaignFactory())
    client = client_for(request.getfixturevalue(who))

    # session, user, count, page (with its accounts, stages, people and campaigns)
    with django_assert_num_queries(4):
        response = client.get(LIST)
    assert response.json()["count"] == size
