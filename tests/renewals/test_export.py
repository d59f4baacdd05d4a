"""The account manager's lists as CSV files: the accounts of the book and the contacts at them
(``/accounts/export/``, ``/accounts/contacts/export/`` and the accounts API's twins), the
renewals page's contracts (``/renewals/export/``) and the contracts API's
(``/api/v1/contracts/export/``). Each with its list's filters and rules for who sees what,
amounts as plain numbers with the currency, days in ISO, formula-safe cells, a fixed number of
queries."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from accounts.models import Account, Contact
from renewals.services import run_renewals
from team.models import Role
from tests.exports import as_dicts, queries_to_download
from tests.factories import UserFactory, contract, customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # Monday 4 May 2026, 10:00 in Berlin
TODAY = date(2026, 5, 4)
ACCOUNTS = reverse("renewals:accounts_export")
CONTACTS = reverse("renewals:contacts_export")
RENEWALS = reverse("renewals:renewals_export")
ACCOUNTS_API = "/api/v1/accounts/export/"
CONTACTS_API = "/api/v1/accounts/contacts/export/"
CONTRACTS_API = "/api/v1/contracts/export/"


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


@pytest.fixture
def other_am(am):
    """Robin, a second AM in Casey's team (Moe manages both)."""
    return UserFactory(username="robin", role=Role.AM, team=am.team)


@pytest.fixture
def book(am, other_am, am_manager):
    """Casey's accounts (one due in 10 days and silent, so at risk; one far out; one churned)
    and Robin's one, each with a contact."""
    soon = customer(am, name="=Soon AG", domain="soon.example")
    contract(soon, end=days(10), value="12000.50", now=NOW - timedelta(days=300), number="C-1", seats=10)
    wide = customer(am, name="Wide GmbH", domain="wide.example")
    contract(wide, end=days(200), value="5000.00", now=NOW)
    gone = customer(am, name="Gone BV", domain="gone.example", churned_at=NOW - timedelta(days=30))
    robins = customer(other_am, name="Robin Co", domain="robin.example")
    contract(robins, end=days(40), value="7000.00", now=NOW)
    run_renewals(now=NOW)
    for account, email in (
        (soon, "ada@soon.example"),
        (wide, "bo@wide.example"),
        (robins, "cy@robin.example"),
    ):
        Contact.objects.create(account=account, email=email, first_name="+Ada", last_name="X", title="CFO")
    return {"soon": soon, "wide": wide, "gone": gone, "robin": robins}


# --- accounts ---------------------------------------------------------------------------------


def test_an_am_exports_their_book_with_its_figures(client_for, am, book):
    response = client_for(am).get(ACCOUNTS)

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="accounts-2026-05-04.csv"'
    rows = as_dicts(response)
    assert [row["domain"] for row in rows] == ["soon.example", "wide.example", "gone.example"]
    soon, wide, gone = rows
    assert soon["id"] == str(book["soon"].pk) and soon["name"] == "'=Soon AG"
    assert soon["status"] == "customer" and gone["status"] == "churned"
    assert (soon["annual value"], soon["currency"]) == ("12000.50", "EUR")
    assert soon["next renewal"] == "2026-05-14" and soon["at risk"] == "yes"
    assert wide["at risk"] == "no" and gone["next renewal"] == "" and gone["annual value"] == "0.00"
    assert soon["account manager"] == str(book["soon"].account_manager)
    assert soon["customer since (UTC)"] == "2026-05-04T08:00:00Z"
    assert gone["churned at (UTC)"] == "2026-04-04T08:00:00Z"


def test_the_book_filters_choose_the_accounts_on_the_page_and_in_the_api(
    client_for, am_manager, other_am, book
):
    client = client_for(am_manager)
    query = "risk=true&sort=-name&page=4"  # both due soon and silent; Wide and Gone are not at risk
    assert [r["name"] for r in as_dicts(client.get(f"{ACCOUNTS}?{query}"))] == ["Robin Co", "'=Soon AG"]
    assert [r["name"] for r in as_dicts(client.get(f"{ACCOUNTS_API}?{query}"))] == ["Robin Co", "'=Soon AG"]
    theirs = as_dicts(client.get(f"{ACCOUNTS}?owner={other_am.pk}"))
    assert [r["name"] for r in theirs] == ["Robin Co"]


def test_the_contacts_are_those_at_the_accounts_the_filters_select(client_for, api_for, am, book):
    rows = as_dicts(client_for(am).get(f"{CONTACTS}?status=customer"))
    assert [row["email"] for row in rows] == ["ada@soon.example", "bo@wide.example"]  # not Robin's
    ada = rows[0]
    assert ada["first name"] == "'+Ada" and ada["title"] == "CFO"
    assert ada["account id"] == str(book["soon"].pk) and ada["account"] == "'=Soon AG"
    api_rows = as_dicts(api_for(am).get(f"{CONTACTS_API}?q=wide"))
    assert [row["email"] for row in api_rows] == ["bo@wide.example"]


def test_an_am_never_gets_another_ams_accounts_or_contacts(client_for, api_for, am, other_am, book):
    for url in (ACCOUNTS, ACCOUNTS_API, CONTACTS, CONTACTS_API):
        body = b"".join(client_for(am).get(url).streaming_content)
        assert b"robin.example" not in body
    # Naming another AM is refused (an AM looks across nobody), not answered with their rows.
    assert client_for(am).get(f"{ACCOUNTS}?owner={other_am.pk}").status_code == 400
    assert api_for(am).get(f"{CONTACTS_API}?owner={other_am.pk}").status_code == 400


@pytest.mark.parametrize("url", [ACCOUNTS, CONTACTS, RENEWALS, ACCOUNTS_API, CONTACTS_API])
def test_roles_without_customer_accounts_are_refused(client_for, ae, inbound_sdr, book, url):
    for user in (ae, inbound_sdr):
        response = client_for(user).get(url)
        assert response.status_code == 403 and b"soon.example" not in response.content


def test_bad_filters_are_a_400_naming_them(client_for, api_for, am, book):
    page = client_for(am).get(f"{ACCOUNTS}?renewal_within=soon")
    assert page.status_code == 400 and b"renewal_within" in page.content
    assert b"soon.example" not in page.content
    api = api_for(am).get(f"{ACCOUNTS_API}?status=asleep&risk=perhaps")
    assert api.status_code == 400 and set(api.json()) >= {"status", "risk"}
    renewals = client_for(am).get(f"{RENEWALS}?bucket=45")
    assert renewals.status_code == 400 and b"Choose 30, 60 or 90 days." in renewals.content
    contracts = api_for(am).get(f"{CONTRACTS_API}?end_after=never")
    assert contracts.status_code == 400 and "end" in contracts.json()


# --- contracts --------------------------------------------------------------------------------


def test_the_renewals_page_exports_its_contracts_with_their_risk(client_for, am, book):
    response = client_for(am).get(RENEWALS)
    assert response["Content-Disposition"] == 'attachment; filename="contracts-2026-05-04.csv"'
    rows = as_dicts(response)
    assert [row["account"] for row in rows] == ["'=Soon AG"]  # Casey's only; Wide's is not due
    (soon,) = rows
    assert soon["number"] == "C-1" and soon["status"] == "Active" and soon["seats"] == "10"
    assert (soon["annual value"], soon["currency"]) == ("12000.50", "EUR")
    assert (soon["start date"], soon["end date"]) == ("2025-05-15", "2026-05-14")
    assert soon["at risk"] == "yes" and soon["auto-renews"] == "no"


def test_a_manager_narrows_the_renewals_export_as_the_page(client_for, am_manager, am, other_am, book):
    client = client_for(am_manager)
    assert [r["account"] for r in as_dicts(client.get(RENEWALS))] == ["'=Soon AG", "Robin Co"]
    assert [r["account"] for r in as_dicts(client.get(f"{RENEWALS}?bucket=60"))] == ["Robin Co"]
    assert [r["account"] for r in as_dicts(client.get(f"{RENEWALS}?am={other_am.pk}"))] == ["Robin Co"]
    assert [r["account"] for r in as_dicts(client.get(f"{RENEWALS}?bucket=30&risk=1"))] == ["'=Soon AG"]


def test_the_contracts_api_exports_what_the_caller_sees(api_for, am, other_am, marketing, ae, book):
    mine = as_dicts(api_for(am).get(CONTRACTS_API))
    assert [row["account"] for row in mine] == ["'=Soon AG", "Wide GmbH"]
    everyone = as_dicts(api_for(marketing).get(f"{CONTRACTS_API}?account_manager={other_am.pk}"))
    assert [row["account"] for row in everyone] == ["Robin Co"]
    assert as_dicts(api_for(ae).get(CONTRACTS_API)) == []  # an AE sees no contract, as in the list


@pytest.mark.parametrize("url", [ACCOUNTS, CONTACTS, RENEWALS, ACCOUNTS_API, CONTACTS_API, CONTRACTS_API])
def test_the_download_takes_the_same_queries_whatever_the_number_of_rows(client_for, am, url):
    client = client_for(am)

    def make(count: int) -> None:
        for _ in range(count):
            n = Account.objects.count()
            account = customer(am, name=f"Co {n}", domain=f"co{n}.example")
            contract(account, end=days(20 + n), now=NOW)
            Contact.objects.create(account=account, email=f"p{n}@co{n}.example")

    make(2)
    few, rows = queries_to_download(client, url)
    assert len(rows) == 1 + 2
    make(25)
    many, rows = queries_to_download(client, url)
    assert len(rows) == 1 + 27 and many == few


def test_the_lists_link_to_their_exports_with_their_filters(client_for, am, book):
    client = client_for(am)
    accounts = client.get(reverse("renewals:accounts"), {"status": "customer"}).content.decode()
    assert (
        f'href="{ACCOUNTS}?status=customer"' in accounts and f'href="{CONTACTS}?status=customer"' in accounts
    )
    renewals = client.get(reverse("renewals:renewals"), {"risk": "1"}).content.decode()
    assert f'href="{RENEWALS}?risk=1"' in renewals
