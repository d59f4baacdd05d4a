"""Retention from contracts: outcomes recorded through the renewals service, the expected money
computed here from the terms the test chose."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from insight import retention
from insight.scope import Period, Scope
from renewals.services import record_outcome
from team.models import Role
from tests.factories import TeamFactory, UserFactory, contract, customer

BERLIN = ZoneInfo("Europe/Berlin")
CREATED = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
DECIDED = datetime(2025, 5, 10, 9, 0, tzinfo=UTC)
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
    with django_assert_num_queries(1):
        rows = retention.by_am(Scope.for_user(boss, PERIOD))
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
    with django_assert_num_queries(1):
        rows = retention.churn_reasons(Scope.for_user(boss, PERIOD))
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
