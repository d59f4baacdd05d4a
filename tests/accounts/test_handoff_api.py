"""POST /api/v1/handoffs/: the hand-off it makes, who may call it, and a 400 with a message per
field for every invalid input, nothing changed."""

import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.conf import settings

from accounts import services as accounts
from accounts.models import Account, Contact, Opportunity
from leads.models import Lead
from sdr import services as sdr
from tests.factories import UserFactory, handoff_snapshot, routed_lead
from work.models import SlaPolicy, WorkItem

URL = "/api/v1/handoffs/"
# Tuesday 24 November 2026, 10:00 in Berlin.
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def lead(inbound_sdr):
    return routed_lead(
        inbound_sdr,
        email="fox.mulder@acme-widgets.example",
        first_name="Fox",
        last_name="Mulder",
        company="Acme Widgets",
    )


def body(of, **changes) -> dict:
    data = {
        "lead": of.pk,
        "budget": "partly",
        "budget_note": "Budget is being set for Q1.",
        "authority": "confirmed",
        "authority_note": "Signs off up to 50k.",
        "need": "confirmed",
        "need_note": "Their SDRs miss hand-raisers.",
        "timing": "partly",
        "timing_note": "Live before the spring campaign.",
        "asked_for_meeting": True,
        "proposed_meeting_at": "2026-11-26T15:00:00+01:00",
        "amount": "24000.00",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not ...}


# --- handing off ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_hand_off_by_territory_answers_with_the_opportunity(api_for, inbound_sdr, lead, ae, ae_rule):
    response = api_for(inbound_sdr).post(URL, body(lead), format="json")

    assert response.status_code == 201, response.json()
    answer = response.json()
    opportunity = Opportunity.objects.select_related("account").get()
    acceptance = WorkItem.objects.for_subject(opportunity).get()
    assert answer["id"] == opportunity.pk and answer["name"] == opportunity.name
    assert answer["status"] == "handed_off" and answer["lead"] == lead.pk
    assert answer["account"] == {
        "id": opportunity.account.pk,
        "name": "Acme Widgets",
        "domain": "acme-widgets.example",
    }
    assert answer["ae"] == {"id": ae.pk, "name": str(ae)}
    assert answer["sdr"] == {"id": inbound_sdr.pk, "name": str(inbound_sdr)}
    assert answer["amount"] == "24000.00"
    assert datetime.fromisoformat(answer["proposed_meeting_at"]) == datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    assert datetime.fromisoformat(answer["acceptance_due_at"]) == acceptance.due_at
    # One business day of the AEs' Berlin calendar: Wednesday at 10:00.
    assert acceptance.due_at == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

    assert (acceptance.kind, acceptance.owner, acceptance.policy.key) == (
        "accept_handoff",
        ae,
        SlaPolicy.ACCEPT_HANDOFF,
    )
    contact = Contact.objects.get()
    assert (contact.email, contact.lead, contact.account) == (lead.email, lead, opportunity.account)
    lead.refresh_from_db()
    assert lead.status == Lead.Status.HANDED_OFF
    assert WorkItem.objects.for_subject(lead).get().state == WorkItem.State.DONE  # the first touch
    queue = api_for(inbound_sdr).get("/api/v1/queue/").json()
    assert queue["count"] == 0


@pytest.mark.django_db
def test_a_hand_off_to_an_ae_chosen_by_hand(api_for, inbound_sdr, lead, ae, other_ae):
    response = api_for(inbound_sdr).post(URL, body(lead, ae=other_ae.pk), format="json")
    assert response.status_code == 201
    assert response.json()["ae"]["id"] == other_ae.pk
    assert WorkItem.objects.get(kind="accept_handoff").owner == other_ae


@pytest.mark.django_db
def test_the_account_is_matched_by_the_email_domain(api_for, inbound_sdr, lead, ae):
    acme = Account.objects.create(name="ACME Widgets Inc.", domain="acme-widgets.example")
    response = api_for(inbound_sdr).post(URL, body(lead, ae=ae.pk), format="json")
    assert response.json()["account"]["id"] == acme.pk and Account.objects.count() == 1


@pytest.mark.django_db
def test_meeting_and_amount_are_optional_when_the_prospect_did_not_ask(api_for, inbound_sdr, lead, ae):
    data = body(lead, ae=ae.pk, asked_for_meeting=..., proposed_meeting_at=..., amount=...)
    response = api_for(inbound_sdr).post(URL, data, format="json")
    assert response.status_code == 201
    assert (response.json()["proposed_meeting_at"], response.json()["amount"]) == (None, None)
    assert Opportunity.objects.get().amount is None


@pytest.mark.django_db
def test_a_manager_hands_off_a_lead_of_their_team(api_for, manager, inbound_sdr, lead, ae):
    response = api_for(manager).post(URL, body(lead, ae=ae.pk), format="json")
    assert response.status_code == 201 and response.json()["sdr"]["id"] == inbound_sdr.pk


# --- who may ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["ae", "am", "marketing"])
def test_roles_without_a_queue_are_forbidden(api_for, request, lead, ae, who):
    before = handoff_snapshot(lead)
    response = api_for(request.getfixturevalue(who)).post(URL, body(lead, ae=ae.pk), format="json")
    assert response.status_code == 403
    assert handoff_snapshot(lead) == before


@pytest.mark.django_db
def test_anonymous_callers_are_refused(api, lead):
    assert api.post(URL, body(lead), format="json").status_code in (401, 403)
    assert Opportunity.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["other_sdr", "other_manager"])
def test_someone_elses_lead_is_refused_without_saying_whose(api_for, request, lead, ae, who):
    before = handoff_snapshot(lead)
    response = api_for(request.getfixturevalue(who)).post(URL, body(lead, ae=ae.pk), format="json")
    assert response.status_code == 400
    assert response.json() == {"lead": ["No such lead in your queues."]}
    assert handoff_snapshot(lead) == before


@pytest.mark.django_db
@pytest.mark.parametrize("value", [987654, 0, -3, "abc", None, 2**70])
def test_an_unknown_lead_is_refused_on_its_field(api_for, inbound_sdr, lead, ae, value):
    response = api_for(inbound_sdr).post(URL, body(lead, lead=value, ae=ae.pk), format="json")
    assert response.status_code == 400 and list(response.json()) == ["lead"]
    assert Opportunity.objects.count() == 0


@pytest.mark.django_db
def test_reading_the_list_is_not_allowed(api_for, inbound_sdr):
    assert api_for(inbound_sdr).get(URL).status_code == 405


# --- refused, nothing changed --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_disqualified_lead_is_refused_with_the_reason(api_for, inbound_sdr, lead, ae):
    sdr.dispose_lead(lead_id=lead.pk, by=inbound_sdr, to="disqualified", reason="Spam or fake details")
    before = handoff_snapshot(lead)
    response = api_for(inbound_sdr).post(URL, body(lead, ae=ae.pk), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["A lead in Disqualified cannot be handed off; only MQLs and working leads can."]
    }
    assert handoff_snapshot(lead) == before


@pytest.mark.django_db
def test_handing_off_twice_is_refused(api_for, inbound_sdr, lead, ae):
    client = api_for(inbound_sdr)
    assert client.post(URL, body(lead, ae=ae.pk), format="json").status_code == 201
    before = handoff_snapshot(lead)
    response = client.post(URL, body(lead, ae=ae.pk), format="json")
    assert response.status_code == 400
    assert "A lead in Handed off cannot be handed off" in response.json()["non_field_errors"][0]
    assert handoff_snapshot(lead) == before


@pytest.mark.django_db
def test_without_a_territory_rule_the_ae_must_be_chosen(api_for, inbound_sdr, lead, ae):
    before = handoff_snapshot(lead)
    response = api_for(inbound_sdr).post(URL, body(lead), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "ae": ["No AE territory rule matches this lead, or every AE in it is away: choose an AE."]
    }
    assert handoff_snapshot(lead) == before


@pytest.mark.django_db
def test_when_every_ae_of_the_territory_is_away_the_ae_must_be_chosen(
    api_for, inbound_sdr, lead, ae, ae_rule
):
    ae.is_away = True
    ae.save(update_fields=["is_away"])
    response = api_for(inbound_sdr).post(URL, body(lead), format="json")
    assert response.status_code == 400 and list(response.json()) == ["ae"]
    assert Opportunity.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"proposed_meeting_at": "2026-11-24T08:00:00Z"}, "proposed_meeting_at", "in the future"),
        ({"proposed_meeting_at": "2028-01-10T09:00:00Z"}, "proposed_meeting_at", "within the next year"),
        ({"proposed_meeting_at": None}, "proposed_meeting_at", "propose its time"),
        ({"proposed_meeting_at": "2026-11-26T15:00:00"}, "proposed_meeting_at", "with its UTC offset"),
        ({"proposed_meeting_at": "Thursday"}, "proposed_meeting_at", "Datetime has wrong format"),
        ({"need": "unknown"}, "need", "without a confirmed need is not qualified"),
        ({"need_note": ""}, "need_note", "Say what the prospect needs"),
        ({"need_note": ...}, "need_note", "Say what the prospect needs"),
        ({"budget": ...}, "budget", "Choose one of: Confirmed, Partly, Not yet known."),
        ({"timing": "soonish"}, "timing", "Choose one of: Confirmed, Partly, Not yet known."),
        ({"amount": "-5"}, "amount", "Enter an amount of zero or more."),
        ({"amount": "NaN"}, "amount", "Enter an amount, e.g. 12000"),
        ({"amount": "1" * 20}, "amount", "below 1,000,000,000,000"),
        ({"asked_for_meeting": "maybe"}, "asked_for_meeting", "valid boolean"),
        ({"need_note": "x" * 2001}, "need_note", "no more than 2000 characters"),
    ],
)
def test_an_invalid_input_is_refused_on_its_field(api_for, inbound_sdr, lead, ae, changes, field, message):
    before = handoff_snapshot(lead)
    response = api_for(inbound_sdr).post(URL, body(lead, ae=ae.pk, **changes), format="json")
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field] and message in errors[field][0], errors
    assert handoff_snapshot(lead) == before


@pytest.mark.django_db
def test_every_qualification_problem_is_listed_at_once(api_for, inbound_sdr, lead, ae):
    data = body(lead, ae=ae.pk, need="unknown", need_note="", budget="", proposed_meeting_at=None)
    response = api_for(inbound_sdr).post(URL, data, format="json")
    assert set(response.json()) == {"need", "need_note", "budget", "proposed_meeting_at"}


@pytest.mark.django_db
@pytest.mark.parametrize("chosen", ["other_sdr", "am", "manager", "inactive_ae", "nobody", "text"])
def test_choosing_someone_who_is_not_an_active_ae_is_refused(api_for, request, inbound_sdr, lead, chosen):
    if chosen == "inactive_ae":
        value = UserFactory(role="ae", is_active=False).pk
    elif chosen == "nobody":
        value = 987654
    elif chosen == "text":
        value = "alex"
    else:
        value = request.getfixturevalue(chosen).pk
    before = handoff_snapshot(lead)
    response = api_for(inbound_sdr).post(URL, body(lead, ae=value), format="json")
    assert response.status_code == 400 and list(response.json()) == ["ae"]
    assert handoff_snapshot(lead) == before


@pytest.mark.django_db
def test_a_returned_lead_can_be_handed_off_again(api_for, inbound_sdr, lead, ae):
    client = api_for(inbound_sdr)
    first = client.post(URL, body(lead, ae=ae.pk), format="json").json()
    accounts.reject_handoff(
        opportunity_id=first["id"], by=ae, reason="Not qualified: no budget", note="No budget this year."
    )
    again = client.post(URL, body(lead, ae=ae.pk, amount="5000"), format="json")
    assert again.status_code == 201 and again.json()["id"] != first["id"]
    assert Opportunity.objects.get(pk=again.json()["id"]).amount == Decimal("5000")


# --- the schema ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_schema_documents_the_hand_off(client, inbound_sdr):
    client.force_login(inbound_sdr)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    post = schema["paths"]["/api/v1/handoffs/"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/HandoffRequest")
    answer = post["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert answer.endswith("/HandedOff")
    request_fields = schema["components"]["schemas"]["HandoffRequest"]["properties"]
    assert {"lead", "budget", "need_note", "proposed_meeting_at", "ae", "amount"} <= set(request_fields)
    assert "confirmed, partly, unknown" in request_fields["need"]["description"]


def test_the_schema_is_generated_without_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
