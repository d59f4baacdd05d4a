"""New customers get an account manager whenever one is available: a territory's round-robin
over the team's AMs who are not away, not capped by their lead capacity (customers are not
leads), for imports, the API and won deals alike; every contract that got an AM gets its
renewal timers, and a customer left without one is reported with the true reason."""

import io
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Account, Stage
from accounts.services import move_stage, update_opportunity
from leads.models import Lead
from renewals import services as importing  # the contract import's public names
from renewals.models import AccountEvent, Contract
from renewals.services import RenewalsError, assign_account_manager, assign_waiting_customers, run_renewals
from sdr.models import TerritoryRule
from team.models import Role
from tests.factories import LeadFactory, TeamFactory, UserFactory, accepted
from work.models import WorkItem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
NOW = MONDAY  # where the clock stands in every test
SOON, LATER = date(2026, 4, 15), date(2026, 12, 31)  # 44 days away: inside the 60-day window; outside
HEADER = "Account,Domain,Contract Number,Start Date,End Date,Annual Value"


@pytest.fixture
def busy_ams(am, am_rule):
    """Casey and Robin, the AMs team, each with a lead capacity of 1 that Casey has used up
    (an expansion lead in hand)."""
    robin = UserFactory(username="robin", role=Role.AM, team=am.team, capacity=1)
    am.capacity = 1
    am.save(update_fields=["capacity"])
    LeadFactory(owner=am, team=am.team, status=Lead.Status.WORKING)
    return am, robin


def rows(count: int, *, start: int = 0) -> list[dict]:
    """``count`` new customers' contracts, every other one ending inside the 60-day window."""
    return [
        {
            "name": f"Customer {i}",
            "domain": f"customer{i}.example",
            "number": f"C-{i}",
            "start_date": "2025-06-01",
            "end_date": (SOON if i % 2 == 0 else LATER).isoformat(),
            "annual_value": "1000",
        }
        for i in range(start, start + count)
    ]


def csv_of(rows: list[dict]) -> io.BytesIO:
    lines = [
        f"{r['name']},{r['domain']},{r['number']},{r['start_date']},{r['end_date']},{r['annual_value']}"
        for r in rows
    ]
    return io.BytesIO("\r\n".join([HEADER, *lines]).encode())


def managers_of_new_customers() -> Counter:
    return Counter(Account.objects.values_list("account_manager__username", flat=True))


def assert_renewals_opened_inside_the_window():
    soon = Contract.objects.filter(end_date=SOON).select_related("account", "renewal")
    assert soon.exists()
    for term in soon:
        assert term.renewal is not None and term.renewal.owner_id == term.account.account_manager_id
    started = WorkItem.objects.filter(kind=WorkItem.Kind.RENEWAL_START, state=WorkItem.State.OPEN)
    assert started.count() == soon.count()
    assert not Contract.objects.filter(end_date=LATER, renewal__isnull=False).exists()


# --- a batch of new customers ------------------------------------------------------------------


def test_150_new_customers_imported_at_once_all_get_an_am_and_their_renewals(marketing, busy_ams):
    casey, robin = busy_ams

    report = importing.import_contracts(by=marketing, file=csv_of(rows(150)))

    assert len(report.created) == 150 and not report.refused
    assert managers_of_new_customers() == {casey.username: 75, robin.username: 75}
    assert all("managed by" in row.message for row in report.created)
    assert_renewals_opened_inside_the_window()


def test_an_import_costs_the_same_statements_for_20_customers_or_150(marketing, busy_ams):
    def statements(batch: list[dict]) -> int:
        with CaptureQueriesContext(connection) as queries:
            report = importing.import_contracts(by=marketing, file=csv_of(batch))
        assert len(report.created) == len(batch)
        return len(queries)

    assert statements(rows(20)) == statements(rows(150, start=20))
    assert Account.objects.filter(account_manager__isnull=True).count() == 0


def test_150_new_customers_through_the_api_all_get_an_am(marketing, busy_ams):
    casey, robin = busy_ams
    api = APIClient()
    api.force_authenticate(marketing)

    response = api.post("/api/v1/contracts/import/", rows(150), format="json")

    assert response.status_code == 201, response.content[:300]
    assert response.json()["created_count"] == 150
    assert managers_of_new_customers() == {casey.username: 75, robin.username: 75}
    assert_renewals_opened_inside_the_window()


def test_one_contract_through_the_api_gets_an_am_whose_lead_capacity_is_used_up(marketing, busy_ams):
    casey, robin = busy_ams
    robin.capacity = 0
    robin.save(update_fields=["capacity"])
    api = APIClient()
    api.force_authenticate(marketing)

    response = api.post("/api/v1/contracts/", rows(1)[0], format="json")

    assert response.status_code == 201, response.content
    assert response.json()["account"]["account_manager"] in (casey.pk, robin.pk)
    term = Contract.objects.get()
    assert term.renewal is not None  # ends within 60 days: opened at once


def test_a_won_deal_gets_an_am_whose_lead_capacity_is_used_up(inbound_sdr, ae, busy_ams):
    casey, robin = busy_ams
    robin.is_away = True
    robin.save(update_fields=["is_away"])
    opportunity = accepted(inbound_sdr, ae, now=MONDAY)
    update_opportunity(opportunity_id=opportunity.pk, by=ae, amount=Decimal("24000"), close_date=None,
                       next_step="", now=MONDAY)  # fmt: skip

    move_stage(
        opportunity_id=opportunity.pk, by=ae, stage_id=Stage.objects.get(kind=Stage.Kind.WON).pk, now=MONDAY
    )

    assert Contract.objects.select_related("account").get().account.account_manager == casey


def test_away_ams_are_skipped_and_the_others_take_every_customer(marketing, busy_ams):
    casey, robin = busy_ams
    casey.is_away = True
    casey.save(update_fields=["is_away"])

    report = importing.import_contracts(by=marketing, file=csv_of(rows(40)))

    assert len(report.created) == 40
    assert managers_of_new_customers() == {robin.username: 40}


# --- the report tells the truth ---------------------------------------------------------------


def test_without_an_am_rule_the_report_says_so(marketing, am):
    report = importing.import_contracts(by=marketing, file=csv_of(rows(2)))

    assert all(
        "no account manager yet: no territory rule names a team of account managers" in r.message
        for r in report.created
    )
    assert not Contract.objects.filter(renewal__isnull=False).exists()


def test_when_every_am_of_the_team_is_away_the_report_says_so(marketing, busy_ams):
    for user in busy_ams:
        user.is_away = True
        user.save(update_fields=["is_away"])

    report = importing.import_contracts(by=marketing, file=csv_of(rows(2)))

    assert len(report.created) == 2
    for row in report.created:
        assert "no account manager yet: every account manager of AMs is away" in row.message
        assert "territory rule" not in row.message


def test_a_team_without_active_ams_is_named_in_the_report(marketing):
    empty = TeamFactory(name="AMs Nordics", kind="am")
    TerritoryRule.objects.create(name="All customers", team=empty, position=1000)

    report = importing.import_contracts(by=marketing, file=csv_of(rows(1)))

    assert "AMs Nordics, the team its territory names, has no active account managers" in (
        report.created[0].message
    )


def test_assigning_by_territory_when_every_am_is_away_says_so(manager, busy_ams):
    for user in busy_ams:
        user.is_away = True
        user.save(update_fields=["is_away"])
    account = Account.objects.create(name="Nova", domain="nova.example", customer_since=MONDAY)

    with pytest.raises(RenewalsError, match=r"^Every account manager of AMs is away; choose one\.$"):
        assign_account_manager(account_id=account.pk, am=None, by=manager)


# --- customers who waited for an AM -------------------------------------------------------------


def test_customers_left_without_an_am_get_one_at_the_next_run_once_an_am_is_back(marketing, busy_ams):
    casey, _robin = busy_ams
    for user in busy_ams:
        user.is_away = True
        user.save(update_fields=["is_away"])
    importing.import_contracts(by=marketing, file=csv_of(rows(2)))
    assert not Contract.objects.filter(renewal__isnull=False).exists()
    casey.is_away = False
    casey.save(update_fields=["is_away"])

    tuesday = datetime(2026, 3, 3, 5, 30, tzinfo=UTC)
    with time_machine.travel(tuesday, tick=False):
        run = run_renewals(now=tuesday)

    assert managers_of_new_customers() == {casey.username: 2}
    assert run.opened == list(Contract.objects.filter(end_date=SOON).values_list("pk", flat=True))
    assert_renewals_opened_inside_the_window()
    assert (
        AccountEvent.objects.filter(kind=AccountEvent.Kind.AM_ASSIGNED, message__contains="waited").count()
        == 2
    )


def test_a_customer_no_rule_covers_still_waits_and_the_run_goes_on(marketing, am):
    importing.import_contracts(by=marketing, file=csv_of(rows(2)))

    run = run_renewals(now=datetime(2026, 3, 3, 5, 30, tzinfo=UTC))

    assert run.opened == [] and managers_of_new_customers() == {None: 2}


def test_waiting_customers_no_rule_covers_do_not_keep_later_ones_from_an_am(marketing, am):
    """A whole batch of customers nobody covers comes first by id; the customer behind it,
    whom a rule covers, still gets its AM in the same run."""
    importing.import_contracts(by=marketing, file=csv_of(rows(3)))
    first, second, third = Account.objects.order_by("pk")
    Account.objects.filter(pk__in=[first.pk, second.pk]).update(country="US")
    Account.objects.filter(pk=third.pk).update(country="DE")
    TerritoryRule.objects.create(name="Germany", team=am.team, countries=["DE"], position=1)

    given = assign_waiting_customers(now=MONDAY, limit=2)

    assert given == [third.pk]
    assert managers_of_new_customers() == {None: 2, am.username: 1}
