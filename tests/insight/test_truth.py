"""Every insight number equals the truth computed from the generator's own records.

``tests.insight.generator.History`` replays a seeded history through the real services and
writes down what it chose; the functions below recompute each number from those records in
plain Python (``statistics.median``, the continuous percentile, local dates by
``astimezone``), independently of the SQL under test. Periods are cut in the viewer's zone:
October in Berlin starts in summer time and ends in winter time, and leads were captured
within an hour of local midnight on both edges (and in New York's, for a New York SDR).

The history is generated once for the module (some 15 to 25 s on two shared cores) and
removed afterwards. Where a number could be trivially equal (one fit grade, no renewal due, no
breach in either week), the test also asserts that the truth is not that trivial case, so a
seed drifting back into it fails loudly.
"""

import statistics
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command

from insight.scope import Period, Scope
from tests.insight.generator import BERLIN, CLOSES, NEW_YORK, OPENS, PEOPLE, History

SEED = 20261025
CENT = Decimal("0.01")
OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31), BERLIN)  # CEST at the start, CET at the end
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30), BERLIN)
ACROSS_DST = Period(date(2026, 10, 19), date(2026, 11, 8), BERLIN)  # both Europe's and America's change
OCTOBER_NY = Period(date(2026, 10, 1), date(2026, 10, 31), NEW_YORK)
PERIODS = {"october": OCTOBER, "november": NOVEMBER, "across_dst": ACROSS_DST}
STAGES = [
    ("captured", "captured_at"),
    ("mql", "mql_at"),
    ("worked", "first_touch_at"),
    ("handed_off", "handed_off_at"),
    ("accepted", "accepted_at"),
    ("won", "won_at"),
]


def _restore_configuration():
    """The rows the data migrations create (a transactional test elsewhere may have flushed
    them), as tests/conftest.py puts them back."""
    from accounts.services import acceptance_policy, ensure_default_stages
    from leads.models import ScoringSettings
    from renewals.models import RenewalSettings
    from renewals.services import renewal_policies
    from sdr.services import first_touch_policies

    ScoringSettings.load()
    first_touch_policies()
    acceptance_policy()
    ensure_default_stages()
    renewal_policies()
    RenewalSettings.load()


@pytest.fixture(scope="module")
def history(django_db_setup, django_db_blocker):
    from insight import facts

    with django_db_blocker.unblock():
        cache.clear()
        _restore_configuration()
        generated = History.generate(SEED)
        with time_machine.travel(generated.now, tick=False):
            facts.rebuild()
        yield generated
        call_command("flush", interactive=False, verbosity=0)
        cache.clear()


@pytest.fixture
def now(history, db):
    """Today is the history's last moment in every test."""
    with time_machine.travel(history.now, tick=False):
        yield history.now


# --- the truth, from the records --------------------------------------------------------------


def local_day(moment: datetime, tz) -> date:
    return moment.astimezone(tz).date()


def within(moment: datetime | None, period: Period) -> bool:
    """Whether ``moment`` falls on one of the period's days in the period's zone."""
    return moment is not None and period.start <= local_day(moment, period.tz) <= period.end


def owned(record) -> bool:
    """Whether the lead reached a rep (the lead facts' ``sdr`` and ``team`` are set)."""
    return record.mql_at is not None or record.origin == "outbound"


def visible(history, viewer: str, **filters) -> list:
    """The records whose numbers ``viewer`` sees, narrowed like the scope's filters."""
    role = history.user(viewer).role
    records = history.happened()
    if role in ("inbound_sdr", "outbound_sdr"):
        records = [r for r in records if owned(r) and r.sdr == viewer]
    elif role == "ae":
        records = [r for r in records if r.ae == viewer]
    elif role not in ("manager", "marketing"):
        records = []
    if "campaign" in filters:
        records = [r for r in records if r.campaign == filters["campaign"]]
    if "sdr" in filters:
        records = [r for r in records if owned(r) and r.sdr == filters["sdr"]]
    if "team" in filters:
        records = [r for r in records if owned(r) and r.team == filters["team"]]
    if "fit_grade" in filters:
        records = [r for r in records if r.fit_grade == filters["fit_grade"]]
    return records


def scope_for(history, viewer: str, period: Period, **filters) -> Scope:
    """The same narrowing as ``visible``, as the insight scope."""
    lookups = {}
    if "campaign" in filters:
        lookups["campaign_id"] = history.campaigns[filters["campaign"]].pk
    if "sdr" in filters:
        lookups["sdr"] = history.user(filters["sdr"])
    if "team" in filters:
        lookups["team"] = history.teams[filters["team"]]
    if "fit_grade" in filters:
        lookups["fit_grade"] = filters["fit_grade"]
    return Scope.for_user(history.user(viewer), period, **lookups)


def seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def median(values):
    return statistics.median(values) if values else None


def percentile(values, fraction: float):
    """The continuous percentile (linear interpolation between the two nearest ranks)."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def cohort_truth(records, period: Period) -> list[tuple[str, int, float | None, float | None]]:
    """(stage, count, conversion from the previous stage, median seconds from it)."""
    cohort = [r for r in records if within(r.captured_at, period)]
    rows, previous = [], None
    for i, (key, attr) in enumerate(STAGES):
        reached = [r for r in cohort if getattr(r, attr) is not None]
        waits = None
        if i:
            before = STAGES[i - 1][1]
            waits = median(
                [seconds(getattr(r, attr), getattr(r, before)) for r in reached if getattr(r, before)]
            )
        conversion = len(reached) / previous if previous else None
        rows.append((key, len(reached), conversion, waits))
        previous = len(reached)
    return rows


def flow_truth(records, period: Period) -> list[tuple[str, int, float | None]]:
    rows = []
    for i, (key, attr) in enumerate(STAGES):
        reached = [r for r in records if within(getattr(r, attr), period)]
        waits = None
        if i:
            before = STAGES[i - 1][1]
            waits = median(
                [seconds(getattr(r, attr), getattr(r, before)) for r in reached if getattr(r, before)]
            )
        rows.append((key, len(reached), waits))
    return rows


def clock_start(record) -> datetime:
    return record.routed_at or record.mql_at or record.captured_at


def business_seconds(history, record, start: datetime, end: datetime) -> float:
    """Seconds of the team calendar's working hours (Monday to Friday, OPENS to CLOSES local,
    no holidays) between ``start`` and ``end``."""
    tz = history.zones[record.team]
    holidays = set(history.holidays[record.team])
    total = 0.0
    day = local_day(start, tz)
    while day <= local_day(end, tz):
        if day.weekday() < 5 and day not in holidays:
            opens = datetime.combine(day, OPENS, tzinfo=tz)
            closes = datetime.combine(day, CLOSES, tzinfo=tz)
            overlap = (min(end, closes) - max(start, opens)).total_seconds()
            total += max(overlap, 0)
        day += timedelta(days=1)
    return total


def spend_truth(campaign, period: Period) -> Decimal:
    """The campaign's cost spread evenly over its run days, times its days in the period,
    rounded to the cent (half up)."""
    first, last = max(campaign.starts_on, period.start), min(campaign.ends_on, period.end)
    days = max((last - first).days + 1, 0)
    return (campaign.cost * days / campaign.run_days).quantize(CENT, rounding=ROUND_HALF_UP)


def money_truth(records, campaigns, period: Period) -> dict:
    cohort = [r for r in records if within(r.captured_at, period)]
    accepted = [r for r in cohort if r.accepted_at]
    won = [r for r in cohort if r.won_at]
    return {
        "spend": sum((spend_truth(c, period) for c in campaigns), Decimal("0.00")),
        "leads": len(cohort),
        "mqls": sum(1 for r in cohort if r.mql_at),
        "qualified": len(accepted),
        "won": len(won),
        "pipeline": sum((r.amount for r in accepted), Decimal("0.00")),
        "won_amount": sum((r.amount for r in won), Decimal("0.00")),
    }


def close_seconds(actual: timedelta | None, expected: float | None) -> bool:
    if expected is None or actual is None:
        return actual is None and expected is None
    return abs(actual.total_seconds() - expected) < 1.0


# --- the funnel -------------------------------------------------------------------------------

VIEWS = [
    ("maria", {}),  # the manager: everything
    ("mo", {}),  # marketing: every lead's funnel
    ("maria", {"campaign": "ads"}),
    ("maria", {"sdr": "diego"}),
    ("maria", {"team": "americas"}),
    ("maria", {"fit_grade": "B"}),
    ("sam", {}),  # an SDR: the leads they worked
]


def test_the_history_is_rich_enough(history):
    """The generator wrote every kind of path the numbers below distinguish."""
    happened = history.happened()
    assert len(happened) >= 150
    for attr in (
        "mql_at",
        "first_touch_at",
        "handed_off_at",
        "accepted_at",
        "rejected_at",
        "won_at",
        "lost_at",
    ):
        assert sum(1 for r in happened if getattr(r, attr)) >= 3, attr
    assert any(r.early_loss for r in happened) and any(r.lost_at and not r.early_loss for r in happened)
    assert {c.outcome for c in history.contracts} >= {"renewed", "expanded", "downsized", "churned", ""}
    # The edges: a lead in October in Berlin that a UTC cut would put in November, and back.
    assert any(
        r.captured_at.date() == date(2026, 10, 31) and within(r.captured_at, NOVEMBER) for r in happened
    )
    assert any(r.captured_at.date() == date(2026, 9, 30) and within(r.captured_at, OCTOBER) for r in happened)


@pytest.mark.parametrize("period", PERIODS.values(), ids=PERIODS.keys())
@pytest.mark.parametrize(("viewer", "filters"), VIEWS, ids=lambda v: str(v))
def test_funnel_cohort_equals_the_truth(history, now, period, viewer, filters):
    from insight import funnel

    rows = funnel.cohort(scope_for(history, viewer, period, **filters))
    truth = cohort_truth(visible(history, viewer, **filters), period)
    assert [(r.key, r.count) for r in rows] == [(key, count) for key, count, _, _ in truth]
    for row, (key, _, conversion, waits) in zip(rows, truth, strict=True):
        assert row.conversion == pytest.approx(conversion), key
        assert close_seconds(row.median_from_previous, waits), (key, row.median_from_previous, waits)


@pytest.mark.parametrize("period", PERIODS.values(), ids=PERIODS.keys())
@pytest.mark.parametrize(("viewer", "filters"), VIEWS, ids=lambda v: str(v))
def test_funnel_flow_equals_the_truth(history, now, period, viewer, filters):
    from insight import funnel

    rows = funnel.flow(scope_for(history, viewer, period, **filters))
    truth = flow_truth(visible(history, viewer, **filters), period)
    assert [(r.key, r.count) for r in rows] == [(key, count) for key, count, _ in truth]
    for row, (key, _, waits) in zip(rows, truth, strict=True):
        assert close_seconds(row.median_from_previous, waits), (key, row.median_from_previous, waits)


def test_a_new_york_sdr_sees_october_cut_in_new_york(history, now):
    """Diego's October ends at 04:00 UTC on 1 November: the lead captured at 03:30 UTC is his
    October's, the one at 04:30 UTC is not (a Berlin or UTC cut says otherwise)."""
    from insight import funnel

    rows = funnel.cohort(scope_for(history, "diego", OCTOBER_NY))
    truth = cohort_truth(visible(history, "diego"), OCTOBER_NY)
    assert [(r.key, r.count) for r in rows] == [(key, count) for key, count, _, _ in truth]
    edge = [r for r in visible(history, "diego") if r.index in (7, 8)]
    assert [within(r.captured_at, OCTOBER_NY) for r in edge] == [True, False]


@pytest.mark.parametrize("by", ["campaign", "channel", "source", "team", "sdr", "origin", "fit_grade"])
def test_funnel_slices_equal_the_truth(history, now, by):
    from insight import funnel

    rows = funnel.by_slice(scope_for(history, "maria", OCTOBER), by)
    cohort = [r for r in history.happened() if within(r.captured_at, OCTOBER)]

    def key_of(r):
        if by == "campaign":
            return history.campaigns[r.campaign].pk if r.campaign else None
        if by in ("channel", "source", "origin", "fit_grade"):
            return getattr(r, by)
        if not owned(r):
            return None
        if by == "team":
            return history.teams[r.team].pk
        return history.user(r.sdr).pk

    truth: dict = {}
    for r in cohort:
        counts = truth.setdefault(key_of(r), dict.fromkeys([k for k, _ in STAGES], 0))
        for key, attr in STAGES:
            counts[key] += getattr(r, attr) is not None
    assert {row.key: row.counts for row in rows} == truth
    if by == "fit_grade":
        # Every grade holds several leads of the cohort, so a slice mixing grades shows.
        assert {grade: counts["captured"] >= 3 for grade, counts in truth.items()} == dict.fromkeys(
            "ABCD", True
        )


@pytest.mark.parametrize("period", [OCTOBER, ACROSS_DST], ids=["october", "across_dst"])
def test_the_fit_grade_filter_equals_the_truth_for_every_grade(history, now, period):
    """Each grade's funnel counts its own leads: the four grades' cohorts split the whole one."""
    from insight import funnel

    whole = cohort_truth(visible(history, "maria"), period)
    captured = []
    for grade in "ABCD":
        rows = funnel.cohort(scope_for(history, "maria", period, fit_grade=grade))
        truth = cohort_truth(visible(history, "maria", fit_grade=grade), period)
        assert [(r.key, r.count) for r in rows] == [(key, count) for key, count, _, _ in truth], grade
        flow = funnel.flow(scope_for(history, "maria", period, fit_grade=grade))
        flow_expected = flow_truth(visible(history, "maria", fit_grade=grade), period)
        assert [(r.key, r.count) for r in flow] == [(key, count) for key, count, _ in flow_expected], grade
        captured.append(truth[0][1])
    assert sum(captured) == whole[0][1]
    assert all(n > 0 for n in captured) and max(captured) < whole[0][1], captured


def test_dispositions_equal_the_truth(history, now):
    from insight import funnel

    cohort = [r for r in history.happened() if within(r.captured_at, ACROSS_DST)]
    truth: dict = {}

    def add(stage, outcome, reason):
        truth[(stage, outcome, reason)] = truth.get((stage, outcome, reason), 0) + 1

    for r in cohort:
        if r.closed_out_at:
            stage = next(
                (
                    key
                    for key, attr in reversed(STAGES[1:5])
                    if getattr(r, attr) and getattr(r, attr) <= r.closed_out_at
                ),
                "captured",
            )
            add(stage, "disqualified" if r.close_out == "disqualified" else "nurtured", r.close_out_reason)
        if r.rejected_at:
            add("handed_off", "rejected", r.reject_reason)
        if r.lost_at:
            add("accepted", "lost_early" if r.early_loss else "lost", r.lost_reason)
    rows = funnel.dispositions(scope_for(history, "maria", ACROSS_DST))
    assert {(d.stage, d.outcome, d.reason): d.count for d in rows} == truth


@pytest.mark.parametrize("days", [3, 7, 30])
def test_leads_dropped_on_the_floor_equal_the_truth(history, now, days):
    from insight import funnel

    def idle_since(r):
        return r.last_touch_at or r.routed_at or r.mql_at or r.captured_at

    truth = {
        r.pk
        for r in history.happened()
        if r.status in ("mql", "working") and idle_since(r) < history.now - timedelta(days=days)
    }
    got = funnel.dropped(scope_for(history, "maria", NOVEMBER), days)
    assert set(got.values_list("lead_id", flat=True)) == truth
    assert truth


# --- speed to lead ----------------------------------------------------------------------------


def speed_truth(history, records, period: Period, key=lambda r: None) -> dict:
    groups: dict = {}
    for r in records:
        if within(r.first_touch_at, period):
            start = clock_start(r)
            wall = seconds(r.first_touch_at, start)
            business = business_seconds(history, r, start, r.first_touch_at)
            groups.setdefault(key(r), []).append((wall, business))
    return {
        k: (
            len(v),
            median([w for w, _ in v]),
            percentile([w for w, _ in v], 0.9),
            median([b for _, b in v]),
            percentile([b for _, b in v], 0.9),
        )
        for k, v in groups.items()
    }


@pytest.mark.parametrize("period", PERIODS.values(), ids=PERIODS.keys())
@pytest.mark.parametrize("by", [None, "rep", "team", "channel", "week"])
def test_speed_to_lead_equals_the_truth(history, now, period, by):
    from insight import speed

    def key(r):
        if by == "rep":
            return history.user(r.sdr).pk
        if by == "team":
            return history.teams[r.team].pk
        if by == "channel":
            return r.channel
        if by == "week":
            day = local_day(r.first_touch_at, period.tz)
            return day - timedelta(days=day.weekday())
        return None

    truth = speed_truth(history, visible(history, "maria"), period, key)
    rows = speed.speed(scope_for(history, "maria", period), by=by)
    assert {row.key: row.touches for row in rows} == {k: v[0] for k, v in truth.items()}
    for row in rows:
        _, wall, wall90, business, business90 = truth[row.key]
        assert close_seconds(row.median, wall), (row.key, "median", row.median, wall)
        assert close_seconds(row.p90, wall90), (row.key, "p90", row.p90, wall90)
        assert close_seconds(row.median_business, business), (
            row.key,
            "business",
            row.median_business,
            business,
        )
        assert close_seconds(row.p90_business, business90), (
            row.key,
            "p90 business",
            row.p90_business,
            business90,
        )


def test_an_sdr_sees_their_own_speed(history, now):
    from insight import speed

    (row,) = speed.speed(scope_for(history, "sam", OCTOBER))
    ((count, wall, _, business, _),) = speed_truth(history, visible(history, "sam"), OCTOBER).values()
    assert (row.touches, round(row.median.total_seconds())) == (count, round(wall))
    assert close_seconds(row.median_business, business)


BUCKET_LIMITS = [("under_5m", 300), ("5_30m", 1800), ("30_60m", 3600), ("1_4h", 4 * 3600), ("4_24h", 86400)]


@pytest.mark.parametrize("period", PERIODS.values(), ids=PERIODS.keys())
def test_decay_curve_equals_the_truth(history, now, period):
    from insight import speed

    def bucket(r):
        if not r.first_touch_at:
            return "never"
        wait = seconds(r.first_touch_at, clock_start(r))
        return next((key for key, below in BUCKET_LIMITS if wait < below), "over_24h")

    truth: dict = {}
    for r in history.happened():
        if within(r.captured_at, period) and r.mql_at:
            row = truth.setdefault(bucket(r), [0, 0, 0, 0])
            for i, reached in enumerate((True, r.handed_off_at, r.accepted_at, r.won_at)):
                row[i] += bool(reached)
    rows = speed.decay(scope_for(history, "maria", period))
    assert {r.key: [r.leads, r.handed_off, r.accepted, r.won] for r in rows if r.leads} == truth
    assert [r.key for r in rows] == [key for key, _ in BUCKET_LIMITS] + ["over_24h", "never"]


# --- money ------------------------------------------------------------------------------------


@pytest.mark.parametrize("period", PERIODS.values(), ids=PERIODS.keys())
def test_money_by_campaign_equals_the_truth(history, now, period):
    from insight import money

    rows = {row.key: row for row in money.by_campaign(scope_for(history, "mo", period))}
    records = visible(history, "mo")
    for campaign in history.campaigns.values():
        truth = money_truth([r for r in records if r.campaign == campaign.key], [campaign], period)
        row = rows.get(campaign.pk)
        if row is None:
            assert truth["spend"] == 0 and truth["leads"] == 0, campaign.name
            continue
        got = {name: getattr(row, name) for name in truth}
        assert got == truth, campaign.name
        for per, count in (("lead", "leads"), ("mql", "mqls"), ("qualified", "qualified"), ("won", "won")):
            expected = (truth["spend"] / truth[count]).quantize(CENT, ROUND_HALF_UP) if truth[count] else None
            assert getattr(row, f"cost_per_{per}") == expected, (campaign.name, per)
        spend = truth["spend"]
        roi = float((truth["won_amount"] - spend) / spend) if spend else None
        assert row.roi == pytest.approx(roi), campaign.name


@pytest.mark.parametrize("period", PERIODS.values(), ids=PERIODS.keys())
def test_money_by_channel_and_in_total_equal_the_truth(history, now, period):
    from insight import money

    records = visible(history, "mo")
    campaigns = list(history.campaigns.values())
    scope = scope_for(history, "mo", period)
    by_channel = {row.key: row for row in money.by_channel(scope)}
    for channel in {c.channel for c in campaigns}:
        truth = money_truth(
            [r for r in records if r.channel == channel],
            [c for c in campaigns if c.channel == channel],
            period,
        )
        row = by_channel.get(channel)
        got = {name: getattr(row, name) for name in truth} if row else dict.fromkeys(truth, 0)
        assert got == truth, channel
    total = money.total(scope)
    truth = money_truth(records, campaigns, period)
    assert {name: getattr(total, name) for name in truth} == truth


def test_money_with_a_campaign_filter(history, now):
    from insight import money

    total = money.total(scope_for(history, "maria", OCTOBER, campaign="webinar"))
    records = visible(history, "maria", campaign="webinar")
    truth = money_truth(records, [history.campaigns["webinar"]], OCTOBER)
    assert {name: getattr(total, name) for name in truth} == truth


@pytest.mark.parametrize("period", PERIODS.values(), ids=PERIODS.keys())
def test_pipeline_by_month_equals_the_truth(history, now, period):
    from insight import money

    rows = money.pipeline_by_month(scope_for(history, "maria", period))
    records = visible(history, "maria")
    for row in rows:
        month_end = date(row.month.year + row.month.month // 12, row.month.month % 12 + 1, 1) - timedelta(
            days=1
        )
        month = Period(max(row.month, period.start), min(month_end, period.end), period.tz)
        accepted = [r for r in records if within(r.accepted_at, month)]
        won = [r for r in records if within(r.won_at, month)]
        assert (row.qualified, row.pipeline, row.won, row.won_amount) == (
            len(accepted),
            sum((r.amount for r in accepted), Decimal("0.00")),
            len(won),
            sum((r.amount for r in won), Decimal("0.00")),
        ), row.month
    assert rows[0].month == period.start.replace(day=1)


# --- retention --------------------------------------------------------------------------------


def retention_truth(contracts) -> dict:
    decided = [c for c in contracts if c.outcome]
    kept = [c for c in decided if c.outcome != "churned"]
    churned = [c for c in decided if c.outcome == "churned"]
    zero = Decimal("0.00")
    return {
        "base": sum((c.value for c in decided), zero),
        "renewed": sum((min(c.new_value, c.value) for c in kept), zero),
        "expansion": sum((max(c.new_value - c.value, 0) for c in kept), zero),
        "contraction": sum((max(c.value - c.new_value, 0) for c in kept), zero),
        "churned": sum((c.value for c in churned), zero),
        "churned_count": len(churned),
    }


def in_days(day: date, period: Period) -> bool:
    return period.start <= day <= period.end


def test_retention_equals_the_truth(history, now):
    from insight import retention

    period = Period(date(2026, 8, 1), date(2026, 11, 30), BERLIN)
    scope = scope_for(history, "maria", period)
    contracts = [c for c in history.contracts if in_days(c.end_date, period)]
    total = retention.total(scope)
    truth = retention_truth(contracts)
    assert {name: getattr(total, name) for name in truth} == truth
    base = truth["base"]
    assert total.grr == pytest.approx(float((base - truth["contraction"] - truth["churned"]) / base))
    assert total.nrr == pytest.approx(
        float((base - truth["contraction"] - truth["churned"] + truth["expansion"]) / base)
    )
    for row in retention.by_month(scope):
        month = [c for c in contracts if (c.end_date.year, c.end_date.month) == (row.key.year, row.key.month)]
        assert {name: getattr(row, name) for name in truth} == retention_truth(month), row.label
    by_am = {row.key: row for row in retention.by_am(scope)}
    for am in ("casey", "riley"):
        row = by_am[history.user(am).pk]
        assert {name: getattr(row, name) for name in truth} == retention_truth(
            [c for c in contracts if c.am == am]
        ), am
    reasons: dict = {}
    for c in contracts:
        if c.outcome == "churned":
            count, value = reasons.get(c.churn_reason, (0, Decimal("0.00")))
            reasons[c.churn_reason] = (count + 1, value + c.value)
    assert {r.reason: (r.count, r.value) for r in retention.churn_reasons(scope)} == reasons


def test_an_am_sees_only_their_own_retention(history, now):
    from insight import retention

    period = Period(date(2026, 8, 1), date(2026, 11, 30), BERLIN)
    total = retention.total(scope_for(history, "riley", period))
    truth = retention_truth([c for c in history.contracts if c.am == "riley" and in_days(c.end_date, period)])
    assert {name: getattr(total, name) for name in truth} == truth


# --- health -----------------------------------------------------------------------------------


def test_health_numbers_equal_the_truth(history, now):
    """Each diagnosis's number is the share computed from the records."""
    from insight import health

    period = Period(date(2026, 9, 1), date(2026, 11, 30), BERLIN)
    records = visible(history, "maria")
    found = {d.key: d for d in health.diagnose(scope_for(history, "maria", period))}

    accepted = [r for r in records if within(r.accepted_at, period)]
    early = [r for r in accepted if r.early_loss]
    assert found["early_losses"].value == pytest.approx(share(len(early), len(accepted)))
    won = [r for r in records if within(r.won_at, period)]
    lost = [r for r in records if within(r.lost_at, period)]
    assert found["win_rate"].value == pytest.approx(share(len(won), len(won) + len(lost)))
    handed = [r for r in records if within(r.handed_off_at, period)]
    rejected = [r for r in handed if r.rejected_at]
    assert found["rejections"].value == pytest.approx(share(len(rejected), len(handed)))


def share(part: int, whole: int) -> float | None:
    """As the diagnoses show it: a percentage."""
    return round(100 * part / whole, 1) if whole else None


# --- the API, the pages (CSV) and the weekly summary say the same numbers ----------------------


def period_query(period: Period, **more) -> dict:
    return {"start": period.start.isoformat(), "end": period.end.isoformat(), **more}


@pytest.mark.parametrize(("viewer", "filters"), VIEWS, ids=lambda v: str(v))
def test_api_funnel_equals_the_truth(history, now, client, viewer, filters):
    query = period_query(OCTOBER)
    if "campaign" in filters:
        query["campaign"] = history.campaigns[filters["campaign"]].pk
    if "sdr" in filters:
        query["sdr"] = history.user(filters["sdr"]).pk
    if "team" in filters:
        query["team"] = history.teams[filters["team"]].pk
    if "fit_grade" in filters:
        query["fit_grade"] = filters["fit_grade"]
    client.force_login(history.user(viewer))
    answer = client.get("/api/v1/insight/funnel/", query)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    records = visible(history, viewer, **filters)
    truth = cohort_truth(records, OCTOBER)
    assert [(s["key"], s["count"]) for s in body["cohort"]] == [(k, c) for k, c, _, _ in truth]
    for stage, (key, _, conversion, waits) in zip(body["cohort"], truth, strict=True):
        assert stage["conversion"] == pytest.approx(conversion), key
        expected = None if waits is None else round(waits)
        assert stage["median_from_previous_seconds"] in (
            (None,) if expected is None else (expected - 1, expected, expected + 1)
        ), key
    flow = flow_truth(records, OCTOBER)
    assert [(s["key"], s["count"]) for s in body["flow"]] == [(k, c) for k, c, _ in flow]


def test_api_speed_money_pipeline_and_retention_equal_the_truth(history, now, client):
    client.force_login(history.user("maria"))
    query = period_query(ACROSS_DST)
    speed = client.get("/api/v1/insight/speed/", query).json()
    ((touches, wall, wall90, business, _),) = speed_truth(
        history, visible(history, "maria"), ACROSS_DST
    ).values()
    overall = speed["overall"]
    assert overall["touches"] == touches
    assert abs(overall["median_seconds"] - wall) <= 1 and abs(overall["p90_seconds"] - wall90) <= 1
    assert abs(overall["median_business_seconds"] - business) <= 1

    money = client.get("/api/v1/insight/money/", query).json()
    truth = money_truth(visible(history, "maria"), list(history.campaigns.values()), ACROSS_DST)
    total = money["total"]
    for name, value in truth.items():
        assert Decimal(str(total[name])) == value, name

    months = client.get("/api/v1/insight/pipeline/", query).json()["months"]
    records = visible(history, "maria")
    accepted = [r for r in records if within(r.accepted_at, ACROSS_DST)]
    assert sum(m["qualified"] for m in months) == len(accepted)
    assert sum(Decimal(str(m["pipeline"])) for m in months) == sum(r.amount for r in accepted)

    summer_to_autumn = Period(date(2026, 8, 1), date(2026, 11, 30), BERLIN)
    answer = client.get("/api/v1/insight/retention/", period_query(summer_to_autumn)).json()
    retention = answer["total"]
    assert answer["period"]["start"] == "2026-08-01", answer["period"]
    # The terms that ended in the period (one renewed early, ending in December, is not one).
    truth = retention_truth([c for c in history.contracts if in_days(c.end_date, summer_to_autumn)])
    for name in ("base", "expansion", "contraction", "churned"):
        assert Decimal(str(retention[name])) == truth[name], name
    assert retention["churned_count"] == truth["churned_count"]


def csv_rows(answer) -> list[list[str]]:
    import csv

    assert answer.status_code == 200, answer.content[:500]
    return list(csv.reader(answer.content.decode().splitlines()))


def test_the_funnel_page_and_its_csv_equal_the_truth(history, now, client):
    client.force_login(history.user("maria"))
    truth = cohort_truth(visible(history, "maria"), OCTOBER)
    page = client.get("/insight/funnel/", period_query(OCTOBER))
    assert page.status_code == 200
    html = page.content.decode()
    rows = csv_rows(client.get("/insight/funnel/cohort.csv", period_query(OCTOBER)))
    body = [row for row in rows if row and row[0] in set(STAGE_LABELS.values())]
    assert [(row[0], int(row[1].replace(",", ""))) for row in body] == [
        (STAGE_LABELS[key], count) for key, count, _, _ in truth
    ]
    for row, (key, count, conversion, _) in zip(body[1:], truth[1:], strict=True):
        assert row[2] == (f"{100 * conversion:.1f}%" if conversion is not None else "—"), key
        assert f"{count:,}" in html


def test_the_money_csv_equals_the_truth(history, now, client):
    client.force_login(history.user("mo"))
    rows = csv_rows(client.get("/insight/money/by-campaign.csv", period_query(OCTOBER)))
    header, body = rows[0], {row[0]: row for row in rows[1:] if row}
    records = visible(history, "mo")
    for campaign in history.campaigns.values():
        truth = money_truth([r for r in records if r.campaign == campaign.key], [campaign], OCTOBER)
        if not truth["spend"] and not truth["leads"]:
            continue
        row = dict(zip(header, body[campaign.name], strict=False))
        numbers = [
            cell.replace(",", "").removeprefix("€") for cell in row.values()
        ]  # amounts carry the currency
        assert f"{truth['spend']:.2f}" in numbers, (campaign.name, row)
        assert str(truth["leads"]) in numbers and str(truth["qualified"]) in numbers, (campaign.name, row)


STAGE_LABELS = {
    "captured": "First seen",
    "mql": "MQL or hand-raiser",
    "worked": "Worked (first touch)",
    "handed_off": "Handed off",
    "accepted": "Accepted by an AE",
    "won": "Won",
}
SUMMARY_WEEK = Period(date(2026, 11, 23), date(2026, 11, 29), BERLIN)


def test_the_managers_weekly_summary_equals_the_truth(history, now):
    from insight import summary
    from work.metrics import format_duration

    built = summary.build(history.user("maria"), SUMMARY_WEEK.start, now=history.now)
    lines = {line.label: line.value for line in built.lines}
    records = visible(history, "maria")
    accepted = [r for r in records if within(r.accepted_at, SUMMARY_WEEK)]
    assert lines["Qualified opportunities"] == f"{len(accepted):,}"
    assert lines["Qualified pipeline"] == f"€{sum(r.amount for r in accepted):,.0f}"
    speed = speed_truth(history, records, SUMMARY_WEEK)
    if speed:
        ((_, wall, wall90, _, _),) = speed.values()
        assert lines["Speed to lead"] == (
            f"{format_duration(timedelta(seconds=wall))} median, 90% within "
            f"{format_duration(timedelta(seconds=wall90))}"
        )
    text = built.text("https://refinery.example")
    first = [line for line in text.splitlines() if line.strip()][:8]
    assert any(f"Qualified opportunities: {len(accepted):,}" in line for line in first), first


def test_an_sdrs_weekly_summary_equals_the_truth(history, now):
    from insight import summary

    built = summary.build(history.user("sam"), SUMMARY_WEEK.start, now=history.now)
    lines = {line.label: line.value for line in built.lines}
    records = visible(history, "sam")
    assert lines["Handoffs accepted"] == f"{sum(within(r.accepted_at, SUMMARY_WEEK) for r in records):,}"
    assert lines["Handoffs rejected"] == f"{sum(within(r.rejected_at, SUMMARY_WEEK) for r in records):,}"
    assert (
        lines["Leads worked (first touch)"]
        == f"{sum(within(r.first_touch_at, SUMMARY_WEEK) for r in records):,}"
    )


# --- the other diagnoses and the other summaries ----------------------------------------------

# The SLA targets the data migration creates (sdr.services / accounts.services defaults), in
# business minutes of the item's team calendar.
HAND_RAISER_MINUTES, MQL_MINUTES, ACCEPT_MINUTES = 15, 4 * 60, 8 * 60
HEALTH_PERIOD = Period(date(2026, 9, 1), date(2026, 11, 30), BERLIN)


def due_after(history, team: str, start: datetime, minutes: int) -> datetime:
    """When a business-hours SLA started at ``start`` falls due. The calendar maths (working
    hours, holidays, the clock changes) is ``team.calendar``'s public functions, as the SLA
    clocks use them: the truth does not re-implement it, only which moments start and stop
    each clock, which the generator chose."""
    from team.calendar import Schedule, add_business_minutes

    return add_business_minutes(Schedule.from_calendar(history.teams[team].calendar), start, minutes)


def first_touch_breach(history, r) -> datetime | None:
    """When the lead's first-touch timer breached (its due time: the sweep runs then), None if
    it did not: routed at ``routed_at``, stopped by the first touch."""
    if not r.routed_at:
        return None
    due = due_after(history, r.team, r.routed_at, HAND_RAISER_MINUTES if r.hand_raiser else MQL_MINUTES)
    stopped = r.first_touch_at or history.now
    return due if due <= stopped else None


def accept_breach(history, r) -> datetime | None:
    """The AE's accept-or-reject timer (the AEs' team calendar), stopped by either answer."""
    if not r.handed_off_at:
        return None
    due = due_after(history, "aes", r.handed_off_at, ACCEPT_MINUTES)
    stopped = r.accepted_at or r.rejected_at or history.now
    return due if due <= stopped else None


def idle_since(r) -> datetime:
    return r.last_touch_at or r.routed_at or r.mql_at or r.captured_at


def dropped_truth(history, records, days: int) -> set[int]:
    return {
        r.pk
        for r in records
        if r.status in ("mql", "working") and idle_since(r) < history.now - timedelta(days=days)
    }


def working_days_truth(history, team: str, period: Period) -> int:
    """Monday to Friday less the calendar's holidays (the generator's hours and holidays)."""
    days = (period.start + timedelta(days=n) for n in range((period.end - period.start).days + 1))
    return sum(1 for d in days if d.weekday() < 5 and d not in history.holidays[team])


def sdrs_truth(history) -> list[str]:
    return [name for name, role, _ in PEOPLE if role in ("inbound_sdr", "outbound_sdr")]


def open_leads_truth(history) -> int:
    """Leads in sales (MQL or working) held by an SDR now."""
    return sum(1 for r in history.happened() if r.status in ("mql", "working"))


def test_health_starved_speed_dropped_and_renewals_equal_the_truth(history, now):
    from insight import health
    from insight.models import HealthSettings

    settings = HealthSettings.load()
    period = HEALTH_PERIOD
    records = visible(history, "maria")
    found = {d.key: d for d in health.diagnose(scope_for(history, "maria", period), now=history.now)}

    # Starved: the MQLs of the period over the SDRs taking leads and the manager's working days.
    sdrs = sdrs_truth(history)
    capacity = sum(history.user(name).capacity for name in sdrs)
    open_leads = open_leads_truth(history)
    mqls = sum(within(r.mql_at, period) for r in records)
    days = working_days_truth(history, "emea", period)
    starved = found["starved"]
    assert starved.value == pytest.approx(share(open_leads, capacity))
    assert starved.detail.startswith(
        f"{mqls / len(sdrs) / days:.1f} new MQLs per SDR per working day ({mqls} over {len(sdrs)} active SDRs "
        f"and {days} working days); they hold {open_leads} open leads"
    ), starved.detail
    assert starved.triggered == (open_leads * 100 < settings.starved_percent * capacity or starved.triggered)

    # Speed to lead: the leads routed in the period whose first-touch SLA breached, and the
    # breaches detected last week and this week (the week of the period's end in Berlin).
    routed = [r for r in records if within(r.routed_at, period)]
    slow = [r for r in routed if first_touch_breach(history, r)]
    assert len(slow) >= 3 and len(slow) < len(routed)
    speed = found["speed"]
    assert speed.value == pytest.approx(share(len(slow), len(routed)))
    this_week = Period(date(2026, 11, 30), date(2026, 12, 6), BERLIN)
    last_week = Period(date(2026, 11, 23), date(2026, 11, 29), BERLIN)
    breached = [first_touch_breach(history, r) for r in records]
    this = sum(within(b, this_week) for b in breached)
    last = sum(within(b, last_week) for b in breached)
    assert this > 0 and last > 0 and this != last, (this, last)
    assert speed.detail.endswith(
        f"{this} first-touch {'breach' if this == 1 else 'breaches'} this week, {last} last week."
    ), speed.detail
    assert speed.triggered == (len(slow) * 100 > settings.slow_percent * len(routed) or this > last)

    # Dropped on the floor: in an SDR's hands, no touch for the settings' days.
    dropped = dropped_truth(history, history.happened(), settings.dropped_days)
    assert dropped
    assert (found["dropped"].value, found["dropped"].triggered) == (len(dropped), True)

    # Renewals without a conversation: active contracts ending within the settings' days from
    # today (Berlin) whose AM logged no renewal conversation.
    today = local_day(history.now, BERLIN)
    due = [
        c for c in history.contracts if today <= c.end_date <= today + timedelta(days=settings.renewal_days)
    ]
    silent = [c for c in due if not c.outcome and not c.conversation_at]
    # Each rule decides: some due are silent, some talked, some already renewed, some past
    # their end or just beyond the window are not due.
    assert silent and any(c.conversation_at for c in due) and any(c.outcome for c in due)
    assert any(c.end_date == today + timedelta(days=settings.renewal_days + 1) for c in history.contracts)
    assert any(not c.outcome and c.end_date < today for c in history.contracts)
    assert (found["renewals"].value, found["renewals"].triggered) == (len(silent), True)


def top_diagnosis_truth(history, records, period: Period, settings) -> tuple[str, float | None, int, str]:
    """(title, value, threshold, unit) of the first triggered check in the page's order."""
    accepted = [r for r in records if within(r.accepted_at, period)]
    early = [
        r
        for r in accepted
        if r.lost_at and r.lost_at - r.accepted_at <= timedelta(days=settings.early_loss_days)
    ]
    won = [r for r in records if within(r.won_at, period)]
    closed = won + [r for r in records if within(r.lost_at, period)]
    handed = [r for r in records if within(r.handed_off_at, period)]
    rejected = [r for r in handed if r.rejected_at]
    sdrs = sdrs_truth(history)
    capacity = sum(history.user(name).capacity for name in sdrs)
    open_leads = open_leads_truth(history)
    routed = [r for r in records if within(r.routed_at, period)]
    slow = [r for r in routed if first_touch_breach(history, r)]
    checks = [
        ("Early losses", len(early), len(accepted), settings.early_loss_percent, "%", None),
        ("AE win rate", len(won), len(closed), settings.win_rate_percent, "%", None),
        ("AE rejections", len(rejected), len(handed), settings.rejection_percent, "%", None),
    ]
    for title, part, whole, threshold, unit, _ in checks:
        if whole and part * 100 > threshold * whole:
            return title, share(part, whole), threshold, unit
    if open_leads * 100 < settings.starved_percent * capacity:
        return "SDRs starved", share(open_leads, capacity), settings.starved_percent, "% of capacity"
    if len(routed) and len(slow) * 100 > settings.slow_percent * len(routed):
        return "Speed to lead", share(len(slow), len(routed)), settings.slow_percent, "%"
    return "", None, 0, ""  # the test says when the history reaches here


def number(value) -> str:
    """As the summary prints a number: whole when whole, else one decimal."""
    return f"{value:,.0f}" if float(value) == round(float(value)) else f"{value:,.1f}"


def test_the_managers_breaches_and_top_diagnosis_lines_equal_the_truth(history, now):
    from insight import summary
    from insight.models import HealthSettings

    built = summary.build(history.user("maria"), SUMMARY_WEEK.start, now=history.now)
    lines = {line.label: line.value for line in built.lines}
    records = visible(history, "maria")
    before = Period(date(2026, 11, 16), date(2026, 11, 22), BERLIN)
    # Every breach Maria's teams had: the SDRs' first touches and the AEs' accept-or-reject.
    breaches = [first_touch_breach(history, r) for r in records] + [
        accept_breach(history, r) for r in records
    ]
    this = sum(within(b, SUMMARY_WEEK) for b in breaches)
    last = sum(within(b, before) for b in breaches)
    assert this + last > 0
    assert lines["SLA breaches"] == f"{this:,} ({last:,} the week before)"

    title, value, threshold, unit = top_diagnosis_truth(history, records, SUMMARY_WEEK, HealthSettings.load())
    assert title, "the history should trigger one of the first five checks in the summary's week"
    shown = unit if unit.startswith("%") else f" {unit}"
    assert lines["Top diagnosis"] == f"{title} ({number(value)}{shown}, threshold {threshold}{shown})"


def money_text(amount) -> str:
    """An amount as the summary writes it: the installation's currency (EUR by default), whole
    units when it is whole."""
    amount = Decimal(amount)
    return "€" + (f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}")


def test_an_aes_weekly_summary_equals_the_truth(history, now):
    """Alex's team is in New York: his week is Monday to Sunday there."""
    from insight import summary

    week = Period(date(2026, 11, 23), date(2026, 11, 29), NEW_YORK)
    records = [r for r in history.happened() if r.ae == "alex"]
    built = summary.build(history.user("alex"), week.start, now=history.now)
    lines = {line.label: line.value for line in built.lines}
    accepted = [r for r in records if within(r.accepted_at, week)]
    won = [r for r in records if within(r.won_at, week)]
    waiting = [r for r in records if r.handed_off_at and not r.accepted_at and not r.rejected_at]
    moved = [r for r in records if any(within(m, week) for m in (r.accepted_at, r.won_at, r.lost_at))]
    assert lines["Accepted"] == f"{len(accepted):,} ({money_text(sum((r.amount for r in accepted), 0))})"
    assert lines["Waiting"] == f"{len(waiting):,} handoff{'' if len(waiting) == 1 else 's'} awaiting you"
    assert lines["Pipeline moved"] == (
        f"{len(moved):,} {'opportunity' if len(moved) == 1 else 'opportunities'} "
        f"({money_text(sum((r.amount for r in moved), 0))})"
    )
    assert lines["Wins"] == f"{len(won):,} ({money_text(sum((r.amount for r in won), 0))})"
    assert lines["Rejected"] == f"{sum(within(r.rejected_at, week) for r in records):,}"


def test_an_ams_weekly_summary_equals_the_truth(history, now):
    """Riley's book: the contracts never renewed are still open past their end, so they are due
    (the renewals page's first bucket) and at risk (no conversation)."""
    from insight import summary
    from insight.models import HealthSettings

    week = Period(date(2026, 11, 23), date(2026, 11, 29), NEW_YORK)
    today = local_day(history.now, NEW_YORK)
    risk_days = HealthSettings.load().renewal_days
    book = [c for c in history.contracts if c.am == "riley"]
    # The open terms: the never-recorded contracts, and the new terms the outcomes started (a
    # year from the day after the old term's end, at the new value, no conversation yet), with
    # whether a renewal conversation was logged.
    open_terms = [(c.end_date, c.value, bool(c.conversation_at)) for c in book if not c.outcome]
    open_terms += [
        (date(c.end_date.year + 1, c.end_date.month, c.end_date.day), c.new_value, False)
        for c in book
        if c.outcome and c.outcome != "churned"
    ]
    soon = [(end, value) for end, value, _ in open_terms if end <= today + timedelta(days=30)]
    later = [
        (end, v) for end, v, _ in open_terms if today + timedelta(days=30) < end <= today + timedelta(days=60)
    ]
    risky = [
        (end, v) for end, v, talked in open_terms if end <= today + timedelta(days=risk_days) and not talked
    ]
    # Terms ending in the coming 30 days (not only past their end), in 31 to 60, and some due
    # but talked about, so no line compares zero with zero or equals another.
    assert any(end >= today for end, _ in soon) and later and 0 < len(risky) < len(soon)
    built = summary.build(history.user("riley"), week.start, now=history.now)
    lines = {line.label: line.value for line in built.lines}

    def total(terms):
        return money_text(sum((v for _, v in terms), 0))

    assert lines["Renewals in the next 30 days"] == f"{len(soon):,} ({total(soon)} a year)"
    assert lines["Renewals in 31 to 60 days"] == f"{len(later):,} ({total(later)} a year)"
    assert lines["At risk"] == (
        f"{len(risky):,} ending within {risk_days} days with no conversation ({total(risky)} a year)"
    )
    closed = [c for c in book if within(c.outcome_at, week)]
    churned = [c for c in closed if c.outcome == "churned"]
    assert len(closed) > len(churned)
    assert lines["Renewed this week"] == f"{len(closed) - len(churned):,}"
    assert (
        lines["Churned this week"]
        == f"{len(churned):,} ({money_text(sum((c.value for c in churned), 0))} a year)"
    )


def test_marketings_weekly_summary_equals_the_truth(history, now):
    from insight import summary

    records = visible(history, "mo")
    campaigns = list(history.campaigns.values())
    built = summary.build(history.user("mo"), SUMMARY_WEEK.start, now=history.now)
    lines = [(line.label, line.value) for line in built.lines]

    def per_qualified(truth):
        if not truth["qualified"]:
            return None
        return (truth["spend"] / truth["qualified"]).quantize(CENT, ROUND_HALF_UP)

    total = money_truth(records, campaigns, SUMMARY_WEEK)
    each = per_qualified(total)
    assert lines[0] == (
        "Cost per qualified opportunity",
        f"{money_text(each) if each is not None else '—'} ({total['qualified']:,} qualified, "
        f"spend {money_text(total['spend'])})",
    )
    ranked = []
    for c in campaigns:
        truth = money_truth([r for r in records if r.campaign == c.key], [c], SUMMARY_WEEK)
        if truth["qualified"]:
            ranked.append((-truth["qualified"], per_qualified(truth), c.name, truth))
    ranked.sort(key=lambda t: t[:3])
    expected = [
        (name, f"{money_text(cost)} per qualified ({truth['qualified']:,} qualified)")
        for _, cost, name, truth in ranked[:3]
    ]
    assert lines[1:-1] == expected
    assert lines[-1] == ("New leads (first seen)", f"{total['leads']:,} ({total['mqls']:,} MQLs)")
