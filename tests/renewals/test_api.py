"""The contracts API: who lists and reads which contracts, importers adding contracts one at a
time or as a JSON list with a per-row report, AMs logging conversations and outcomes, and
never a 500 whatever is sent."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Account
from renewals.models import AccountEvent, Contract
from team.models import Role
from tests.factories import UserFactory, contract, customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
NOW = MONDAY  # where the clock stands in every test
LIST = "/api/v1/contracts/"
IMPORT = "/api/v1/contracts/import/"


@pytest.fixture
def other_am(am):
    """Robin, a second AM in Casey's team."""
    return UserFactory(username="robin", role=Role.AM, team=am.team)


@pytest.fixture
def book(am, other_am):
    """Casey's Acme contract (ends in June) and Robin's Globex contract (ends in October)."""
    acme = contract(customer(am), end=date(2026, 6, 30), number="A-1", now=MONDAY)
    globex = contract(
        customer(other_am, name="Globex", domain="globex.example"),
        end=date(2026, 10, 31),
        number="G-1",
        now=MONDAY,
    )
    return {"acme": acme, "globex": globex}


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [c["id"] for c in response.json()["results"]]


def url(term, action: str = "") -> str:
    return f"{LIST}{term.pk}/" + (f"{action}/" if action else "")


ROW = {
    "name": "Nova AG",
    "domain": "https://www.nova.example/",
    "number": "N-1",
    "start_date": "2025-06-01",
    "end_date": "2026-05-31",
    "annual_value": "$12,000.00",
    "products": "Growth",
    "seats": 20,
    "auto_renew": True,
}


# --- reading -------------------------------------------------------------------------------------


def test_each_role_lists_the_contracts_it_may_see(api_for, book, am, other_am, am_manager, manager, marketing, ae,
                                                  inbound_sdr):  # fmt: skip
    acme, globex = book["acme"].pk, book["globex"].pk
    assert ids(api_for(am).get(LIST)) == [acme]
    assert ids(api_for(other_am).get(LIST)) == [globex]
    assert ids(api_for(am_manager).get(LIST)) == [acme, globex]
    assert ids(api_for(marketing).get(LIST)) == [acme, globex]
    assert ids(api_for(manager).get(LIST)) == []  # manages the inbound team, no AMs
    assert ids(api_for(ae).get(LIST)) == []
    assert ids(api_for(inbound_sdr).get(LIST)) == []


def test_one_contract_is_a_404_for_whoever_does_not_see_it(api, api_for, book, am, ae, marketing):
    acme = book["acme"]
    data = api_for(am).get(url(acme)).json()
    assert data["number"] == "A-1" and data["account"]["name"] == "Acme GmbH"
    assert data["account"]["account_manager"] == am.pk and data["status"] == "active"
    assert data["annual_value"] == "12000.00" and data["page"] == f"/contracts/{acme.pk}/"
    assert api_for(am).get(url(book["globex"])).status_code == 404
    assert api_for(ae).get(url(acme)).status_code == 404
    assert api_for(marketing).get(url(acme)).status_code == 200
    assert api.get(f"{LIST}abc/").status_code == 404
    assert api.get(f"{LIST}99999999999999999999/").status_code == 404


def test_anonymous_callers_are_refused(book):
    assert APIClient().get(LIST).status_code in (401, 403)


def test_the_list_filters_by_account_status_end_date_and_am(api_for, book, am, other_am, am_manager):
    client = api_for(am_manager)
    acme, globex = book["acme"], book["globex"]
    assert ids(client.get(LIST, {"account": acme.account_id})) == [acme.pk]
    assert ids(client.get(LIST, {"account_manager": other_am.pk})) == [globex.pk]
    assert ids(client.get(LIST, {"end_after": "2026-07-01"})) == [globex.pk]
    assert ids(client.get(LIST, {"end_before": "2026-06-30"})) == [acme.pk]
    assert ids(client.get(LIST, {"status": "churned"})) == []
    assert ids(client.get(LIST, {"status": "active"})) == [acme.pk, globex.pk]
    for bad in ({"status": "gone"}, {"account": "x"}, {"account": 10**20}, {"end_after": "2026-13-45"},
                {"account_manager": am_manager.pk}):  # fmt: skip
        assert client.get(LIST, bad).status_code == 400, bad


def test_the_list_costs_the_same_queries_for_two_contracts_or_twenty(api_for, am, am_manager):
    client = api_for(am_manager)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LIST).status_code == 200
        return len(queries)

    for i in range(2):
        contract(customer(am, name=f"A{i}", domain=f"a{i}.example"), end=date(2026, 12, 1), now=MONDAY)
    small = count()
    assert small == 2  # the count and the page (the test client's user needs no query)
    for i in range(2, 20):
        contract(customer(am, name=f"A{i}", domain=f"a{i}.example"), end=date(2026, 12, 1), now=MONDAY)
    assert count() == small
    assert len(client.get(LIST).json()["results"]) == 20


# --- adding ---------------------------------------------------------------------------------------


def test_an_importer_adds_a_contract_for_a_new_customer(api_for, marketing, am, am_rule):
    response = api_for(marketing).post(LIST, ROW, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["number"], data["annual_value"], data["seats"], data["auto_renew"]) == (
        "N-1",
        "12000.00",
        20,
        True,
    )
    assert data["source"] == "api" and data["account"]["domain"] == "nova.example"
    assert data["account"]["account_manager"] == am.pk  # by territory
    assert Account.objects.get(domain="nova.example").is_customer


def test_a_contract_for_an_existing_account_by_id_with_a_named_am(api_for, manager, am, other_am):
    acme = customer(am)
    body = {**ROW, "account": acme.pk, "domain": "", "name": "", "account_manager": "robin"}
    response = api_for(manager).post(LIST, body, format="json")

    assert response.status_code == 201, response.content
    acme.refresh_from_db()
    assert acme.account_manager == other_am and response.json()["account"]["id"] == acme.pk


def test_a_refused_contract_is_a_400_naming_each_field(api_for, marketing, book):
    body = {**ROW, "number": "A-1", "end_date": "2025-01-01", "seats": -3, "account_manager": "nobody"}
    response = api_for(marketing).post(LIST, body, format="json")

    assert response.status_code == 400
    errors = response.json()
    assert errors == {
        "end_date": ["The end date comes after the start date."],
        "seats": ["Seats are a whole number of zero or more."],
    }  # the row's own problems first; the number and the AM are checked once they pass
    response = api_for(marketing).post(LIST, {**body, "end_date": "2026-05-31", "seats": 3}, format="json")
    assert response.json() == {
        "number": ["Contract A-1 is already on file (for Acme GmbH)."],
        "account_manager": ["No user 'nobody': name the account manager by username or email."],
    }
    assert api_for(marketing).post(LIST, {**ROW, "account": 10**12}, format="json").json() == {
        "account": ["Give an account's id (a whole number)."]
    }
    assert api_for(marketing).post(LIST, [ROW], format="json").status_code == 400
    assert not Account.objects.filter(domain="nova.example").exists()


@pytest.mark.parametrize("who", ["am", "ae", "inbound_sdr", "outbound_sdr"])
def test_only_importers_add_contracts(api_for, request, who):
    client = api_for(request.getfixturevalue(who))

    assert client.post(LIST, ROW, format="json").status_code == 403
    assert client.post(IMPORT, [ROW], format="json").status_code == 403
    assert not Contract.objects.exists()


def test_a_json_list_is_imported_with_a_report_per_row(api_for, marketing, am, am_rule):
    rows = [
        ROW,
        {
            **ROW,
            "number": "N-2",
            "annual_value": "12.000,00",
            "start_date": "06/01/2025",
            "end_date": "31.05.2026",
        },
        {**ROW, "number": "N-1"},
        {**ROW, "number": "N-3", "annual_value": "lots", "seats": [1, 2]},
        "not a row",
        {**ROW, "number": "N-4", "domain": "vega.example", "name": "Vega", "account_manager": am.email},
    ]
    response = api_for(marketing).post(IMPORT, rows, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["created_count"], data["refused_count"]) == (3, 3)
    fate = {row["line"]: row for row in data["rows"]}
    assert [fate[i]["status"] for i in range(1, 7)] == ["created", "created", "refused", "refused", "refused",
                                                         "created"]  # fmt: skip
    assert fate[3]["problems"] == {"number": "The same contract number as line 1."}
    assert set(fate[4]["problems"]) == {"annual_value", "seats"}
    assert fate[5]["message"] == "Each row is an object with the contract's fields."
    assert Contract.objects.filter(number="N-2").get().annual_value == Decimal("12000.00")
    assert fate[1]["contract"] == Contract.objects.get(number="N-1").pk
    assert set(Contract.objects.values_list("source", flat=True)) == {"api"}


def test_a_list_of_refused_rows_answers_200_and_a_bad_body_400(api_for, marketing):
    client = api_for(marketing)
    response = client.post(IMPORT, [{"domain": "x"}], format="json")
    assert response.status_code == 200 and response.json()["refused_count"] == 1
    assert client.post(IMPORT, ROW, format="json").status_code == 400
    assert client.post(IMPORT, [], format="json").status_code == 400
    too_many = client.post(IMPORT, [ROW] * 5001, format="json")
    assert too_many.status_code == 400 and "At most 5,000" in too_many.json()["non_field_errors"][0]
    assert client.post(IMPORT, "[{", content_type="application/json").status_code == 400
    assert not Contract.objects.exists()


# --- renewal work ---------------------------------------------------------------------------------


def test_the_am_logs_a_conversation(api_for, book, am):
    response = api_for(am).post(
        url(book["acme"], "conversation"), {"note": "Happy, renewing."}, format="json"
    )

    assert response.status_code == 200 and response.json()["renewal_activity_at"] is not None
    assert AccountEvent.objects.filter(kind="conversation", message="Happy, renewing.").exists()
    empty = api_for(am).post(url(book["acme"], "conversation"), {"note": "  "}, format="json")
    assert empty.status_code == 400 and empty.json() == {"note": ["Say what was discussed."]}


def test_renewal_work_is_for_the_am_and_their_manager(api_for, book, am, other_am, am_manager, marketing, ae, inbound_sdr,
                                                      manager):  # fmt: skip
    acme = book["acme"]
    note = {"note": "Talked."}
    assert api_for(ae).post(url(acme, "conversation"), note, format="json").status_code == 403
    assert (
        api_for(inbound_sdr).post(url(acme, "outcome"), {"outcome": "renewed"}, format="json").status_code
        == 403
    )
    assert api_for(marketing).post(url(acme, "conversation"), note, format="json").status_code == 403
    assert api_for(other_am).post(url(acme, "conversation"), note, format="json").status_code == 404
    assert api_for(manager).post(url(acme, "conversation"), note, format="json").status_code == 404
    assert api_for(am_manager).post(url(acme, "conversation"), note, format="json").status_code == 200
    assert Contract.objects.get(pk=acme.pk).renewal_activity_at is not None


def test_an_expansion_starts_a_new_term(api_for, book, am):
    response = api_for(am).post(
        url(book["acme"], "outcome"),
        {"outcome": "expanded", "annual_value": "15000", "seats": 30},
        format="json",
    )

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["contract"]["status"] == "renewed" and data["contract"]["outcome"] == "expanded"
    new = data["new_term"]
    assert (new["start_date"], new["end_date"], new["annual_value"], new["seats"]) == (
        "2026-07-01", "2027-06-30", "15000.00", 30,
    )  # fmt: skip
    assert new["renewed_from"] == book["acme"].pk


def test_a_churn_needs_a_reason_and_a_closed_contract_refuses_another_outcome(api_for, book, am):
    client = api_for(am)
    no_reason = client.post(url(book["acme"], "outcome"), {"outcome": "churned"}, format="json")
    assert no_reason.status_code == 400 and list(no_reason.json()) == ["churn_reason"]

    churned = client.post(
        url(book["acme"], "outcome"),
        {"outcome": "churned", "churn_reason": "Chose a competitor"},
        format="json",
    )
    assert churned.status_code == 200 and churned.json()["new_term"] is None
    again = client.post(url(book["acme"], "outcome"), {"outcome": "renewed"}, format="json")
    assert again.status_code == 400 and "already recorded" in again.json()["non_field_errors"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "maybe"}, "outcome"),
        ({"outcome": "expanded", "annual_value": "100"}, "annual_value"),
        ({"outcome": "downsized", "annual_value": "-1"}, "annual_value"),
        ({"outcome": "renewed", "annual_value": "1e20"}, "annual_value"),
        ({"outcome": "renewed", "end_date": "2026-13-45"}, "end_date"),
        ({"outcome": "renewed", "end_date": "2026-01-01"}, "end_date"),
        ({"outcome": "renewed", "seats": -1}, "seats"),
        ({"outcome": "renewed", "seats": 2**31}, "seats"),
        ({"outcome": "renewed", "seats": 1.5}, "seats"),
        ({"outcome": "renewed", "end_date": "9999-12-31"}, "end_date"),
        ({"outcome": "renewed", "end_date": "2101-01-01"}, "end_date"),
        ({"outcome": "renewed", "end_date": "0001-01-01"}, "end_date"),
        ({"outcome": "expanded", "annual_value": "1000000000000"}, "annual_value"),
        ({}, "outcome"),
    ],
)
def test_a_refused_outcome_names_the_field_and_changes_nothing(api_for, book, am, body, field):
    before = (Contract.objects.count(), AccountEvent.objects.count())
    response = api_for(am).post(url(book["acme"], "outcome"), body, format="json")

    assert response.status_code == 400 and field in response.json()
    assert Contract.objects.get(pk=book["acme"].pk).status == "active"
    assert (Contract.objects.count(), AccountEvent.objects.count()) == before


def test_a_term_ending_in_9999_is_refused_so_the_renewals_after_it_still_work(api_for, book, am):
    client = api_for(am)
    refused = client.post(url(book["acme"], "outcome"), {"outcome": "renewed", "end_date": "9999-12-31"},
                          format="json")  # fmt: skip
    assert refused.status_code == 400
    assert refused.json()["end_date"] == ["Enter a date between 1990-01-01 and 2100-12-31."]

    last_day = client.post(url(book["acme"], "outcome"), {"outcome": "renewed", "end_date": "2100-12-31"},
                           format="json")  # fmt: skip
    assert last_day.status_code == 200, last_day.content
    new_term = Contract.objects.get(pk=last_day.json()["new_term"]["id"])
    assert new_term.end_date == date(2100, 12, 31)
    # Its next term would lie past the range: refused on a field like any date, not a 500.
    again = client.post(
        url(new_term, "outcome"), {"outcome": "expanded", "annual_value": "13000"}, format="json"
    )
    assert again.status_code == 400 and "between 1990-01-01 and 2100-12-31" in str(again.json())
    assert Contract.objects.get(pk=new_term.pk).status == "active"


@pytest.mark.parametrize("field", ["name", "products", "number", "account_manager", "domain"])
def test_a_lone_surrogate_in_a_contract_is_refused_on_its_field(api_for, marketing, field):
    body = json.dumps({**ROW, field: "Nova\ud800"})
    before = (Contract.objects.count(), Account.objects.count())

    response = api_for(marketing).post(LIST, body, content_type="application/json")

    assert response.status_code == 400, response.content
    assert list(response.json()) == [field] and "U+D800" in response.json()[field][0]
    assert (Contract.objects.count(), Account.objects.count()) == before


def test_a_lone_surrogate_refuses_its_row_and_the_others_of_the_import_are_created(api_for, marketing):
    good = {**ROW, "number": "N-2", "domain": "other.example", "name": "Other"}
    body = "[" + json.dumps({**ROW, "products": "Growth\udfff"}) + "," + json.dumps(good) + "]"

    response = api_for(marketing).post(IMPORT, body, content_type="application/json")

    assert response.status_code == 201, response.content
    report = response.json()
    assert (report["created_count"], report["refused_count"]) == (1, 1)
    refused, created = report["rows"]
    assert refused["line"] == 1 and list(refused["problems"]) == ["products"]
    assert created["line"] == 2 and created["status"] == "created"
    assert list(Contract.objects.values_list("number", flat=True)) == ["N-2"]


@pytest.mark.parametrize(
    "query",
    [
        {"end_after": "9999-12-31"},
        {"end_before": "0001-01-01"},
        {"end_after": "1989-12-31"},
        {"end_before": "2101-01-01"},
    ],
)
def test_an_end_date_filter_out_of_range_is_a_400_naming_it(api_for, book, marketing, query):
    response = api_for(marketing).get(LIST, query)
    assert response.status_code == 400 and "end" in response.json()


JUNK = [None, "", "x", "-1", 0, -1, 10**20, "99999999999999999999", 1.5, "1e9", True, [], {}, [1], {"a": 1},
        "2026-13-45", "é" * 500, "1' OR 1=1", "NaN", "Infinity", "²", "٣"]  # fmt: skip


def test_junk_never_gets_a_500(api, api_for, book, am, marketing):
    acme = book["acme"]
    fields = ["account", "domain", "name", "number", "start_date", "end_date", "annual_value", "products",
              "seats", "auto_renew", "account_manager"]  # fmt: skip
    for value in JUNK:
        for field in fields:
            body = {**ROW, field: value}
            assert api_for(marketing).post(LIST, body, format="json").status_code < 500, (field, value)
            assert api_for(marketing).post(IMPORT, [body], format="json").status_code < 500, (
                field,
                value,
            )
        for field in ["outcome", "annual_value", "end_date", "seats", "products", "churn_reason", "note"]:
            body = {"outcome": "renewed", field: value}
            assert api_for(am).post(url(acme, "outcome"), body, format="json").status_code < 500, (
                field,
                value,
            )
        assert api_for(am).post(url(acme, "conversation"), {"note": value}, format="json").status_code < 500
        for name in ["account", "status", "end_after", "end_before", "account_manager", "page"]:
            if not isinstance(value, list | dict) and value is not None:
                assert api_for(marketing).get(LIST, {name: value}).status_code < 500, (name, value)
        assert api_for(marketing).post(IMPORT, value, format="json").status_code < 500, value
    for raw in ["{", "[1,", "null", '"x"', "1e999999", "[" * 2000]:
        for path in (LIST, IMPORT, url(acme, "outcome"), url(acme, "conversation")):
            assert api.post(path, raw, content_type="application/json").status_code < 500, (path, raw)
    for pk in ["abc", "-1", "0", "99999999999999999999", "1.5"]:
        for action in ("", "conversation/", "outcome/"):
            method = api.get if not action else api.post
            assert method(f"{LIST}{pk}/{action}").status_code in (403, 404), (pk, action)


# --- the schema -----------------------------------------------------------------------------------


def test_the_schema_documents_the_contract_endpoints_without_warnings(api_for, marketing, tmp_path):
    client = api_for(marketing)
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/contracts/"])
    assert "/api/v1/contracts/{id}/" in paths
    body = paths["/api/v1/contracts/import/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["type"] == "array"
    assert "/api/v1/contracts/{id}/conversation/" in paths and "/api/v1/contracts/{id}/outcome/" in paths
    params = {p["name"] for p in paths["/api/v1/contracts/"]["get"]["parameters"]}
    assert {"account", "status", "end_after", "end_before", "account_manager"} <= params
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_a_large_import_body_is_parsed_whole(api_for, marketing, am_rule):
    rows = [{**ROW, "number": f"N-{i}", "domain": f"n{i}.example", "name": f"N{i}"} for i in range(50)]
    response = api_for(marketing).post(IMPORT, json.dumps(rows), content_type="application/json")

    assert response.status_code == 201 and response.json()["created_count"] == 50
    assert Contract.objects.count() == 50
