"""No page of the AM's answers 500, whatever it is sent (junk, missing fields, negative or
huge values, an end before the start, an unknown outcome, ids that are not ids), and a
refused form saves nothing."""

import copy
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Account, Opportunity
from renewals.models import AccountEvent, Contract, RenewalStep
from team.models import Role
from tests import cast
from tests.factories import UserFactory, contract, customer
from tests.shared_rows import kept_for_the_scope
from work.models import WorkItem

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
JUNK = [
    "",
    " ",
    "x",
    "-1",
    "-0.01",
    "0",
    "99999999999999999999",
    "1e9",
    "NaN",
    "Infinity",
    "null",
    "[]",
    "2026-13-45",
    "0001-01-01",
    "9999-12-31",
    "é" * 3000,
    "1' OR 1=1",
    "<script>alert(1)</script>",
]
SHORT_JUNK = ["", "x", "-1", "99999999999999999999", "é" * 3000]


@pytest.fixture(scope="module")
def kept(django_db_setup, django_db_blocker):
    """Casey, Moe, and Casey's customer with its contract, built once for the module: every test
    here reads them, and what a test changes is rolled back at its end."""
    with kept_for_the_scope(django_db_blocker) as building:
        with building(), time_machine.travel(NOW, tick=False):
            am = cast.am()
            am_manager = cast.am_manager(am)
            account = customer(am)
            term = contract(account, end=date(2026, 6, 18), now=NOW)  # its renewal opens at once
        yield {"am": am, "am_manager": am_manager, "world": {"account": account, "contract": term}}


@pytest.fixture
def _kept(kept, db):
    return copy.deepcopy(kept)


@pytest.fixture
def am(_kept):
    return _kept["am"]


@pytest.fixture
def am_manager(_kept):
    return _kept["am_manager"]


@pytest.fixture
def world(_kept):
    with time_machine.travel(NOW, tick=False):
        yield _kept["world"]


def snapshot() -> tuple:
    """What a refused request must leave as it was."""
    return (
        Contract.objects.count(),
        Contract.objects.active().count(),
        AccountEvent.objects.count(),
        Opportunity.objects.count(),
        WorkItem.objects.open().count(),
        RenewalStep.objects.count(),
        tuple(Account.objects.values_list("account_manager_id", flat=True)),
        tuple(Contract.objects.values_list("renewal_activity_at", flat=True)),
    )


def endpoints(world):
    account, term = world["account"].pk, world["contract"].pk
    return [
        ("get", reverse("renewals:renewals"), ["am", "risk", "bucket", "page"]),
        ("get", reverse("renewals:account", args=[account]), []),
        ("get", reverse("renewals:contract", args=[term]), []),
        ("post", reverse("renewals:assign_am", args=[account]), ["account_manager", "reason"]),
        (
            "post",
            reverse("renewals:add_contract", args=[account]),
            ["start_date", "end_date", "annual_value", "products", "seats", "auto_renew", "number"],
        ),
        ("post", reverse("renewals:conversation", args=[term]), ["note"]),
        (
            "post",
            reverse("renewals:outcome", args=[term]),
            ["outcome", "annual_value", "end_date", "seats", "products", "churn_reason", "note"],
        ),
    ]


@pytest.mark.parametrize("who", ["am", "am_manager", "manager", "ae", "inbound_sdr", "marketing"])
def test_junk_never_gets_a_500_and_changes_nothing(client_for, request, world, who):
    client = client_for(request.getfixturevalue(who))
    with time_machine.travel(NOW, tick=False):
        for method, url, fields in endpoints(world):
            before = snapshot()  # taken again only after a request that changed something
            # A page read without fields is the same request whatever the junk: it is sent once.
            for junk in JUNK if fields or method != "get" else JUNK[:1]:
                data = dict.fromkeys(fields, junk)
                response = client.get(url, data) if method == "get" else client.post(url, data)
                assert response.status_code < 500, (who, url, junk[:20], response.status_code)
                if response.status_code != 302:  # refused (a plain note is a fine conversation)
                    assert snapshot() == before, (who, url, junk[:20])
                else:
                    before = snapshot()
            for key in fields:  # one field of junk, the others missing
                for junk in SHORT_JUNK:
                    response = getattr(client, method)(url, {key: junk})
                    assert response.status_code < 500, (who, url, key, junk[:20], response.status_code)


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/x/",
        "/accounts/-1/",
        "/contracts/1.5/",
        "/contracts/abc/outcome/",
        "/accounts/0x10/contracts/",
    ],
)
def test_ids_that_are_not_ids_are_not_found(client_for, am, world, url):
    assert client_for(am).get(url).status_code == 404
    assert client_for(am).post(url, {"outcome": "renewed"}).status_code in (404, 405)


def test_ids_beyond_any_row_are_not_found(client_for, am_manager, world):
    client = client_for(am_manager)
    for name in ("account", "contract"):
        for pk in (0, 2**31, 2**63 - 1, 10**30):
            assert client.get(reverse(f"renewals:{name}", args=[pk])).status_code == 404, (name, pk)
    for name in ("conversation", "outcome", "add_contract", "assign_am"):
        assert client.post(reverse(f"renewals:{name}", args=[10**30]), {"note": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"start_date": ""}, "start_date", "Enter the first day of the term."),
        (
            {"start_date": "2026-06-01", "end_date": "2026-05-01"},
            "end_date",
            "The end date comes after the start",
        ),
        (
            {"start_date": "2026-06-01", "end_date": "2026-06-01"},
            "end_date",
            "The end date comes after the start",
        ),
        ({"annual_value": "-5"}, "annual_value", "zero or more"),
        ({"annual_value": "1000000000000"}, "annual_value", "below 1,000,000,000,000"),
        ({"annual_value": "12.345"}, "annual_value", "at most two decimals"),
        ({"annual_value": "twelve"}, "annual_value", "Enter an amount"),
        ({"seats": "-3"}, "seats", "zero or more"),
        ({"seats": "3.5"}, "seats", "whole number"),
        ({"seats": "99999999999"}, "seats", "fewer seats"),
        ({"end_date": "9999-12-31"}, "end_date", "between 1990-01-01 and 2100-12-31"),
        ({"start_date": "1066-10-14"}, "start_date", "between 1990-01-01 and 2100-12-31"),
        ({"products": "x" * 301}, "products", "at most 300 characters"),
        ({"number": "n" * 65}, "number", "at most 64 characters"),
    ],
)
def test_a_bad_contract_is_shown_beside_its_field_and_not_saved(client_for, am, world, data, field, message):
    good = {"start_date": "2026-07-01", "end_date": "2027-06-30", "annual_value": "1000"}
    before = snapshot()
    response = client_for(am).post(
        reverse("renewals:add_contract", args=[world["account"].pk]), {**good, **data}
    )
    html = response.content.decode()
    assert response.status_code == 400 and message in html, html[html.find("errorlist") - 200 :][:600]
    assert f'for="k_{field}"' in html
    assert snapshot() == before


def test_a_taken_contract_number_is_refused(client_for, am, world):
    Contract.objects.filter(pk=world["contract"].pk).update(number="C-1")
    before = snapshot()
    data = {"start_date": "2026-07-01", "end_date": "2027-06-30", "annual_value": "1000", "number": "C-1"}
    response = client_for(am).post(reverse("renewals:add_contract", args=[world["account"].pk]), data)
    assert response.status_code == 400 and "Another contract has this number." in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose renewed, expanded, downsized or churned."),
        ({"outcome": "postponed"}, "Choose renewed, expanded, downsized or churned."),
        ({"outcome": "renewed", "annual_value": "-1"}, "zero or more"),
        ({"outcome": "renewed", "annual_value": "13000"}, "a different value is an expansion or a downsize"),
        (
            {"outcome": "downsized", "annual_value": "15000"},
            "A downsize is worth less than €12,000 a year.",
        ),
        ({"outcome": "renewed", "end_date": "2026-06-01"}, "The end date comes after the start date."),
        ({"outcome": "renewed", "end_date": "9999-12-31"}, "between 1990-01-01 and 2100-12-31"),
        ({"outcome": "renewed", "end_date": "2101-01-01"}, "between 1990-01-01 and 2100-12-31"),
        ({"outcome": "renewed", "seats": "-4"}, "zero or more"),
        ({"outcome": "churned", "churn_reason": "Bored"}, "Choose a reason from the list."),
        ({"outcome": "churned"}, "Choose why they left."),
        ({"outcome": "renewed", "note": "n" * 2001}, "under 2000 characters"),
        ({"outcome": "renewed", "products": "p" * 301}, "at most 300 characters"),
    ],
)
def test_a_bad_outcome_is_refused_and_nothing_changes(client_for, am, world, data, message):
    before = snapshot()
    with time_machine.travel(NOW, tick=False):
        response = client_for(am).post(reverse("renewals:outcome", args=[world["contract"].pk]), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("note", ["", "   ", "n" * 481, "é" * 5000])
def test_a_bad_conversation_note_is_refused_and_nothing_changes(client_for, am, world, note):
    before = snapshot()
    response = client_for(am).post(
        reverse("renewals:conversation", args=[world["contract"].pk]), {"note": note}
    )
    assert response.status_code == 400
    assert snapshot() == before


def test_assigning_someone_who_is_not_an_am_is_refused(client_for, am_manager, world, ae):
    stranger = UserFactory(username="sid", role=Role.AM, team=ae.team)  # an AM, not in Moe's teams
    before = snapshot()
    client = client_for(am_manager)
    for chosen in (ae.pk, am_manager.pk, stranger.pk, "x", "-1"):
        response = client.post(reverse("renewals:assign_am", args=[world["account"].pk]),
                               {"account_manager": chosen})  # fmt: skip
        assert response.status_code == 400
        assert "Choose an account manager from the list." in response.content.decode()
    assert snapshot() == before


def test_a_contract_ending_at_the_calendar_s_end_still_renders(client_for, am, world):
    """Imported data may hold a term the form would refuse: its page must not break."""
    Contract.objects.filter(pk=world["contract"].pk).update(end_date=date(9999, 12, 31))
    response = client_for(am).get(reverse("renewals:contract", args=[world["contract"].pk]))
    assert response.status_code == 200
    before = snapshot()
    response = client_for(am).post(
        reverse("renewals:outcome", args=[world["contract"].pk]), {"outcome": "renewed"}
    )
    assert response.status_code == 400 and "between 1990-01-01 and 2100-12-31" in response.content.decode()
    assert snapshot() == before
    assert client_for(am).get(reverse("renewals:renewals")).status_code == 200
    assert client_for(am).get(reverse("renewals:account", args=[world["account"].pk])).status_code == 200


def test_renewals_page_params_out_of_range_still_answer(client_for, am_manager, world):
    client = client_for(am_manager)
    for params in ({"page": "999999"}, {"page": "-1", "bucket": "30"}, {"bucket": "30", "page": "x"},
                   {"am": "1" * 40}, {"risk": "é" * 500}):  # fmt: skip
        assert client.get(reverse("renewals:renewals"), params).status_code in (200, 400), params
