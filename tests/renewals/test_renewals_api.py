"""GET /api/v1/renewals/: the renewals page as an API. The same rows (active contracts due in
90 days or past their end), the page's filters (``am``, ``risk``, ``bucket``) with a 400 for a
value outside them, who sees which renewals, pagination, and a fixed number of queries."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from rest_framework.pagination import PageNumberPagination

from renewals.services import log_conversation, record_outcome, run_renewals
from team.models import Role
from tests.factories import UserFactory, contract, customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

# Monday 4 May 2026, 10:00 in Berlin (the AMs' calendar).
NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
TODAY = date(2026, 5, 4)
URL = "/api/v1/renewals/"


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


@pytest.fixture
def other_am(am):
    """Robin, a second AM in Casey's team (Moe manages both)."""
    return UserFactory(username="robin", role=Role.AM, team=am.team)


@pytest.fixture
def far_am(db):
    """Fay, an AM in a team nobody here manages."""
    from tests.factories import TeamFactory

    return UserFactory(username="fay", role=Role.AM, team=TeamFactory(name="AMs Far", kind="account"))


@pytest.fixture
def book(am, other_am, far_am, am_manager):
    """As the renewals page's tests: Casey's customers ending in 10, 45, 80 and 120 days, one
    that ended 3 days ago (still open), one already renewed; Robin's in 15 days; Fay's in 5."""
    made = {}
    for key, name, end in (
        ("soon", "Soon AG", days(10)),
        ("mid", "Mid GmbH", days(45)),
        ("late", "Late Ltd", days(80)),
        ("far", "Far SA", days(120)),
        ("over", "Over BV", days(-3)),
    ):
        account = customer(am, name=name, domain=f"{key}.example")
        made[key] = contract(account, end=end, value="12000.00", now=NOW - timedelta(days=300))
    done = contract(customer(am, name="Done Inc", domain="done.example"), end=days(20), now=NOW)
    record_outcome(contract_id=done.pk, by=am, outcome="renewed", now=NOW)
    made["done"] = done
    made["robin"] = contract(
        customer(other_am, name="Robin Co", domain="robin.example"), end=days(15), value="5000.00", now=NOW
    )
    made["fay"] = contract(customer(far_am, name="Fay Co", domain="fay.example"), end=days(5), now=NOW)
    run_renewals(now=NOW)  # the windows of the contracts signed long ago open today
    return made


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_an_am_gets_their_renewals_soonest_first_with_bucket_days_left_and_risk(api_for, am, book):
    response = api_for(am).get(URL)

    assert ids(response) == [book[k].pk for k in ("over", "soon", "mid", "late")]
    rows = {row["id"]: row for row in response.json()["results"]}
    over, mid, late = rows[book["over"].pk], rows[book["mid"].pk], rows[book["late"].pk]
    assert (over["bucket"], over["days_left"]) == (30, -3)
    assert (mid["bucket"], mid["days_left"], mid["annual_value"]) == (60, 45, "12000.00")
    assert mid["at_risk"] is True and mid["risk_reasons"] == ["No renewal conversation logged"]
    assert (late["bucket"], late["at_risk"], late["risk_reasons"]) == (90, False, [])  # no window yet
    assert mid["account"]["name"] == "Mid GmbH" and mid["page"] == reverse(
        "renewals:contract", args=[book["mid"].pk]
    )
    assert response.json()["count"] == 4


def test_a_conversation_takes_a_renewal_off_the_risk_list(api_for, am, book):
    client = api_for(am)
    assert book["mid"].pk in ids(client.get(URL, {"risk": "1"}))

    log_conversation(contract_id=book["mid"].pk, by=am, note="They will renew.", now=NOW)

    at_risk = ids(client.get(URL, {"risk": "1"}))
    assert book["mid"].pk not in at_risk and book["soon"].pk in at_risk
    assert book["mid"].pk in ids(client.get(URL, {"risk": "0"}))


@pytest.mark.parametrize(
    ("bucket", "expected"), [("30", ["over", "soon"]), ("60", ["mid"]), ("90", ["late"])]
)
def test_the_bucket_filter_gives_one_window(api_for, am, book, bucket, expected):
    assert ids(api_for(am).get(URL, {"bucket": bucket})) == [book[k].pk for k in expected]


def test_a_manager_sees_their_am_teams_renewals_and_narrows_to_one_am(
    api_for, am_manager, am, other_am, book
):
    client = api_for(am_manager)

    every = ids(client.get(URL))
    assert book["robin"].pk in every and book["soon"].pk in every
    assert book["fay"].pk not in every and book["far"].pk not in every  # another team's; too far out
    assert ids(client.get(URL, {"am": other_am.pk})) == [book["robin"].pk]
    assert ids(client.get(URL, {"am": am.pk, "bucket": "30", "risk": "1"})) == [
        book["over"].pk,
        book["soon"].pk,
    ]


def test_an_am_sees_only_their_own_and_cannot_ask_for_a_colleagues(api_for, am, other_am, book):
    client = api_for(other_am)

    assert ids(client.get(URL)) == [book["robin"].pk]
    refused = client.get(URL, {"am": am.pk})
    assert refused.status_code == 400 and "am" in refused.json()


@pytest.mark.parametrize(
    "query",
    [
        {"bucket": "45"},
        {"bucket": "x"},
        {"risk": "maybe"},
        {"am": "abc"},
        {"am": "999999999999999999999"},
        {"am": "-1"},
    ],
)
def test_bad_filters_are_a_400_naming_the_parameter(api_for, am_manager, book, query):
    response = api_for(am_manager).get(URL, query)

    assert response.status_code == 400
    assert set(response.json()) == set(query)


def test_a_manager_cannot_narrow_to_an_am_of_another_team(api_for, am_manager, far_am, book):
    response = api_for(am_manager).get(URL, {"am": far_am.pk})

    assert response.status_code == 400 and "am" in response.json()


@pytest.mark.parametrize("role", [Role.AE, Role.INBOUND_SDR, Role.MARKETING])
def test_roles_that_do_not_work_renewals_are_refused(api_for, book, role):
    assert api_for(UserFactory(username=f"u-{role}", role=role)).get(URL).status_code == 403


def test_anonymous_callers_are_refused(api, book):
    assert api.get(URL).status_code in (401, 403)


def test_the_list_pages(api_for, am, book, monkeypatch):
    monkeypatch.setattr(PageNumberPagination, "page_size", 3)
    client = api_for(am)

    first = client.get(URL)
    second = client.get(URL, {"page": 2})

    assert ids(first) == [book[k].pk for k in ("over", "soon", "mid")]
    assert first.json()["count"] == 4 and first.json()["next"]
    assert ids(second) == [book["late"].pk]


@pytest.mark.parametrize("size", [3, 12])
def test_the_list_costs_the_same_queries_whatever_its_size(
    api_for, am_manager, am, other_am, size, django_assert_num_queries
):
    for n in range(size):
        owner = am if n % 2 else other_am
        contract(
            customer(owner, name=f"Co {n}", domain=f"co{n}.example"),
            end=days(5 + 7 * n % 90),
            now=NOW - timedelta(days=300),
        )
    run_renewals(now=NOW)
    client = api_for(am_manager)

    # the manager's AMs, the settings (renewal windows, scoring), the count, the page's ids,
    # the rows with their risk
    with django_assert_num_queries(6):
        response = client.get(URL)
    assert len(ids(response)) == size
    assert any(row["at_risk"] for row in response.json()["results"])


def test_the_schema_documents_the_renewals_list_its_filters_and_rows_without_warnings(api_for, am, tmp_path):
    from django.core.management import call_command

    schema = api_for(am).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"][URL]
    assert set(operation) == {"get"}
    params = {p["name"]: p for p in operation["get"]["parameters"]}
    assert {"am", "risk", "bucket", "page"} <= set(params)
    assert params["bucket"]["schema"]["enum"] == ["30", "60", "90"]
    page = operation["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit(
        "/", 1
    )[1]
    row = schema["components"]["schemas"][page]["properties"]["results"]["items"]["$ref"].rsplit("/", 1)[1]
    assert {"days_left", "bucket", "at_risk", "risk_reasons", "annual_value", "end_date"} <= set(
        schema["components"]["schemas"][row]["properties"]
    )
    assert {"400", "403"} <= set(operation["get"]["responses"])
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


@pytest.mark.parametrize(
    "query", [{}, {"risk": "1"}, {"bucket": "30"}, {"bucket": "60", "risk": "1"}, {"am": "robin"}]
)
def test_the_api_lists_the_rows_the_renewals_page_shows(
    client_for, api_for, am_manager, other_am, book, query
):
    """One FilterSet serves both (``renewals.filters``)."""
    import re

    if query.get("am") == "robin":
        query = {"am": other_am.pk}
    page = client_for(am_manager).get(reverse("renewals:renewals"), query)
    assert page.status_code == 200
    shown = [int(pk) for pk in re.findall(r'<tr id="contract-(\d+)"', page.content.decode())]

    assert ids(api_for(am_manager).get(URL, query)) == shown and shown


def test_the_page_and_the_api_refuse_the_same_filter_with_the_same_words(
    client_for, api_for, am_manager, far_am, book
):
    page = client_for(am_manager).get(reverse("renewals:renewals"), {"am": far_am.pk, "bucket": "45"})
    api = api_for(am_manager).get(URL, {"am": far_am.pk, "bucket": "45"})

    assert page.status_code == api.status_code == 400
    for message in ("Choose an account manager from the list.", "Choose 30, 60 or 90 days."):
        assert message in page.content.decode()
    assert api.json() == {
        "am": ["Choose an account manager from the list."],
        "bucket": ["Choose 30, 60 or 90 days."],
    }
