"""The rows behind each health number: as many rows as the number says, the right ones, every
column read in one query whatever the size, and links that keep the period and filters."""

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from insight import rows
from insight.health import diagnose
from insight.models import HealthSettings, LeadFact
from insight.rows import ROWS, cell, rows_url, scope_query
from insight.scope import Period, Scope
from renewals.models import Contract
from tests.factories import CampaignFactory, LeadFactory, customer, routed_lead
from work.models import Breach, WorkItem

NOW = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)
MARCH = Period(date(2025, 3, 1), date(2025, 3, 31), ZoneInfo("Europe/Berlin"))
IN_MARCH = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)
IN_FEBRUARY = datetime(2025, 2, 20, 10, 0, tzinfo=UTC)
THIS_WEEK = datetime(2025, 3, 11, 10, 0, tzinfo=UTC)

ACCOUNTS = itertools.count()

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def am(am, manager):
    """Casey, in an AM team Maria manages (a manager sees their AM teams' renewals)."""
    am.team.manager = manager
    am.team.save(update_fields=["manager"])
    return am


def fact(**fields) -> LeadFact:
    fields.setdefault("captured_at", IN_MARCH - timedelta(days=30))
    fields.setdefault("first_seen_at", fields["captured_at"])
    lead = fields.pop("lead", None) or LeadFactory(captured_at=fields["captured_at"])
    return LeadFact.objects.create(lead=lead, **fields)


def history(sdr, am, size=1) -> dict[str, set[int]]:
    """Of every kind: ``size`` rows that belong and one that does not. Returns the ids
    expected in each kind's rows."""
    want = {kind: set() for kind in ROWS}
    campaign = CampaignFactory()
    for _ in range(size):
        early = fact(accepted_at=IN_MARCH, lost_at=IN_MARCH + timedelta(days=2), campaign=campaign)
        want["early_losses"].add(early.pk)
        want["win_rate"].add(early.pk)  # lost in March: closed in the period too
        want["win_rate"].add(fact(accepted_at=IN_FEBRUARY, won_at=IN_MARCH).pk)
        want["win_rate"].add(fact(accepted_at=IN_FEBRUARY, lost_at=IN_MARCH, lost_reason="Price").pk)
        want["rejections"].add(
            fact(handed_off_at=IN_MARCH, rejected_at=IN_MARCH, reject_reason="No budget", sdr=sdr).pk
        )
        want["dropped"].add(fact(status="working", routed_at=NOW - timedelta(days=20), sdr=sdr).pk)
        lead = routed_lead(sdr, now=IN_MARCH)
        want["speed"].add(
            fact(lead=lead, captured_at=IN_MARCH, routed_at=IN_MARCH, sdr=sdr, first_touch_breached=True).pk
        )
        item = WorkItem.objects.get(object_id=lead.pk, kind=WorkItem.Kind.FIRST_TOUCH)
        breach = Breach.objects.create(
            work_item=item,
            policy=item.policy,
            owner=sdr,
            team=sdr.team,
            due_at=item.due_at,
            detected_at=THIS_WEEK,
        )
        want["breaches"].add(breach.pk)
        n = next(ACCOUNTS)
        account = customer(am, name=f"Customer {n}", domain=f"c{n}.example")
        want["renewals"].add(
            Contract.objects.create(
                account=account, start_date=date(2024, 4, 1), end_date=date(2025, 3, 31), annual_value=9000
            ).pk
        )
    want["starved"].add(sdr.pk)
    # Rows that belong nowhere: out of the period, not rejected, touched, talked to.
    fact(accepted_at=IN_FEBRUARY, lost_at=IN_FEBRUARY + timedelta(days=1))
    fact(accepted_at=IN_MARCH, lost_at=IN_MARCH + timedelta(days=30))
    fact(handed_off_at=IN_MARCH)
    fact(status="working", routed_at=NOW - timedelta(days=20), last_touch_at=NOW - timedelta(days=1))
    n = next(ACCOUNTS)
    Contract.objects.create(
        account=customer(am, name=f"Talked {n}", domain=f"talked{n}.example"),
        start_date=date(2024, 4, 1),
        end_date=date(2025, 3, 30),
        annual_value=9000,
        renewal_activity_at=NOW,
    )
    return want


def test_each_kind_lists_exactly_the_rows_behind_its_number(manager, inbound_sdr, am):
    want = history(inbound_sdr, am, size=2)
    scope = Scope.for_user(manager, MARCH)
    settings = HealthSettings.load()

    for kind, row_kind in ROWS.items():
        got = {row.pk for row in row_kind.queryset(scope, settings, NOW)}
        assert got == want[kind], kind

    numbers = {d.key: d for d in diagnose(scope, settings=settings, now=NOW)}
    assert numbers["early_losses"].detail.startswith("2 of 3 accepted opportunities")
    assert numbers["win_rate"].detail == "2 of 6 opportunities closed in the period were won (33.3%)."
    assert numbers["rejections"].detail.startswith("2 of 3 handoffs")
    assert numbers["speed"].detail.startswith("2 of 2 leads routed")
    assert numbers["dropped"].value == len(want["dropped"]) == 2
    assert numbers["renewals"].value == len(want["renewals"]) == 2


def test_rows_follow_the_filters_of_the_number(manager, inbound_sdr, am):
    history(inbound_sdr, am)
    spring = CampaignFactory(name="Only this one")
    mine = fact(accepted_at=IN_MARCH, lost_at=IN_MARCH + timedelta(days=1), campaign=spring)
    scope = Scope.for_user(manager, MARCH, campaign=spring)

    assert list(rows.early_losses(scope, HealthSettings.load(), NOW)) == [mine]
    assert list(rows.rejected(scope)) == []


def test_the_emptiest_sdr_comes_first_with_their_counts(manager, inbound_sdr, other_sdr):
    for _ in range(3):
        routed_lead(inbound_sdr, now=IN_MARCH)
    scope = Scope.for_user(manager, MARCH)

    listed = [
        (cell(u, ""), cell(u, "open_leads"), cell(u, "open_items"))
        for u in rows.active_sdrs(scope, HealthSettings.load(), NOW)
    ]

    assert listed == [(other_sdr, 0, 0), (inbound_sdr, 3, 3)]


def test_dropped_rows_show_the_longest_idle_first(manager):
    newer = fact(status="mql", routed_at=NOW - timedelta(days=8))
    older = fact(status="working", routed_at=NOW - timedelta(days=40), last_touch_at=NOW - timedelta(days=30))

    assert list(rows.dropped(Scope.for_user(manager, MARCH), HealthSettings.load(), NOW)) == [older, newer]


@pytest.mark.parametrize("size", [1, 3])
def test_every_column_of_every_kind_is_read_in_one_query(
    manager, inbound_sdr, am, django_assert_num_queries, size
):
    history(inbound_sdr, am, size=size)
    scope = Scope.for_user(manager, MARCH)
    settings = HealthSettings.load()
    list(ROWS["speed"].queryset(scope, settings, NOW))  # the content-type cache, as in a running process

    for kind, row_kind in ROWS.items():
        with django_assert_num_queries(1):
            table = [
                [cell(row, column.path) for column in row_kind.columns]
                for row in row_kind.queryset(scope, settings, NOW)
            ]
        assert table, kind
        for line in table:
            [str(value) for value in line]  # what the page prints: no lazy loads


def test_cell_follows_a_dotted_path_and_stops_at_an_empty_link(manager, am):
    contract = Contract(account=customer(am), start_date=date(2024, 4, 1), end_date=date(2025, 3, 31))
    assert cell(contract, "account.account_manager") == am
    assert cell(contract, "") is contract
    assert cell(LeadFact(), "campaign.name") is None


def test_links_keep_the_period_and_filters(manager):
    campaign = CampaignFactory(name="Spring")
    scope = Scope.for_user(manager, MARCH, campaign=campaign, origin="inbound")

    assert scope_query(scope) == f"start=2025-03-01&end=2025-03-31&campaign={campaign.pk}&origin=inbound"
    assert rows_url("dropped", scope) == f"/insight/rows/dropped/?{scope_query(scope)}"
    assert rows_url("dropped", scope, query="preset=last_30") == "/insight/rows/dropped/?preset=last_30"
    assert rows_url("dropped", scope, query="") == "/insight/rows/dropped/"


def test_the_rows_page_lists_each_kind_for_a_manager_and_no_one_else(client_for, manager, inbound_sdr, am):
    want = history(inbound_sdr, am, size=2)
    client = client_for(manager)

    for kind, row_kind in ROWS.items():
        response = client.get(f"/insight/rows/{kind}/", {"start": "2025-03-01", "end": "2025-03-31"})
        assert response.status_code == 200, kind
        n = len(want[kind])
        assert f"{n} row{'s' if n != 1 else ''}" in response.content.decode(), kind
        assert row_kind.title in response.content.decode()

    assert client_for(inbound_sdr).get("/insight/rows/dropped/").status_code == 403


@pytest.mark.parametrize("kind", list(ROWS))
def test_the_rows_page_costs_the_same_queries_at_any_size(client_for, manager, inbound_sdr, am, kind):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(manager)
    url = f"/insight/rows/{kind}/?start=2025-03-01&end=2025-03-31"
    counts = []
    for _ in range(2):
        history(inbound_sdr, am, size=2)
        client.get(url)  # warm caches (content types, the session)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
