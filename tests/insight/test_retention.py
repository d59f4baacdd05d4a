"""Retention from contracts: outcomes recorded through the renewals service, the expected money
computed here from the terms the test chose."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from insight import retention
from insight.scope import Period, Scope
from renewals.services import record_outcome
from team.models import Role
from tests.factories import TeamFactory, UserFactory, contract, customer

from .test_pages import tables_of, text_of

BERLIN = ZoneInfo("Europe/Berlin")
CREATED = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
DECIDED = datetime(2025, 5, 10, 9, 0, tzinfo=UTC)
NOW = datetime(2025, 6, 2, 10, tzinfo=UTC)  # where the clock stands in the tests that freeze it
PERIOD = Period(date(2025, 3, 1), date(2025, 4, 30), BERLIN)
PRICE, COMPETITOR = "Price / budget", "Chose a competitor"

pytestmark = pytest.mark.django_db


@dataclass
class Term:
    am: str  # "casey" or "dana"
    end: date
    value: str
    outcome: str  # renewed, expanded, downsized, churned, or "" (none recorded yet)
    new_value: str = ""
    reason: str = ""

    def ends_in(self, period: Period) -> bool:
        return period.start <= self.end <= period.end


TERMS = [
    Term("casey", date(2025, 3, 10), "12000.00", "renewed", "12000.00"),
    Term("casey", date(2025, 3, 20), "10000.00", "expanded", "15000.00"),
    Term("casey", date(2025, 4, 5), "8000.00", "downsized", "6000.00"),
    Term("casey", date(2025, 4, 15), "5000.00", "churned", reason=PRICE),
    Term("casey", date(2025, 4, 20), "3000.00", "churned", reason=PRICE),
    Term("casey", date(2025, 4, 25), "7000.00", ""),  # ended, nothing recorded yet
    Term("casey", date(2025, 5, 2), "9999.00", "expanded", "12000.00"),  # after the period
    Term("casey", date(2025, 2, 28), "4444.00", "churned", reason=COMPETITOR),  # before it
    Term("dana", date(2025, 3, 31), "20000.00", "churned", reason=COMPETITOR),
    Term("dana", date(2025, 4, 30), "1000.00", "expanded", "1500.00"),
]


def expected(terms, period: Period = PERIOD) -> dict:
    """Base, renewed, expansion, contraction and churn of the decided terms ending in
    ``period``, by hand."""
    decided = [t for t in terms if t.ends_in(period) and t.outcome]
    kept = [t for t in decided if t.outcome != "churned"]
    churned = [t for t in decided if t.outcome == "churned"]
    return {
        "base": sum((Decimal(t.value) for t in decided), Decimal("0.00")),
        "renewed": sum((min(Decimal(t.value), Decimal(t.new_value)) for t in kept), Decimal("0.00")),
        "expansion": sum((max(Decimal(t.new_value) - Decimal(t.value), 0) for t in kept), Decimal("0.00")),
        "contraction": sum((max(Decimal(t.value) - Decimal(t.new_value), 0) for t in kept), Decimal("0.00")),
        "churned": sum((Decimal(t.value) for t in churned), Decimal("0.00")),
        "churned_count": len(churned),
        "pending": len([t for t in terms if t.ends_in(period) and not t.outcome]),
    }


def as_dict(row) -> dict:
    return {
        "base": row.base,
        "renewed": row.renewed,
        "expansion": row.expansion,
        "contraction": row.contraction,
        "churned": row.churned,
        "churned_count": row.churned_count,
        "pending": row.pending,
    }


@pytest.fixture
def ams(am):
    dana = UserFactory(username="dana", first_name="Dana", last_name="Kim", role=Role.AM, team=am.team)
    am.first_name, am.last_name = "Casey", "Jones"
    am.save(update_fields=["first_name", "last_name"])
    return {"casey": am, "dana": dana}


@pytest.fixture
def book(ams):
    """Each term on its own customer account, its outcome recorded by the account's AM."""
    for i, term in enumerate(TERMS):
        owner = ams[term.am]
        with time_machine.travel(CREATED, tick=False):
            account = customer(owner, name=f"Customer {i}", domain=f"customer{i}.example")
            made = contract(account, end=term.end, value=term.value, now=CREATED)
        if term.outcome:
            with time_machine.travel(DECIDED, tick=False):
                record_outcome(
                    contract_id=made.pk,
                    by=owner,
                    outcome=term.outcome,
                    annual_value=Decimal(term.new_value) if term.new_value else None,
                    churn_reason=term.reason,
                    now=DECIDED,
                )
    return ams


@pytest.fixture
def boss(book, am):
    """The manager of the AMs' team: a manager sees the retention of the AM teams they manage."""
    bea = UserFactory(username="bea", role=Role.MANAGER, team=TeamFactory(name="Leadership"))
    am.team.manager = bea
    am.team.save(update_fields=["manager"])
    return bea


def test_total_for_a_manager_is_every_renewal_due_in_the_period(boss, django_assert_num_queries):
    scope = Scope.for_user(boss, PERIOD)
    with django_assert_num_queries(1):
        row = retention.total(scope)

    want = expected(TERMS)
    assert as_dict(row) == want
    assert row.base == Decimal("59000.00")
    assert row.contracts == 7
    assert row.pending_value == Decimal("7000.00")
    assert row.renewed + row.contraction + row.churned == row.base
    assert row.grr == pytest.approx(
        float((want["base"] - want["contraction"] - want["churned"]) / want["base"])
    )
    assert row.nrr == pytest.approx(
        float((want["base"] - want["contraction"] - want["churned"] + want["expansion"]) / want["base"])
    )
    assert row.grr == pytest.approx(29000 / 59000)
    assert row.nrr == pytest.approx(34500 / 59000)


def test_by_month_cuts_on_the_end_date_and_lists_empty_months(boss, django_assert_num_queries):
    period = Period(date(2025, 2, 1), date(2025, 5, 31), BERLIN)
    scope = Scope.for_user(boss, period)
    with django_assert_num_queries(1):
        rows = retention.by_month(scope)

    assert [(r.key, r.label) for r in rows] == [
        (date(2025, 2, 1), "Feb 2025"),
        (date(2025, 3, 1), "Mar 2025"),
        (date(2025, 4, 1), "Apr 2025"),
        (date(2025, 5, 1), "May 2025"),
    ]
    for row in rows:
        month = [t for t in TERMS if (t.end.year, t.end.month) == (row.key.year, row.key.month)]
        assert as_dict(row) == expected(month, period), row.label
    assert rows[1].base == Decimal("42000.00")  # 12000 + 10000 + 20000
    assert rows[1].grr == pytest.approx(22000 / 42000)


def test_by_am_for_a_manager_and_for_each_am(book, boss, django_assert_num_queries):
    asked = Scope.for_user(boss, PERIOD)  # the question (it reads the facts' generation)
    with django_assert_num_queries(1):
        rows = retention.by_am(asked)
    assert [(r.key, r.label) for r in rows] == [
        (book["casey"].pk, "Casey Jones"),
        (book["dana"].pk, "Dana Kim"),
    ]
    for row, name in zip(rows, ["casey", "dana"], strict=True):
        assert as_dict(row) == expected([t for t in TERMS if t.am == name])

    # An AM sees their own accounts only, in every view.
    dana = Scope.for_user(book["dana"], PERIOD)
    assert [r.key for r in retention.by_am(dana)] == [book["dana"].pk]
    assert as_dict(retention.total(dana)) == expected([t for t in TERMS if t.am == "dana"])
    assert retention.total(dana).nrr == pytest.approx(1500 / 21000)
    assert [(r.reason, r.count) for r in retention.churn_reasons(dana)] == [(COMPETITOR, 1)]


def test_churn_reasons_most_frequent_first(boss, django_assert_num_queries):
    asked = Scope.for_user(boss, PERIOD)  # the question (it reads the facts' generation)
    with django_assert_num_queries(1):
        rows = retention.churn_reasons(asked)
    assert [(r.reason, r.count, r.value) for r in rows] == [
        (PRICE, 2, Decimal("8000.00")),
        (COMPETITOR, 1, Decimal("20000.00")),  # the February churn is outside the period
    ]


@pytest.mark.parametrize("role", [Role.INBOUND_SDR, Role.AE, Role.MARKETING])
def test_other_roles_see_no_contracts(book, role):
    user = UserFactory(username=f"someone-{role}", role=role)
    scope = Scope.for_user(user, PERIOD)
    row = retention.total(scope)
    assert (row.base, row.contracts, row.pending, row.grr, row.nrr) == (Decimal("0.00"), 0, 0, None, None)
    assert retention.by_am(scope) == []
    assert retention.churn_reasons(scope) == []
    assert all(r.base == 0 for r in retention.by_month(scope))


def test_a_superuser_sees_all(book):
    admin = UserFactory(username="root", role=Role.MARKETING, is_superuser=True)
    assert retention.total(Scope.for_user(admin, PERIOD)).base == expected(TERMS)["base"]


def test_a_manager_sees_only_the_am_teams_they_manage(book):
    """The renewals app's rule: a manager of another team sees no contract's retention."""
    other = UserFactory(username="olga", role=Role.MANAGER, team=TeamFactory(name="Elsewhere"))
    other.team.manager = other
    other.team.save(update_fields=["manager"])
    assert retention.total(Scope.for_user(other, PERIOD)).contracts == 0


def test_a_term_is_in_the_month_it_ends_whenever_its_outcome_was_recorded(am, manager):
    """The month is the end date's (the last day of March), though the downsize was recorded
    in May."""
    with time_machine.travel(CREATED, tick=False):
        account = customer(am, name="Edge", domain="edge.example")
        made = contract(account, end=date(2025, 3, 31), value="2400.00", now=CREATED)
    with time_machine.travel(DECIDED, tick=False):
        record_outcome(
            contract_id=made.pk, by=am, outcome="downsized", annual_value=Decimal("1800.00"), now=DECIDED
        )
    am.team.manager = manager
    am.team.save(update_fields=["manager"])
    rows = {r.key: r for r in retention.by_month(Scope.for_user(manager, PERIOD))}
    march = rows[date(2025, 3, 1)]
    assert (march.base, march.renewed, march.contraction, march.expansion) == (
        Decimal("2400.00"), Decimal("1800.00"), Decimal("600.00"), Decimal("0.00"),
    )  # fmt: skip
    assert march.grr == march.nrr == pytest.approx(0.75)
    assert rows[date(2025, 4, 1)].base == Decimal("0.00")


# -- one account manager's retention (the ``am`` filter) ---------------------------------------------

# By hand, from TERMS (March and April 2025, decided terms only):
# Casey: base 12,000 + 10,000 + 8,000 + 5,000 + 3,000 = 38,000; kept 12,000 + 10,000 (of 15,000)
# + 6,000 = 28,000; expansion 5,000; contraction 2,000; churned 5,000 + 3,000 = 8,000 (2 terms).
# GRR 28,000 / 38,000 = 73.7%, NRR (28,000 + 5,000) / 38,000 = 86.8%.
# Dana: base 20,000 + 1,000 = 21,000; kept 1,000; expansion 500; churned 20,000 (1 term).
# GRR 1,000 / 21,000 = 4.8%, NRR 1,500 / 21,000 = 7.1%.
BY_HAND = {
    "casey": {
        "base": "38000.00",
        "renewed": "28000.00",
        "expansion": "5000.00",
        "contraction": "2000.00",
        "churned": "8000.00",
        "churned_count": 2,
        "grr": 28000 / 38000,
        "nrr": 33000 / 38000,
        "row": [
            "Casey Jones",
            "€38,000.00",
            "€28,000.00",
            "€5,000.00",
            "€2,000.00",
            "€8,000.00",
            "2",
            "73.7%",
            "86.8%",
        ],
        "churn": [["Price / budget", "2", "€8,000.00"]],
    },
    "dana": {
        "base": "21000.00",
        "renewed": "1000.00",
        "expansion": "500.00",
        "contraction": "0.00",
        "churned": "20000.00",
        "churned_count": 1,
        "grr": 1000 / 21000,
        "nrr": 1500 / 21000,
        "row": ["Dana Kim", "€21,000.00", "€1,000.00", "€500.00", "€0.00", "€20,000.00", "1", "4.8%", "7.1%"],
        "churn": [["Chose a competitor", "1", "€20,000.00"]],
    },
}
MARCH_APRIL = {"start": "2025-03-01", "end": "2025-04-30"}
INVALID = "Select a valid choice. That choice is not one of the available choices."


@pytest.fixture
def outsider(book):
    """Olli, an AM of another team (not the boss's), with a churned customer in the period."""
    olli = UserFactory(
        username="olli",
        first_name="Olli",
        last_name="Berg",
        role=Role.AM,
        team=TeamFactory(name="AMs North", kind="am"),
    )
    with time_machine.travel(CREATED, tick=False):
        made = contract(
            customer(olli, name="North Co", domain="north.example"), end=date(2025, 4, 2), now=CREATED
        )
    with time_machine.travel(DECIDED, tick=False):
        record_outcome(contract_id=made.pk, by=olli, outcome="churned", churn_reason=PRICE, now=DECIDED)
    return olli


def am_options(response) -> list[tuple[str, str]]:
    """The account manager select's options on the page: (value, label)."""
    select = re.search(r'<select name="am"[^>]*>(.*?)</select>', response.content.decode(), re.S)
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1)) if select else []


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize("name", ["casey", "dana"])
def test_a_manager_reads_one_ams_retention_on_the_page_and_in_the_api(client_for, book, boss, name):
    client, want = client_for(boss), BY_HAND[name]
    api = client.get("/api/v1/insight/retention/", {**MARCH_APRIL, "am": book[name].pk})
    assert api.status_code == 200
    body = api.json()
    total = body["total"]
    assert {
        k: total[k] for k in ("base", "renewed", "expansion", "contraction", "churned", "churned_count")
    } == {k: want[k] for k in ("base", "renewed", "expansion", "contraction", "churned", "churned_count")}
    assert total["grr"] == pytest.approx(want["grr"]) and total["nrr"] == pytest.approx(want["nrr"])
    assert [row["key"] for row in body["by_am"]] == [str(book[name].pk)]
    assert sum(Decimal(m["base"]) for m in body["by_month"]) == Decimal(want["base"])
    assert [
        [r["reason"], str(r["count"]), f"€{Decimal(r['value']):,.2f}"] for r in body["churn_reasons"]
    ] == want["churn"]

    page = client.get("/insight/retention/", {**MARCH_APRIL, "am": book[name].pk})
    assert page.status_code == 200
    shown = tables_of(page)
    assert shown["by-am"][1:] == [want["row"], ["All", *want["row"][1:]]]
    assert shown["churn"][1:] == want["churn"]
    assert [o for o in am_options(page) if o[0] == str(book[name].pk)]
    assert f'<option value="{book[name].pk}" selected>' in page.content.decode()

    # Without the filter, both AMs and the whole book (59,000 of base) again.
    whole = client.get("/api/v1/insight/retention/", MARCH_APRIL).json()
    assert whole["total"]["base"] == "59000.00" and len(whole["by_am"]) == 2


@pytest.mark.usefixtures("frozen")
def test_the_choices_are_the_managers_ams_active_or_not(client_for, book, boss, outsider, inbound_sdr):
    gone = UserFactory(
        username="gus", first_name="Gus", last_name="Old", role=Role.AM, team=book["casey"].team
    )
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    client = client_for(boss)
    page = client.get("/insight/retention/", MARCH_APRIL)
    assert am_options(page) == [
        ("", "Any account manager"),
        (str(book["casey"].pk), "Casey Jones"),
        (str(book["dana"].pk), "Dana Kim"),
        (str(gone.pk), "Gus Old (inactive)"),
    ]  # not Olli (another team's AM), not an SDR
    # One who left can still be looked at: nothing of theirs ended in the period here.
    answer = client.get("/api/v1/insight/retention/", {**MARCH_APRIL, "am": gone.pk})
    assert answer.status_code == 200 and answer.json()["total"]["base"] == "0.00"
    # The retention section only: the overview and the lead pages count leads, not an AM's book.
    for url in ("/insight/", "/insight/funnel/", "/insight/money/"):
        assert am_options(client.get(url)) == [], url

    root = UserFactory(username="root", role=Role.MANAGER, is_superuser=True, team=TeamFactory(name="Board"))
    labels = [label for _, label in am_options(client_for(root).get("/insight/retention/", MARCH_APRIL))]
    assert labels == ["Any account manager", "Casey Jones", "Dana Kim", "Gus Old (inactive)", str(outsider)]
    answer = client_for(root).get("/api/v1/insight/retention/", {**MARCH_APRIL, "am": outsider.pk}).json()
    assert (answer["total"]["base"], answer["total"]["churned_count"]) == ("12000.00", 1)


@pytest.mark.usefixtures("frozen")
def test_an_am_cannot_narrow_to_another_am(client_for, book):
    casey, dana = book["casey"], book["dana"]
    client = client_for(casey)
    page = client.get("/insight/retention/", MARCH_APRIL)
    assert am_options(page) == []  # their numbers are already their own: nothing to choose
    own = client.get("/api/v1/insight/retention/", {**MARCH_APRIL, "am": casey.pk})
    assert own.status_code == 200 and own.json()["total"]["base"] == BY_HAND["casey"]["base"]

    missing = max(casey.pk, dana.pk) + 1000
    answers = [
        client.get("/api/v1/insight/retention/", {**MARCH_APRIL, "am": pk}) for pk in (dana.pk, missing)
    ]
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json() == answers[1].json() == {"am": [INVALID]}  # Dana's id confirms nothing
    pages = [client.get("/insight/retention/", {**MARCH_APRIL, "am": pk}) for pk in (dana.pk, missing)]
    assert [p.status_code for p in pages] == [400, 400]
    assert f"Account manager: {INVALID}" in text_of(pages[0])
    errors = [re.search(r'<div class="errors".*?</div>', p.content.decode(), re.S).group(0) for p in pages]
    assert errors[0] == errors[1]
    assert "€21,000.00" not in pages[0].content.decode()


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize("value", ["abc", "1.5", "-1", "0", "99999999999999999999", "outsider", "sdr"])
def test_a_bad_am_is_a_400_naming_it_and_a_form_error(client_for, boss, outsider, inbound_sdr, value):
    value = {"outsider": outsider.pk, "sdr": inbound_sdr.pk}.get(value, value)
    client = client_for(boss)
    answer = client.get("/api/v1/insight/retention/", {**MARCH_APRIL, "am": value})
    assert answer.status_code == 400
    assert answer.json() == {"am": [INVALID]}
    page = client.get("/insight/retention/", {**MARCH_APRIL, "am": value})
    assert page.status_code == 400
    assert f"Account manager: {INVALID}" in text_of(page)


@pytest.mark.usefixtures("frozen")
def test_am_on_a_lead_endpoint_is_a_400_and_ignored_by_the_lead_pages(client_for, book, boss):
    client = client_for(boss)
    answer = client.get("/api/v1/insight/funnel/", {"am": book["casey"].pk})
    assert answer.status_code == 400
    assert answer.json() == {"am": ["Does not apply to funnel: it narrows contracts (retention), not leads."]}
    assert client.get("/insight/funnel/", {"am": book["casey"].pk}).status_code == 200
    # The overview's retention card is not narrowed to an AM: the whole book's NRR, 34,500 / 59,000.
    assert "58.5%" in text_of(client.get("/insight/", {**MARCH_APRIL, "am": book["dana"].pk}))


@pytest.mark.usefixtures("frozen")
def test_one_ams_page_costs_the_same_queries_whatever_the_data(
    client_for, book, boss, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(boss)
    params = {**MARCH_APRIL, "am": book["dana"].pk}
    client.get("/insight/retention/", params)  # warm the session
    with CaptureQueriesContext(connection) as small:
        assert client.get("/insight/retention/", params).status_code == 200
    for i in range(12):
        UserFactory(username=f"am{i}", role=Role.AM, team=book["dana"].team)
        with time_machine.travel(CREATED, tick=False):
            account = customer(book["dana"], name=f"More {i}", domain=f"more{i}.example")
            contract(account, end=date(2025, 3, 1) + timedelta(days=4 * i), value="100.00", now=CREATED)
    with django_assert_num_queries(len(small.captured_queries)):
        page = client.get("/insight/retention/", params)
    assert page.status_code == 200
    assert len(am_options(page)) == 1 + 2 + 12
    assert tables_of(page)["by-am"][1][1] == "€21,000.00"  # the new terms are pending: not in the base
