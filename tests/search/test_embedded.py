"""Search in the embedded mode: on SQLite (``make test-sqlite`` runs this module beside the
crawl) there are no trigrams, and a search finds what contains the text, a document starting
with it first, phones by their digits, only what the person may see. The same tests pass on
PostgreSQL, where the trigram path answers them."""

from datetime import datetime

import pytest
from django.urls import reverse

from search.query import search
from tests.factories import LeadFactory

pytestmark = [pytest.mark.crawl, pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

NOW = datetime.fromisoformat("2026-03-10T10:00:00+00:00")


def lead_titles(user, q: str) -> list[str]:
    return [hit.title for hit in search(user, q).hits if hit.kind == "lead"]


@pytest.fixture
def leads(inbound_sdr, other_sdr):
    LeadFactory(owner=inbound_sdr, first_name="Hedy", last_name="Lamarr", company="Frequency Hopping Inc",
                email="hedy@hopping.example", phone="030-555 1234")  # fmt: skip
    LeadFactory(owner=inbound_sdr, first_name="Grace", last_name="Hopper", company="Navy",
                email="grace@navy.example", phone="+1 (202) 555-0199")  # fmt: skip
    LeadFactory(
        owner=other_sdr, first_name="Hidden", last_name="Hopper", company="Elsewhere", email="h@else.example"
    )


def test_substring_of_name_company_email_and_domain(inbound_sdr, leads):
    assert lead_titles(inbound_sdr, "lamarr") == ["Hedy Lamarr"]
    assert lead_titles(inbound_sdr, "FREQUENCY") == ["Hedy Lamarr"]
    assert lead_titles(inbound_sdr, "grace@navy.example") == ["Grace Hopper"]
    assert lead_titles(inbound_sdr, "navy.example") == ["Grace Hopper"]


def test_a_document_that_starts_with_the_text_ranks_first(inbound_sdr, leads):
    # Newer, so it would come first on a tie; but "Grace Hopper ..." starts with the text.
    LeadFactory(
        owner=inbound_sdr, first_name="Anna", last_name="Grace", company="Other", email="ag@other.example"
    )
    assert lead_titles(inbound_sdr, "grace") == ["Grace Hopper", "Anna Grace"]


def test_phone_digits(inbound_sdr, leads):
    assert lead_titles(inbound_sdr, "+49 30 555 12") == ["Hedy Lamarr"]
    assert lead_titles(inbound_sdr, "202 555 0199") == ["Grace Hopper"]


def test_only_what_the_person_may_see(inbound_sdr, manager, leads):
    assert "Hidden Hopper" not in lead_titles(inbound_sdr, "Hopper")
    assert "Hidden Hopper" in lead_titles(manager, "Hopper")


def test_the_page_and_the_dropdown_answer(client_for, inbound_sdr, leads):
    client = client_for(inbound_sdr)
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        for q in ("Hopper", "%", "_x_", "a" * 300, "'\"", ""):
            response = client.get(reverse("search:results"), {"q": q}, **headers)
            assert response.status_code == 200, q
    body = client.get(reverse("search:results"), {"q": "Hopper"}).content.decode()
    assert "Grace Hopper" in body and "Hidden" not in body
