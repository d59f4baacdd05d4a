"""Who may capture through the API, and what a capture of a known email reveals and changes:
marketing/ops, managers, superusers and integrations capture; SDRs (who add prospects), AEs
and AMs get 403; the full lead comes back only to a caller who may see it, anyone else gets a
receipt; and a hand-raise changes no more than the same post on the public web form would."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from leads.models import Lead, LeadEvent
from leads.services import process_submissions
from team.models import Role
from tests.factories import CampaignFactory, UserFactory, first_touch, routed_lead
from work.models import SlaPolicy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

TUESDAY_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 in Berlin, inside business hours
NOW = TUESDAY_10 + timedelta(minutes=10)  # where the clock stands in every test
URL = "/api/v1/leads/"
RECEIPT_KEYS = {"id", "email", "result"}


@pytest.fixture
def integration(db):
    """Zap, the marketing automation's service account."""
    return UserFactory(username="zap", role=Role.INTEGRATION, team=None)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", role=Role.INBOUND_SDR, team=None, is_superuser=True, is_staff=True)


def client_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def sams_lead(inbound_sdr) -> Lead:
    """A lead in Sam's queue, routed at 10:00 with a 4-business-hour first-touch timer."""
    return routed_lead(
        inbound_sdr,
        now=TUESDAY_10,
        email="kim@globex.example",
        company="",
        phone="+49 30 1234567",
        rating="B",
    )


# --- who may capture -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["inbound_sdr", "outbound_sdr", "ae", "am"])
def test_sdrs_aes_and_ams_may_not_capture(request, role):
    user = request.getfixturevalue(role)

    response = client_as(user).post(URL, {"email": "new@initech.example"}, format="json")

    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_an_sdr_capturing_a_lead_they_cannot_see_learns_nothing_and_changes_nothing(inbound_sdr, other_sdr):
    lead = sams_lead(inbound_sdr)
    due = first_touch(lead).due_at

    response = client_as(other_sdr).post(
        URL, {"email": "kim@globex.example", "hand_raiser": True}, format="json"
    )

    assert response.status_code == 403
    body = response.content.decode()
    assert "+49 30" not in body and "sam" not in body.lower() and "kim@" not in body
    lead.refresh_from_db()
    assert not lead.hand_raiser and not lead.activities.exists()
    item = first_touch(lead)
    assert item.due_at == due and item.policy.key == SlaPolicy.FIRST_TOUCH_MQL


def test_an_sdr_may_not_capture_their_own_lead_either(inbound_sdr):
    lead = sams_lead(inbound_sdr)

    response = client_as(inbound_sdr).post(URL, {"email": "kim@globex.example"}, format="json")

    assert response.status_code == 403
    assert not lead.activities.exists()


@pytest.mark.parametrize("role", ["marketing", "manager", "superuser"])
def test_marketing_managers_and_superusers_capture_and_see_the_lead(request, inbound_sdr, role):
    user = request.getfixturevalue(role)
    lead = sams_lead(inbound_sdr)
    client = client_as(user)

    new = client.post(URL, {"email": "new@initech.example", "company": "Initech"}, format="json")
    known = client.post(URL, {"email": "kim@globex.example", "activity": "webinar"}, format="json")

    assert new.status_code == 201
    assert new.json()["company"] == "Initech" and new.json()["status"] == "nurture"
    assert known.status_code == 200
    assert known.json()["id"] == lead.pk
    assert known.json()["owner"] == inbound_sdr.pk and known.json()["phone"] == "+49 30 1234567"
    assert lead.activities.get().kind == "webinar"


# --- an integration ------------------------------------------------------------------------


def test_an_integration_captures_a_new_lead_and_gets_a_receipt(integration):
    response = client_as(integration).post(
        URL, {"email": " New@Initech.example ", "phone": "+1 555 0100", "hand_raiser": True}, format="json"
    )

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert response.json() == {"id": lead.pk, "email": "new@initech.example", "result": "created"}
    assert lead.phone == "+1 555 0100" and lead.hand_raiser and lead.status == Lead.Status.MQL


def test_an_integration_capturing_a_known_email_gets_a_receipt_without_the_leads_data(
    integration, inbound_sdr
):
    lead = sams_lead(inbound_sdr)

    response = client_as(integration).post(
        URL, {"email": "kim@globex.example", "activity": "webinar", "company": "Globex"}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"id": lead.pk, "email": "kim@globex.example", "result": "merged"}
    body = response.content.decode()
    for secret in ("+49 30", str(inbound_sdr), "fit", "grade", "owner", "mql"):
        assert secret not in body
    # Dedupe is the product: the activity is on the lead's timeline, the blank company filled.
    lead.refresh_from_db()
    assert lead.activities.get().kind == "webinar" and lead.company == "Globex"
    assert lead.owner == inbound_sdr and lead.rating == "B"


def test_a_hand_raise_from_an_integration_does_what_the_web_form_does(
    integration, inbound_sdr, web_form, client, monkeypatch
):
    """The public web form, anonymous, may mark a known lead a hand-raiser and so tighten its
    first-touch timer; an integration may do exactly that and no more."""
    monkeypatch.setattr("leads.tasks.request_submission_drain", lambda **kwargs: None)
    ours = sams_lead(inbound_sdr)
    twin = routed_lead(inbound_sdr, now=TUESDAY_10, email="lee@globex.example", rating="B")

    client_as(integration).post(URL, {"email": "kim@globex.example", "hand_raiser": True}, format="json")
    client.post(reverse("web_form", args=[web_form.key]), {"email": "lee@globex.example", "wants_call": "on"})
    process_submissions()  # what the worker does moments after the post

    for lead in (ours, twin):
        lead.refresh_from_db()
        assert lead.hand_raiser and lead.owner == inbound_sdr and lead.rating == "B"
        assert lead.status == Lead.Status.MQL
        item = first_touch(lead)
        assert item.policy.key == SlaPolicy.FIRST_TOUCH_HAND_RAISER
        assert item.due_at == TUESDAY_10 + timedelta(minutes=25)  # 15 minutes from the hand-raise
        assert lead.events.filter(kind=LeadEvent.Kind.HAND_RAISED).count() == 1


def test_an_integration_reads_campaigns_but_no_leads(integration, inbound_sdr):
    lead = sams_lead(inbound_sdr)
    campaign = CampaignFactory(name="Webinar Q4")
    client = client_as(integration)

    assert [c["name"] for c in client.get("/api/v1/campaigns/").json()["results"]] == ["Webinar Q4"]
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{lead.pk}/").status_code == 403
    assert client.post(f"{URL}{lead.pk}/activities/", {"kind": "visit"}, format="json").status_code == 403
    assert client.post(f"{URL}{lead.pk}/rating/", {"rating": "F"}, format="json").status_code == 403
    assert client.get("/api/v1/queue/").status_code == 403
    assert (
        client.post(URL, {"email": "c@d.example", "campaign": campaign.pk}, format="json").status_code == 201
    )
    assert Lead.objects.get(email="c@d.example").campaign == campaign


def test_the_schema_documents_the_capture_answers_and_the_403(marketing):
    client = APIClient()
    client.force_authenticate(marketing)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    create = schema["paths"]["/api/v1/leads/"]["post"]

    assert set(create["responses"]) >= {"200", "201", "400", "403"}
    assert "integrations" in create["responses"]["403"]["description"]
    answer = schema["components"]["schemas"]["CaptureAnswer"]
    assert {s["$ref"].rsplit("/", 1)[1] for s in answer["oneOf"]} == {"Lead", "CaptureReceipt"}
