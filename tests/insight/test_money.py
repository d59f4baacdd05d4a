"""Money by campaign and channel, and pipeline by month: exact amounts computed here from the
campaigns and lead facts the tests create, periods cut in Berlin across the March DST change.

The lead facts are written directly (the rollup is tested on its own): what matters here is
how money reads them."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import count, pairwise
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from insight import money
from insight.models import LeadFact
from insight.scope import Period, Scope
from tests.factories import CampaignFactory

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2025, 5, 10, 9, 0, tzinfo=UTC)
MARCH = Period(date(2025, 3, 1), date(2025, 3, 31), BERLIN)
APRIL = Period(date(2025, 4, 1), date(2025, 4, 30), BERLIN)
CENT = Decimal("0.01")
LEAD_IDS = count(1000)

pytestmark = pytest.mark.django_db


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def expected_spend(cost: str, first: date, last: date, period: Period) -> Decimal:
    """The cost spread evenly over the run's days, times the days of the run in the period."""
    run = (last - first).days + 1
    overlap = max(0, (min(last, period.end) - max(first, period.start)).days + 1)
    return (Decimal(cost) * overlap / run).quantize(CENT, rounding=ROUND_HALF_UP)


def fact(
    campaign=None, *, captured, mql=None, accepted=None, amount=None, won=None, won_amount=None, **fields
):
    return LeadFact.objects.create(
        lead_id=next(LEAD_IDS),
        campaign=campaign,
        channel=campaign.channel if campaign else "",
        captured_at=captured,
        first_seen_at=captured,
        mql_at=mql,
        accepted_at=accepted,
        accepted_amount=Decimal(amount) if amount else None,
        won_at=won,
        won_amount=Decimal(won_amount) if won_amount else None,
        **fields,
    )


@dataclass
class World:
    search: object
    webinar: object
    old: object
    late: object
    social: object
    email: object
    spend: dict  # campaign -> expected March spend


@pytest.fixture
def world(db):
    """Six campaigns with runs of every shape and leads captured around March's edges."""
    with time_machine.travel(NOW, tick=False):
        search = CampaignFactory(
            name="Search spring", channel="paid_search", cost=Decimal("3100.00"),
            starts_on=date(2025, 2, 15), ends_on=date(2025, 4, 15),
        )  # fmt: skip
        webinar = CampaignFactory(
            name="Webinar", channel="webinar", cost=Decimal("500.00"), starts_on=date(2025, 3, 10)
        )
        old = CampaignFactory(
            name="Old search", channel="paid_search", cost=Decimal("1000.00"),
            starts_on=date(2025, 1, 1), ends_on=date(2025, 2, 28),
        )  # fmt: skip
        # No dates: all its cost falls on the day it was created: 1 April in Berlin (CEST).
        late = CampaignFactory(
            name="Late event", channel="event", cost=Decimal("999.99"), created_at=utc(2025, 3, 31, 23, 30)
        )
        social = CampaignFactory(
            name="Social push", channel="social", cost=Decimal("1000.00"),
            starts_on=date(2025, 3, 20), ends_on=date(2025, 4, 18),
        )  # fmt: skip
        # No start: it ran from the day it was created to its end.
        email = CampaignFactory(
            name="Newsletter", channel="email", cost=Decimal("330.00"), ends_on=date(2025, 3, 5),
            created_at=utc(2025, 2, 1, 10),
        )  # fmt: skip

    # Search: four leads in March (the first just after local midnight on 1 March), one just
    # after March in Berlin (still 31 March in UTC), one just before it.
    fact(search, captured=utc(2025, 2, 28, 23, 30), mql=utc(2025, 3, 1), accepted=utc(2025, 3, 5),
         amount="2000.00", won=utc(2025, 4, 2), won_amount="2000.00")  # fmt: skip
    fact(search, captured=utc(2025, 3, 10), mql=utc(2025, 3, 10), accepted=utc(2025, 3, 20), amount="1500.00")
    fact(search, captured=utc(2025, 3, 15), mql=utc(2025, 3, 16))
    fact(search, captured=utc(2025, 3, 31, 21, 59))
    fact(search, captured=utc(2025, 3, 31, 22, 30), mql=utc(2025, 4, 1), accepted=utc(2025, 4, 2),
         amount="9999.00", won=utc(2025, 4, 3), won_amount="9999.00")  # fmt: skip
    fact(search, captured=utc(2025, 2, 28, 22, 30), mql=utc(2025, 3, 1))
    # The old campaign spent nothing in March but its leads still arrive.
    fact(old, captured=utc(2025, 3, 3), mql=utc(2025, 3, 3), accepted=utc(2025, 3, 4), amount="5000.00",
         won=utc(2025, 3, 30), won_amount="5250.50")  # fmt: skip
    fact(old, captured=utc(2025, 3, 4))
    fact(webinar, captured=utc(2025, 3, 10, 12), mql=utc(2025, 3, 10, 13), accepted=utc(2025, 3, 12),
         amount="800.00")  # fmt: skip
    fact(None, captured=utc(2025, 3, 12), mql=utc(2025, 3, 12))

    spend = {
        search: expected_spend("3100.00", date(2025, 2, 15), date(2025, 4, 15), MARCH),
        webinar: expected_spend("500.00", date(2025, 3, 10), date(2025, 3, 10), MARCH),
        social: expected_spend("1000.00", date(2025, 3, 20), date(2025, 4, 18), MARCH),
        email: expected_spend("330.00", date(2025, 2, 1), date(2025, 3, 5), MARCH),
    }
    return World(search, webinar, old, late, social, email, spend)


def rows_by_key(rows):
    return {row.key: row for row in rows}


def test_spend_is_spread_over_the_run_and_prorated_to_the_period(world, marketing, django_assert_num_queries):
    scope = Scope.for_user(marketing, MARCH)
    with django_assert_num_queries(2):
        rows = rows_by_key(money.by_campaign(scope))

    assert rows[world.search.pk].spend == Decimal("1601.67")  # 3100 * 31 / 60
    for campaign, spend in world.spend.items():
        assert rows[campaign.pk].spend == spend, campaign.name
    assert rows[world.webinar.pk].spend == Decimal("500.00")  # no end: all on its first day
    assert rows[world.email.pk].spend == Decimal("50.00")  # created 1 Feb, ends 5 Mar: 5 of 33 days
    # Created at 23:30 UTC on 31 March: 1 April in Berlin, so nothing in March.
    assert world.late.pk not in rows
    assert rows[world.old.pk].spend == Decimal("0.00")

    april = rows_by_key(money.by_campaign(Scope.for_user(marketing, APRIL)))
    assert april[world.late.pk].spend == Decimal("999.99")
    assert april[world.search.pk].spend == expected_spend(
        "3100.00", date(2025, 2, 15), date(2025, 4, 15), APRIL
    )


def test_by_campaign_counts_the_cohort_and_its_money(world, marketing):
    rows = rows_by_key(money.by_campaign(Scope.for_user(marketing, MARCH)))

    search = rows[world.search.pk]
    assert (search.label, search.leads, search.mqls, search.qualified, search.won) == (
        "Search spring",
        4,
        3,
        2,
        1,
    )
    assert search.pipeline == Decimal("3500.00")
    assert search.won_amount == Decimal("2000.00")
    assert search.cost_per_lead == (Decimal("1601.67") / 4).quantize(CENT, ROUND_HALF_UP)
    assert search.cost_per_mql == (Decimal("1601.67") / 3).quantize(CENT, ROUND_HALF_UP)
    assert search.cost_per_qualified == Decimal("800.84")  # 800.835 rounded half up
    assert search.cost_per_won == Decimal("1601.67")
    assert search.roi == pytest.approx(float((Decimal("2000.00") - Decimal("1601.67")) / Decimal("1601.67")))

    old = rows[world.old.pk]
    assert (old.leads, old.qualified, old.won, old.won_amount) == (2, 1, 1, Decimal("5250.50"))
    assert old.cost_per_lead == Decimal("0.00")
    assert old.roi is None  # no spend in the period

    # Spend but no leads: still a row, with no cost per anything.
    social = rows[world.social.pk]
    assert (social.spend, social.leads, social.cost_per_lead, social.cost_per_won) == (
        Decimal("400.00"), 0, None, None,
    )  # fmt: skip
    assert social.roi == -1.0

    nobody = rows[None]
    assert (nobody.label, nobody.leads, nobody.mqls, nobody.spend) == ("No campaign", 1, 1, Decimal("0.00"))
    assert set(rows) == {
        world.search.pk,
        world.webinar.pk,
        world.old.pk,
        world.social.pk,
        world.email.pk,
        None,
    }
    # Most spend first, the leads with no campaign last.
    ordered = money.by_campaign(Scope.for_user(marketing, MARCH))
    assert (ordered[0].key, ordered[-1].key) == (world.search.pk, None)


def test_by_channel_and_total_add_up(world, marketing, django_assert_num_queries):
    scope = Scope.for_user(marketing, MARCH)
    with django_assert_num_queries(2):
        channels = rows_by_key(money.by_channel(scope))
    # PostgreSQL counted the total with the channels (one pass): only its spend is asked.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        whole = money.total(scope)

    paid = channels["paid_search"]
    assert paid.label == "Paid search"
    assert paid.spend == world.spend[world.search]  # the old campaign spent nothing in March
    assert (paid.leads, paid.mqls, paid.qualified, paid.won) == (6, 4, 3, 2)
    assert paid.pipeline == Decimal("8500.00")
    assert paid.won_amount == Decimal("7250.50")
    assert channels["webinar"].spend == Decimal("500.00")
    assert channels["social"].leads == 0
    assert channels[""].label == "No campaign"
    assert "event" not in channels

    assert whole.spend == sum(world.spend.values())
    assert (whole.leads, whole.mqls, whole.qualified, whole.won) == (8, 6, 4, 2)
    assert whole.pipeline == Decimal("9300.00")
    assert whole.won_amount == Decimal("7250.50")
    assert whole.spend == sum(r.spend for r in channels.values())
    assert whole.leads == sum(r.leads for r in money.by_campaign(scope))
    assert whole.cost_per_qualified == (whole.spend / 4).quantize(CENT, ROUND_HALF_UP)


def test_the_overviews_cost_per_qualified_is_the_totals(world, marketing, django_assert_num_queries):
    """The overview counts the qualified cohort with its other numbers and asks money for the
    spend alone (one query): the same spend and cost as the money page's total."""
    from insight.health import tally
    from insight.views import COHORT_QUALIFIED

    for scope in (Scope.for_user(marketing, MARCH), Scope.for_user(marketing, MARCH, channel="paid_search")):
        whole = money.total(scope)
        asked = Scope.for_user(
            marketing, MARCH, **scope.filters
        )  # the question (it reads the facts' generation)
        with django_assert_num_queries(1):
            spend = money.spend(asked)
        qualified = tally(scope, COHORT_QUALIFIED)["cohort_qualified"]
        assert (spend, qualified) == (whole.spend, whole.qualified)
        assert money.per(spend, qualified) == whole.cost_per_qualified
    assert (qualified, spend) == (3, world.spend[world.search])
    assert money.per(spend, 0) is None


def test_campaign_and_channel_filters_narrow_the_spend_other_filters_only_the_leads(world, marketing):
    paid = Scope.for_user(marketing, MARCH, channel="paid_search")
    assert {r.key for r in money.by_campaign(paid)} == {world.search.pk, world.old.pk}
    assert money.total(paid).spend == world.spend[world.search]
    assert money.total(paid).leads == 6

    one = Scope.for_user(marketing, MARCH, campaign=world.webinar)
    assert [(r.key, r.spend, r.leads) for r in money.by_campaign(one)] == [
        (world.webinar.pk, Decimal("500.00"), 1)
    ]

    inbound = Scope.for_user(marketing, MARCH, origin="outbound")  # no outbound leads
    assert money.total(inbound).spend == sum(world.spend.values())
    assert money.total(inbound).leads == 0


def test_a_period_with_nothing_is_zero_not_an_error(marketing):
    scope = Scope.for_user(marketing, MARCH)
    assert money.by_campaign(scope) == []
    assert money.by_channel(scope) == []
    whole = money.total(scope)
    assert (whole.spend, whole.leads, whole.pipeline, whole.cost_per_lead, whole.roi) == (
        Decimal("0.00"), 0, Decimal("0.00"), None, None,
    )  # fmt: skip
    assert [(m.month, m.qualified, m.pipeline) for m in money.pipeline_by_month(scope)] == [
        (date(2025, 3, 1), 0, Decimal("0.00"))
    ]


def test_pipeline_by_month_is_a_flow_cut_in_the_viewers_local_months(marketing, django_assert_num_queries):
    """Accepted and won moments near local month ends across the DST change in Berlin."""
    captured = utc(2024, 12, 1)
    # 15 Feb 00:30 in Berlin: February; 23:30 UTC the day before.
    fact(captured=captured, accepted=utc(2025, 2, 14, 23, 30), amount="100.00")
    # Before the period.
    fact(captured=captured, accepted=utc(2025, 2, 14, 22, 30), amount="7777.00")
    # 31 March 23:30 CEST: March.
    fact(captured=captured, accepted=utc(2025, 3, 31, 21, 30), amount="200.00",
         won=utc(2025, 3, 31, 21, 45), won_amount="210.00")  # fmt: skip
    # 1 April 00:30 CEST: April (still 31 March in UTC).
    fact(captured=captured, accepted=utc(2025, 3, 31, 22, 30), amount="300.00",
         won=utc(2025, 4, 10, 21, 59), won_amount="333.33")  # fmt: skip
    fact(captured=captured, accepted=utc(2025, 4, 2), amount="400.00", won=utc(2025, 4, 10, 22, 30),
         won_amount="999.00")  # fmt: skip  # won 11 April local: after the period
    period = Period(date(2025, 2, 15), date(2025, 4, 10), BERLIN)

    asked = Scope.for_user(marketing, period)  # the question (it reads the facts' generation)
    with django_assert_num_queries(2):
        rows = money.pipeline_by_month(asked)

    assert [(r.month, r.qualified, r.pipeline, r.won, r.won_amount) for r in rows] == [
        (date(2025, 2, 1), 1, Decimal("100.00"), 0, Decimal("0.00")),
        (date(2025, 3, 1), 1, Decimal("200.00"), 1, Decimal("210.00")),
        (date(2025, 4, 1), 2, Decimal("700.00"), 1, Decimal("333.33")),
    ]


def test_a_whole_year_of_months(marketing):
    period = Period(date(2024, 12, 15), date(2025, 12, 14), BERLIN)
    months = [r.month for r in money.pipeline_by_month(Scope.for_user(marketing, period))]
    assert months[0] == date(2024, 12, 1)
    assert months[-1] == date(2025, 12, 1)
    assert len(months) == 13
    assert all(b - a <= timedelta(days=31) for a, b in pairwise(months))


def test_spend_by_month_spreads_each_campaign_over_the_months_it_runs(
    world, marketing, django_assert_num_queries
):
    period = Period(date(2025, 2, 10), date(2025, 4, 16), BERLIN)
    runs = {
        world.search: ("3100.00", date(2025, 2, 15), date(2025, 4, 15)),
        world.webinar: ("500.00", date(2025, 3, 10), date(2025, 3, 10)),
        world.old: ("1000.00", date(2025, 1, 1), date(2025, 2, 28)),
        world.late: ("999.99", date(2025, 4, 1), date(2025, 4, 1)),
        world.social: ("1000.00", date(2025, 3, 20), date(2025, 4, 18)),
        world.email: ("330.00", date(2025, 2, 1), date(2025, 3, 5)),
    }
    windows = [
        (date(2025, 2, 1), Period(date(2025, 2, 10), date(2025, 2, 28), BERLIN)),
        (date(2025, 3, 1), MARCH),
        (date(2025, 4, 1), Period(date(2025, 4, 1), date(2025, 4, 16), BERLIN)),
    ]
    asked = Scope.for_user(marketing, period)  # the question (it reads the facts' generation)
    with django_assert_num_queries(1):
        spent = money.spend_by_month(asked)

    assert spent == [
        (
            month,
            sum(
                (expected_spend(cost, first, last, window) for cost, first, last in runs.values()), Decimal(0)
            ),
        )
        for month, window in windows
    ]
    assert spent[1][1] == sum(world.spend.values())


def test_a_campaign_entered_after_it_ended_spends_on_its_last_day(marketing):
    """No start and created after its end (entered afterwards): the whole cost on its end day."""
    backfilled = CampaignFactory(
        name="Trade fair", channel="event", cost=Decimal("1234.56"), ends_on=date(2025, 3, 15),
        created_at=utc(2025, 4, 20),
    )  # fmt: skip
    march = rows_by_key(money.by_campaign(Scope.for_user(marketing, MARCH)))
    assert march[backfilled.pk].spend == Decimal("1234.56")
    assert money.by_campaign(Scope.for_user(marketing, APRIL)) == []


def test_the_money_page_reads_the_cohort_once(world, marketing, django_assert_num_queries):
    """The page shows the table by campaign, the one by channel and the total under each: on
    PostgreSQL one pass over the cohort answers them all (GROUPING SETS), the same numbers as
    one statement per grouping (SQLite's way); a second ask is remembered."""
    for filters in ({}, {"channel": "paid_search"}, {"origin": "inbound"}):
        scope = Scope.for_user(marketing, MARCH, **filters)
        cohort_statements = 1 if connection.vendor == "postgresql" else 3
        spend_statements = 3  # by campaign, by channel, in total: campaigns are few
        with django_assert_num_queries(cohort_statements + spend_statements):
            page = (money.by_campaign(scope), money.by_channel(scope), money.total(scope), money.total(scope))
        with django_assert_num_queries(0):
            assert money.by_campaign(scope) == page[0]
            assert money.total(scope) == page[2]
        cohort = scope.cohort().order_by()
        one_by_one = {grouping: money.measured(cohort, grouping) for grouping in money.GROUPINGS}
        for key, counts in one_by_one["campaign"].items():
            for name in money.COUNTED:
                assert money.measure(scope)["campaign"][key][name] == counts[name], (filters, key, name)
        assert {k: {n: v[n] for n in money.COUNTED} for k, v in money.measure(scope)["channel"].items()} == {
            k: {n: v[n] for n in money.COUNTED} for k, v in one_by_one["channel"].items()
        }
        assert {n: money.measure(scope)["total"][n] for n in money.COUNTED} == {
            n: one_by_one["total"][n] for n in money.COUNTED
        }
    whole = money.total(Scope.for_user(marketing, MARCH))
    # Counted by hand from the world: 8 leads captured in March, 4 accepted, 2 won.
    assert (whole.leads, whole.qualified, whole.won) == (8, 4, 2)
