"""The pipeline's opportunities as a CSV file, from the page (``/pipeline/export/``) and the API
(``/api/v1/opportunities/export/``): what the person sees that the filters select, with the
account, contact, AE and SDR joined in, amounts as plain numbers with the currency beside them,
days and times in ISO, formula-safe cells, a fixed number of queries."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Account, Contact, Opportunity, Qualification
from tests.exports import as_dicts, queries_to_download, read_csv
from tests.factories import CampaignFactory, stage

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

PAGE = reverse("accounts:pipeline_export")
API = "/api/v1/opportunities/export/"


def make_opportunity(ae, *, sdr=None, account=None, status=Opportunity.Status.OPEN, **fields) -> Opportunity:
    """An opportunity row written directly (the handoff services are tested elsewhere)."""
    account = account or Account.objects.create(name=f"Account {Account.objects.count()}", domain="")
    values = {
        "name": f"{account.name} deal",
        "stage": stage("Discovery") if status == Opportunity.Status.OPEN else None,
        "budget": Qualification.CONFIRMED,
        "authority": Qualification.PARTLY,
        "need": Qualification.CONFIRMED,
        "timing": Qualification.UNKNOWN,
        "accepted_at": NOW if status != Opportunity.Status.HANDED_OFF else None,
        **fields,
    }
    return Opportunity.objects.create(account=account, owner=ae, sdr=sdr, status=status, **values)


@pytest.fixture
def deal(ae, inbound_sdr):
    account = Account.objects.create(name="=Acme", domain="acme.example")
    contact = Contact.objects.create(
        account=account, email="ada@acme.example", first_name="Ada", last_name="Lo"
    )
    return make_opportunity(
        ae,
        sdr=inbound_sdr,
        account=account,
        contact=contact,
        name="Acme platform",
        amount=Decimal("48000.00"),
        close_date=date(2027, 1, 31),
        next_step="@legal review",
        campaign=CampaignFactory(name="Spring webinar"),
        handed_off_at=datetime(2026, 11, 20, 14, 5, tzinfo=UTC),
    )


def test_an_ae_downloads_their_pipeline_with_every_column(client_for, ae, deal):
    response = client_for(ae).get(PAGE)

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="opportunities-2026-12-07.csv"'
    (row,) = as_dicts(response)
    assert row["id"] == str(deal.pk) and row["name"] == "Acme platform"
    assert row["status"] == "In pipeline" and row["stage"] == "Discovery"
    assert row["account id"] == str(deal.account_id) and row["account"] == "'=Acme"
    assert row["account domain"] == "acme.example"
    assert row["contact"] == "Ada Lo" and row["contact email"] == "ada@acme.example"
    assert row["AE"] == str(deal.owner) and row["SDR"] == str(deal.sdr)
    assert row["campaign"] == "Spring webinar"
    assert (row["amount"], row["currency"]) == ("48000.00", "EUR")
    assert row["close date"] == "2027-01-31"
    assert row["next step"] == "'@legal review"
    assert (row["budget"], row["authority"], row["timing"]) == ("Confirmed", "Partly", "Not yet known")
    assert row["handed off at (UTC)"] == "2026-11-20T14:05:00Z"
    assert row["accepted at (UTC)"] == "2026-12-07T09:30:00Z"
    assert row["closed at (UTC)"] == "" and row["early loss"] == "no"


def test_the_filters_choose_the_rows_on_the_page_and_in_the_api(client_for, sales_manager, ae, other_ae):
    small = make_opportunity(ae, amount=Decimal("1000"), close_date=date(2027, 2, 1))
    big = make_opportunity(other_ae, amount=Decimal("90000"), close_date=date(2027, 1, 1))
    make_opportunity(ae, amount=Decimal("5000"), close_date=date(2027, 6, 1))
    lost = make_opportunity(
        ae, status=Opportunity.Status.LOST, close_date=date(2027, 1, 15), lost_reason="Price", closed_at=NOW
    )
    client = client_for(sales_manager)

    query = "close_before=2027-03-01&status=open&sort=-amount&view=list&page=2"
    assert [r["id"] for r in as_dicts(client.get(f"{PAGE}?{query}"))] == [str(big.pk), str(small.pk)]
    assert [r["id"] for r in as_dicts(client.get(f"{API}?{query}"))] == [str(big.pk), str(small.pk)]
    mine = as_dicts(client.get(f"{PAGE}?ae={other_ae.pk}"))
    assert [r["id"] for r in mine] == [str(big.pk)]
    assert str(lost.pk) in {r["id"] for r in as_dicts(client.get(PAGE))}


def test_an_ae_never_gets_another_teams_opportunities(client_for, ae, far_ae, deal):
    theirs = make_opportunity(far_ae, name="Far away deal")
    client = client_for(ae)
    for url in (PAGE, API):
        ids = {row["id"] for row in as_dicts(client.get(url))}
        assert ids == {str(deal.pk)} and str(theirs.pk) not in ids
    # Their AE filter offers only the AEs one manages: an AE naming another is refused, not shown.
    assert client.get(f"{PAGE}?ae={far_ae.pk}").status_code == 400


def test_an_sdr_exports_through_the_api_only_what_they_handed_off(api_for, inbound_sdr, other_sdr, ae, deal):
    make_opportunity(ae, sdr=other_sdr, name="Lena's handoff")
    rows = as_dicts(api_for(inbound_sdr).get(API))
    assert [row["id"] for row in rows] == [str(deal.pk)]


def test_roles_without_the_pipeline_are_refused(client_for, api_for, inbound_sdr, am, marketing, deal):
    for user in (inbound_sdr, am, marketing):
        assert client_for(user).get(PAGE).status_code == 403  # the pipeline page is AEs' and managers'
    response = api_for(am).get(API)
    assert response.status_code == 403 and b"Acme" not in response.content


def test_bad_filters_are_a_400_naming_them(client_for, api_for, ae, deal):
    api = api_for(ae).get(f"{API}?close_after=2027-13-40&status=sold")
    assert api.status_code == 400
    assert set(api.json()) >= {"close", "status"}
    page = client_for(ae).get(f"{PAGE}?close_after=2027-02-01&close_before=2027-01-01")
    assert page.status_code == 400
    assert b"The first day is after the last day." in page.content and b"Acme platform" not in page.content


@pytest.mark.parametrize("url", [PAGE, API])
def test_the_download_takes_the_same_queries_whatever_the_number_of_rows(client_for, ae, inbound_sdr, url):
    client = client_for(ae)
    campaign = CampaignFactory()

    def make(count: int) -> None:
        for _ in range(count):
            account = Account.objects.create(name="Co", domain="")
            contact = Contact.objects.create(account=account, email=f"p{Contact.objects.count()}@co.example")
            make_opportunity(ae, sdr=inbound_sdr, account=account, contact=contact, campaign=campaign)

    make(2)
    few, rows = queries_to_download(client, url)
    assert len(rows) == 1 + 2
    make(40)
    many, rows = queries_to_download(client, url)
    assert len(rows) == 1 + 42 and many == few


def test_the_pipeline_links_to_the_export_with_its_filters(client_for, ae, deal):
    body = client_for(ae).get(reverse("accounts:pipeline"), {"view": "list", "q": "acme"}).content.decode()
    assert f'href="{PAGE}?view=list&amp;q=acme"' in body
    header, *rows = read_csv(client_for(ae).get(f"{PAGE}?view=list&q=acme"))
    assert header[:3] == ["id", "name", "status"] and len(rows) == 1
