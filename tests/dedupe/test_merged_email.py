"""A merged lead's old address keeps reaching the survivor: a web form, an API create, a capture
and an import row with it find the survivor instead of making the person again; the lookup
costs one indexed query, only when an address is not a lead's."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import services as prospecting
from accounts.models import Account
from dedupe.services import merge_leads
from leads.models import Lead, LeadRedirect
from leads.services import capture_lead, process_submissions
from tests.leads.import_jobs import SF_HEADER, csv_bytes, run, sf_row

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture(autouse=True)
def drain_requests(monkeypatch):
    monkeypatch.setattr("leads.tasks.request_submission_drain", lambda **kwargs: None)


@pytest.fixture
def survivor(manager):
    """Ana at her new address, merged with the lead of her old one."""
    old = capture_lead(email="ana@old.example", details={"company": "Old Co"}, via="web").lead
    new = capture_lead(email="ana@new.example", details={}, via="web").lead
    merge_leads(survivor=new, merged=old, chosen={}, by=manager)
    return new


def only_ana(survivor) -> Lead:
    (lead,) = Lead.objects.all()
    assert lead.pk == survivor.pk and lead.email == "ana@new.example"
    return lead


def test_the_merge_keeps_the_address_the_survivor_does_not_have(survivor):
    assert LeadRedirect.objects.get().email == "ana@old.example"


def test_a_capture_with_the_old_address_is_an_activity_on_the_survivor(survivor):
    result = capture_lead(
        email="ana@old.example", details={"title": "CTO"}, via="web", activity_kind="webinar"
    )

    assert not result.created and result.lead.pk == survivor.pk
    lead = only_ana(survivor)
    assert lead.title == "CTO"  # a blank filled, as for any known person
    assert lead.activities.filter(kind="webinar").exists()
    assert lead.events.filter(kind="recaptured").exists()


def test_a_web_form_post_with_the_old_address_reaches_the_survivor(survivor, client, web_form):
    response = client.post(reverse("web_form", args=[web_form.key]), {"email": " Ana@Old.example "})

    assert response.status_code == 200
    assert process_submissions() == 1
    lead = only_ana(survivor)
    assert lead.activities.count() == 3  # both leads' captures, and this post
    assert lead.activities.filter(source="web_form").count() == 1


def test_an_api_create_with_the_old_address_answers_with_the_survivor(survivor, api_for, marketing):
    response = api_for(marketing).post("/api/v1/leads/", {"email": "ana@old.example"}, format="json")

    assert response.status_code == 200  # a known person, not a new lead
    assert response.json()["id"] == survivor.pk
    only_ana(survivor)


def test_an_import_row_with_the_old_address_updates_the_survivor(survivor, marketing):
    job = run(marketing, csv_bytes(SF_HEADER, sf_row(email="ana@old.example", title="CTO")))

    assert (job.created_count, job.existing_count, job.updated_count) == (0, 1, 1)
    assert only_ana(survivor).title == "CTO"


def test_one_file_with_both_addresses_counts_ana_once(survivor, marketing):
    job = run(
        marketing,
        csv_bytes(
            SF_HEADER,
            sf_row(lead_id="1", email="ana@new.example"),
            sf_row(lead_id="2", email="ana@old.example"),
        ),
    )

    assert (job.created_count, job.existing_count) == (0, 2)  # the second row: the same person again
    only_ana(survivor)


def test_when_the_survivor_takes_the_merged_address_its_own_old_one_reaches_it(manager):
    old = capture_lead(email="bo@old.example", details={}, via="web").lead
    new = capture_lead(email="bo@new.example", details={}, via="web").lead
    merge_leads(survivor=old, merged=new, chosen={"email": "merged"}, by=manager)

    assert Lead.objects.get().email == "bo@new.example"
    assert capture_lead(email="bo@old.example", details={}, via="api").lead.pk == old.pk
    assert Lead.objects.count() == 1


def redirect_lookups(email: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        capture_lead(email=email, details={}, via="api")
    return sum("leads_leadredirect" in q["sql"] for q in queries.captured_queries)


def test_the_redirect_is_looked_up_once_and_only_for_an_address_no_lead_has(survivor):
    assert redirect_lookups("ana@new.example") == 0
    assert redirect_lookups("someone@else.example") == 1
    assert redirect_lookups("ana@old.example") == 1
    assert Lead.objects.count() == 2


def test_a_prospect_with_the_old_address_is_refused_as_the_known_lead(survivor, outbound_sdr):
    acme = Account.objects.create(name="Acme", domain="old.example", prospector=outbound_sdr)
    result = prospecting.add_prospects(
        account_id=acme.pk, by=outbound_sdr, rows=[{"email": "ana@old.example"}], via="manual"
    )

    assert result.created == []
    assert result.refused[0].reason == "already a lead (status Nurture, no owner)"
    only_ana(survivor)
