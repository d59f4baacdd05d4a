"""The accounts list (``/accounts/``) and its API (``/api/v1/accounts/``): an AM's book with
each account's annual value, next renewal and risk; a manager's AMs' with a filter by AM; the
filters, sorts and pages both share; who sees what; bad filters as 400s; a fixed number of
queries whatever the size of the book."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account
from renewals.models import Contract
from renewals.services import log_conversation, run_renewals
from team.models import Role
from tests.factories import UserFactory, accepted, contract, customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

# Monday 4 May 2026, 10:00 in Berlin.
NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
TODAY = date(2026, 5, 4)
PAGE = reverse("renewals:accounts")
API = "/api/v1/accounts/"


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


@pytest.fixture
def other_am(am):
    """Robin, a second AM in Casey's team (Moe manages both)."""
    return UserFactory(username="robin", role=Role.AM, team=am.team)


@pytest.fixture
def book(am, other_am, am_manager):
    """Casey's four accounts (one due in 10 days and silent, so at risk; one with two terms far
    out; one churned; one never a customer) and Robin's one."""
    soon = customer(am, name="Soon AG", domain="soon.example")
    contract(soon, end=days(10), value="12000.00", now=NOW - timedelta(days=300))
    wide = customer(am, name="Wide GmbH", domain="wide.example")
    contract(wide, end=days(200), value="5000.00", now=NOW)
    contract(wide, end=days(300), value="3000.00", now=NOW)
    gone = customer(am, name="Gone BV", domain="gone.example", churned_at=NOW - timedelta(days=30))
    maybe = Account.objects.create(name="Maybe Ltd", domain="maybe.example", account_manager=am)
    robins = customer(other_am, name="Robin Co", domain="robin.example")
    contract(robins, end=days(40), value="7000.00", now=NOW)
    run_renewals(now=NOW)
    return {"soon": soon, "wide": wide, "gone": gone, "maybe": maybe, "robin": robins}


def rows(html: str) -> list[str]:
    return re.findall(r'<tr class="al-row.*?</tr>', html, re.S)


def names(html: str) -> list[str]:
    return [re.search(r'<a href="[^"]+">([^<]+)</a>', row).group(1) for row in rows(html)]


# --- the page -----------------------------------------------------------------------------------


def test_an_am_sees_every_account_they_manage_soonest_renewal_first(client_for, am, book):
    response = client_for(am).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert names(html) == ["Soon AG", "Wide GmbH", "Gone BV", "Maybe Ltd"]  # no renewal: last
    soon, wide, gone, maybe = rows(html)
    assert "12,000" in soon and "Thu 14 May 2026" in soon and "in 10 days" in soon and "At risk" in soon
    assert "8,000" in wide and "Fri 20 Nov 2026" in wide and "At risk" not in wide  # two terms, the soonest
    assert "Churned" in gone and "Not a customer yet" in maybe
    assert f'href="{reverse("renewals:account", args=[book["soon"].pk])}"' in soon
    assert "Robin Co" not in html and "Account manager</th>" not in html


def test_a_logged_conversation_takes_the_account_off_the_risk_list(client_for, am, book):
    (term,) = book["soon"].contracts.all()
    log_conversation(contract_id=term.pk, by=am, note="Renewing.", now=NOW)
    html = client_for(am).get(PAGE, {"risk": "true"}).content.decode()
    assert names(html) == []


def test_a_manager_sees_their_ams_accounts_and_narrows_to_one(client_for, am_manager, other_am, book):
    client = client_for(am_manager)
    html = client.get(PAGE).content.decode()
    assert set(names(html)) == {"Soon AG", "Wide GmbH", "Gone BV", "Maybe Ltd", "Robin Co"}
    assert "Account manager</th>" in html and "robin" in html.lower()
    html = client.get(PAGE, {"owner": other_am.pk}).content.decode()
    assert names(html) == ["Robin Co"]


def test_an_am_outside_the_managers_teams_is_a_400_not_an_empty_list(client_for, am_manager, book):
    stranger = UserFactory(username="zed", role=Role.AM)
    response = client_for(am_manager).get(PAGE, {"owner": stranger.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode() and rows(response.content.decode()) == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "customer"}, ["Soon AG", "Wide GmbH"]),
        ({"status": "churned"}, ["Gone BV"]),
        ({"status": "prospect"}, ["Maybe Ltd"]),
        ({"renewal_within": "30"}, ["Soon AG"]),
        ({"renewal_within": "365"}, ["Soon AG", "Wide GmbH"]),
        ({"risk": "true"}, ["Soon AG"]),
        ({"risk": "false"}, ["Wide GmbH", "Gone BV", "Maybe Ltd"]),
        ({"sort": "-value"}, ["Soon AG", "Wide GmbH", "Gone BV", "Maybe Ltd"]),
        ({"sort": "value"}, ["Gone BV", "Maybe Ltd", "Wide GmbH", "Soon AG"]),
        ({"sort": "name"}, ["Gone BV", "Maybe Ltd", "Soon AG", "Wide GmbH"]),
        ({"sort": "-renewal"}, ["Wide GmbH", "Soon AG", "Gone BV", "Maybe Ltd"]),
        ({"q": "wide"}, ["Wide GmbH"]),
        ({"q": "MAYBE.EX"}, ["Maybe Ltd"]),
    ],
)
def test_the_filters_and_sorts(client_for, am, book, params, expected):
    response = client_for(am).get(PAGE, params)
    assert response.status_code == 200
    assert names(response.content.decode()) == expected


@pytest.mark.parametrize(
    "params",
    [
        {"renewal_within": "soon"},
        {"renewal_within": "1.5"},
        {"renewal_within": "-1"},
        {"renewal_within": "99999999999999999999"},
        {"status": "vip"},
        {"risk": "maybe"},
        {"sort": "amount"},
        {"owner": "x"},
    ],
)
def test_bad_filters_are_a_400_with_the_reason(client_for, am, book, params):
    response = client_for(am).get(PAGE, params)
    assert response.status_code == 400
    assert 'id="filter-errors"' in response.content.decode()


@pytest.mark.parametrize("who", ["ae", "inbound_sdr", "outbound_sdr"])
def test_aes_and_sdrs_have_no_accounts_list(client_for, request, who):
    assert client_for(request.getfixturevalue(who)).get(PAGE).status_code == 403


def test_marketing_reads_every_managed_account(client_for, marketing, book):
    html = client_for(marketing).get(PAGE).content.decode()
    assert len(rows(html)) == 5


def test_the_nav_links_the_list_for_ams_and_managers_only(client_for, am, am_manager, ae):
    link = f'href="{PAGE}"'
    assert link in client_for(am).get(reverse("renewals:renewals")).content.decode()
    assert link in client_for(am_manager).get(reverse("renewals:renewals")).content.decode()
    assert link not in client_for(ae).get(reverse("accounts:inbox")).content.decode()


def test_the_list_is_paginated(client_for, am):
    Account.objects.bulk_create(
        Account(name=f"Acct {i:03d}", domain=f"a{i}.example", account_manager=am) for i in range(120)
    )
    client = client_for(am)
    html = client.get(PAGE, {"sort": "name"}).content.decode()
    assert len(rows(html)) == 50 and "120 accounts" in html and "Page 1 of 3" in html
    html = client.get(PAGE, {"sort": "name", "page": 3}).content.decode()
    assert names(html)[0] == "Acct 100" and len(rows(html)) == 20


def _book_of(am, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        account = customer(am, name=f"Kunde {i:03d}", domain=f"k{i}.example")
        contract(account, end=days(5 + i), value="1000.00", now=NOW - timedelta(days=300))


def test_the_page_and_the_api_cost_the_same_queries_for_three_accounts_or_thirty(client_for, api_for, am):
    _book_of(am, 3)
    run_renewals(now=NOW)
    client = client_for(am)
    client.get(PAGE)  # warm the per-process caches
    with CaptureQueriesContext(connection) as small:
        assert len(rows(client.get(PAGE).content.decode())) == 3
    api = api_for(am)
    with CaptureQueriesContext(connection) as small_api:
        assert api.get(API).json()["count"] == 3
    _book_of(am, 27, start=3)
    run_renewals(now=NOW)
    with CaptureQueriesContext(connection) as large:
        assert len(rows(client.get(PAGE).content.decode())) == 30
    with CaptureQueriesContext(connection) as large_api:
        assert api.get(API).json()["count"] == 30
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(large_api.captured_queries) == len(small_api.captured_queries)


# --- the API ------------------------------------------------------------------------------------


def test_the_api_lists_an_ams_book_with_the_pages_figures(api_for, am, book):
    body = api_for(am).get(API).json()
    assert body["count"] == 4 and body["next"] is None
    by_name = {row["name"]: row for row in body["results"]}
    assert set(by_name) == {"Soon AG", "Wide GmbH", "Gone BV", "Maybe Ltd"}
    soon = by_name["Soon AG"]
    assert (
        soon["annual_value"] == "12000.00"
        and soon["next_renewal"] == "2026-05-14"
        and soon["at_risk"] is True
    )
    assert soon["status"] == "customer" and soon["account_manager"] == am.pk
    assert soon["page"] == reverse("renewals:account", args=[book["soon"].pk])
    assert by_name["Wide GmbH"]["annual_value"] == "8000.00"
    assert by_name["Gone BV"]["status"] == "churned" and by_name["Maybe Ltd"]["status"] == "prospect"
    assert by_name["Maybe Ltd"]["next_renewal"] is None and by_name["Maybe Ltd"]["annual_value"] == "0.00"


def test_the_api_takes_the_pages_filters(api_for, am_manager, other_am, book):
    api = api_for(am_manager)
    assert [r["name"] for r in api.get(API, {"owner": other_am.pk}).json()["results"]] == ["Robin Co"]
    # Robin's renewal (in 40 days) is in its window with no conversation: at risk too.
    assert [r["name"] for r in api.get(API, {"risk": "true"}).json()["results"]] == ["Soon AG", "Robin Co"]
    got = api.get(API, {"renewal_within": 45, "sort": "-renewal"}).json()["results"]
    assert [r["name"] for r in got] == ["Robin Co", "Soon AG"]
    assert [r["name"] for r in api.get(API, {"status": "churned"}).json()["results"]] == ["Gone BV"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"renewal_within": "x"}, "renewal_within"),
        ({"status": "vip"}, "status"),
        ({"sort": "amount"}, "sort"),
        ({"owner": "999999"}, "owner"),
        ({"risk": "maybe"}, "risk"),
    ],
)
def test_the_api_answers_a_bad_filter_with_a_400_naming_it(api_for, am, book, params, field):
    response = api_for(am).get(API, params)
    assert response.status_code == 400
    assert field in response.json()


def test_the_api_shows_each_role_only_its_accounts(api, api_for, am, other_am, ae, marketing, book):
    assert api.get(API).status_code in (401, 403)
    assert api_for(ae).get(API).status_code == 403
    assert api_for(marketing).get(API).json()["count"] == 5
    robins = book["robin"].pk
    assert api_for(am).get(f"{API}{robins}/").status_code == 404
    one = api_for(other_am).get(f"{API}{robins}/")
    assert one.status_code == 200 and one.json()["name"] == "Robin Co"


def test_the_api_is_in_the_schema(api_for, am):
    schema = api_for(am).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    parameters = {p["name"] for p in schema["paths"]["/api/v1/accounts/"]["get"]["parameters"]}
    assert {"q", "status", "renewal_within", "risk", "owner", "sort", "page"} <= parameters
    assert "/api/v1/accounts/{id}/" in schema["paths"]


JUNK = [
    "",
    "x",
    "-1",
    "0",
    "99999999999999999999",
    "1e9",
    "null",
    "[]",
    "2026-13-45",
    "é" * 300,
    "a\x00b",
    "1' OR 1=1",
]


@pytest.mark.parametrize("value", JUNK)
def test_no_filter_value_makes_a_500(client_for, api_for, am_manager, book, value):
    for name in ("q", "status", "renewal_within", "risk", "owner", "sort", "page"):
        assert client_for(am_manager).get(PAGE, {name: value}).status_code in (200, 400), name
        assert api_for(am_manager).get(API, {name: value}).status_code in (200, 400, 404), name


# --- opportunities as links ---------------------------------------------------------------------


def test_opportunities_on_the_account_and_contract_pages_link_where_the_reader_may_go(
    client_for, am, am_manager, inbound_sdr, ae, book
):
    (term,) = book["soon"].contracts.all()
    renewal = term.renewal
    assert renewal is not None  # the daily run opened it
    account_page = reverse("renewals:account", args=[book["soon"].pk])
    contract_page = reverse("renewals:contract", args=[term.pk])
    opportunity_page = reverse("accounts:opportunity", args=[renewal.pk])

    # The AM works a renewal on its contract's page: that is where its name links.
    html = client_for(am).get(account_page).content.decode()
    assert f'<a href="{contract_page}">{renewal.name}</a>' in html
    # Their manager may open the opportunity itself.
    html = client_for(am_manager).get(account_page).content.decode()
    assert f'<a href="{opportunity_page}">{renewal.name}</a>' in html
    html = client_for(am_manager).get(contract_page).content.decode()
    assert f'<a href="{opportunity_page}">{renewal.name}</a>' in html

    # A contract won from an opportunity links the deal for whoever may open it.
    won = accepted(inbound_sdr, ae, now=NOW, company="Soon AG", email="buyer@soon.example")
    Contract.objects.filter(pk=term.pk).update(opportunity=won)
    deal = reverse("accounts:opportunity", args=[won.pk])
    assert f'<a href="{deal}">{won.name}</a>' not in client_for(am).get(contract_page).content.decode()
    assert won.name in client_for(am).get(contract_page).content.decode()  # named, not linked
    ops = UserFactory(username="ops", role=Role.MARKETING, is_superuser=True)
    assert f'<a href="{deal}">{won.name}</a>' in client_for(ops).get(contract_page).content.decode()
