"""The lead list as a CSV file, from the page (``/leads/export/``) and the API
(``/api/v1/leads/export/``): every lead the person sees that the list's filters select, every
column a person wants back, formula-safe cells, times in UTC, a fixed number of queries."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from leads.models import Lead, Tag
from tests.exports import as_dicts, queries_to_download, read_csv
from tests.factories import CampaignFactory, LeadFactory

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

PAGE = reverse("leads:export")
API = "/api/v1/leads/export/"


@pytest.fixture
def owned(inbound_sdr):
    campaign = CampaignFactory(name="Spring webinar")
    return LeadFactory(
        email="ada@analytical.example",
        first_name="Ada",
        last_name="Lovelace",
        company='=HYPERLINK("http://evil.example","click")',
        title="+CTO",
        phone="-1 555",
        country="GB",
        employees=120,
        annual_revenue=Decimal("2500000.50"),
        status=Lead.Status.MQL,
        campaign=campaign,
        source="webinar",
        owner=inbound_sdr,
        team=inbound_sdr.team,
        hand_raiser=True,
        external_system="salesforce",
        external_id="00Q5e000001",
        captured_at=datetime(2026, 11, 2, 8, 15, 30, tzinfo=UTC),
        first_seen_at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
        mql_at=datetime(2026, 11, 3, 10, 0, tzinfo=UTC),
    )


def test_a_manager_downloads_every_column_with_times_in_utc(client_for, manager, owned):
    response = client_for(manager).get(PAGE)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="leads-2026-12-07.csv"'
    (row,) = as_dicts(response)
    assert row["id"] == str(owned.pk)
    assert row["email"] == "ada@analytical.example"
    assert (row["first name"], row["last name"]) == ("Ada", "Lovelace")
    assert row["status"] == "MQL" and row["source"] == "Webinar"
    assert row["campaign"] == "Spring webinar"
    assert row["owner"] == str(owned.owner) and row["team"] == owned.team.name
    assert row["annual revenue"] == "2500000.50" and row["currency"] == "EUR"
    assert row["employees"] == "120" and row["hand-raiser"] == "yes"
    assert row["captured at (UTC)"] == "2026-11-02T08:15:30Z"
    assert row["first seen at (UTC)"] == "2025-03-01T12:00:00Z"
    assert row["MQL at (UTC)"] == "2026-11-03T10:00:00Z"
    assert (row["source system"], row["source id"]) == ("salesforce", "00Q5e000001")


def test_a_leads_tags_are_one_cell(client_for, manager, owned):
    owned.tags.add(Tag.objects.create(name="webinar"), Tag.objects.create(name="=Event 2026"))
    LeadFactory(email="untagged@lead.example")
    rows = {row["email"]: row for row in as_dicts(client_for(manager).get(PAGE))}
    tags = rows["ada@analytical.example"]["tags"]
    if connection.vendor == "postgresql":  # in alphabetical order, and the cell made formula-safe
        assert tags == "'=Event 2026, webinar"
    else:  # SQLite joins them in the order it reads them
        assert sorted(tags.lstrip("'").split(", ")) == ["=Event 2026", "webinar"]
    assert rows["untagged@lead.example"]["tags"] == ""


def test_cells_a_spreadsheet_would_run_are_neutralised(client_for, manager, owned):
    (row,) = as_dicts(client_for(manager).get(PAGE))
    assert row["company"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["title"] == "'+CTO" and row["phone"] == "'-1 555"


def test_the_list_filters_choose_the_rows_and_their_order(client_for, manager):
    old = LeadFactory(status=Lead.Status.MQL, captured_at=datetime(2026, 10, 1, tzinfo=UTC))
    new = LeadFactory(status=Lead.Status.MQL, captured_at=datetime(2026, 12, 1, tzinfo=UTC))
    LeadFactory(status=Lead.Status.NURTURE)
    LeadFactory(status=Lead.Status.MQL, captured_at=datetime(2026, 1, 1, tzinfo=UTC))
    client = client_for(manager)

    query = "status=mql&captured_after=2026-09-01T00:00&sort=oldest&page=3&view=7&nonsense=1"
    page_rows = [row["id"] for row in as_dicts(client.get(f"{PAGE}?{query}"))]
    api_rows = [row["id"] for row in as_dicts(client.get(f"{API}?{query}"))]

    assert page_rows == [str(old.pk), str(new.pk)]  # every matching row, not a page of them
    assert api_rows == page_rows


def test_an_sdr_exports_only_their_own_leads(client_for, inbound_sdr, other_sdr, owned):
    LeadFactory(owner=other_sdr, email="lenas@lead.example")
    LeadFactory(owner=None, email="nobodys@lead.example")
    client = client_for(inbound_sdr)

    for url in (PAGE, API):
        assert [row["email"] for row in as_dicts(client.get(url))] == ["ada@analytical.example"]
    # Naming someone else as the owner changes nothing about what they may see.
    rows = as_dicts(client.get(f"{PAGE}?owner={other_sdr.pk}"))
    assert rows == []


@pytest.mark.parametrize("url", [PAGE, API])
def test_roles_without_the_lead_list_are_refused(client_for, ae, am, url, owned):
    for user in (ae, am):
        response = client_for(user).get(url)
        assert response.status_code == 403
        assert b"ada@analytical.example" not in response.content


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert client.get(PAGE).status_code == 302
    assert client.get(API).status_code in (401, 403)


def test_bad_filter_values_are_a_400_naming_them(client_for, manager, owned):
    client = client_for(manager)

    api = client.get(f"{API}?hand_raiser=maybe&captured_after=garbage")
    assert api.status_code == 400 and api["Content-Type"] == "application/json"
    assert set(api.json()) >= {"hand_raiser", "captured"}

    page = client.get(f"{PAGE}?hand_raiser=maybe")
    assert page.status_code == 400
    body = page.content.decode()
    assert "hand_raiser" in body and "ada@analytical.example" not in body
    assert 'href="/leads/?hand_raiser=maybe"' in body


def test_an_api_client_may_ask_for_csv_by_its_accept_header(api_for, manager, owned):
    client = api_for(manager)
    response = client.get(API, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    refused = client.get(f"{API}?hand_raiser=maybe", HTTP_ACCEPT="text/csv")
    assert refused.status_code == 400 and refused["Content-Type"].startswith("text/csv")
    assert b"hand_raiser," in refused.content


@pytest.mark.parametrize("url", [PAGE, API])
def test_the_download_takes_the_same_queries_whatever_the_number_of_rows(client_for, manager, url):
    client = client_for(manager)
    campaigns = [CampaignFactory(name=f"Campaign {n}") for n in range(3)]

    tags = [Tag.objects.create(name=f"tag {n}") for n in range(2)]

    def make(count: int) -> None:
        for n in range(count):
            lead = LeadFactory(campaign=campaigns[n % 3], owner=manager if n % 2 else None)
            lead.tags.add(*tags[: n % 3])

    make(3)
    few, rows = queries_to_download(client, url)
    assert len(rows) == 1 + 3
    make(60)
    many, rows = queries_to_download(client, url)
    assert len(rows) == 1 + 63
    assert many == few


def test_the_list_links_to_the_export_with_its_current_filters(client_for, manager, owned):
    body = (
        client_for(manager)
        .get(reverse("leads:list"), {"q": "ada", "status": "mql", "page": "1"})
        .content.decode()
    )
    assert f'href="{PAGE}?q=ada&amp;status=mql"' in body


def test_an_empty_list_is_a_header_only_file(client_for, marketing):
    header, *rows = read_csv(client_for(marketing).get(PAGE))
    assert rows == [] and header[:4] == ["id", "first name", "last name", "email"]
