"""Speed to lead as a manager reads it: median and 90th percentile of the wait for the first
touch (wall clock and business time) overall and by rep, team, channel and local week, and
the decay curve by response-time bucket. Facts are written directly with chosen waits; the
expected numbers are computed here from what the test wrote."""

import math
from datetime import UTC, date, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest

from insight import speed
from insight.models import LeadFact
from insight.scope import Period, Scope
from leads.models import Channel
from team.models import Role
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
MARCH = Period(date(2025, 3, 1), date(2025, 3, 31), BERLIN)
INSIDE = datetime(2025, 3, 11, 9, 0, tzinfo=UTC)
_ids = count(1)
M, H = 60, 3600


def fact(captured_at=INSIDE, **fields) -> LeadFact:
    fields.setdefault("first_seen_at", captured_at)
    return LeadFact.objects.create(lead_id=next(_ids), captured_at=captured_at, **fields)


def touched(wait: int, business: int | None = None, *, at=INSIDE, **fields) -> LeadFact:
    """A lead routed ``wait`` seconds before its first touch ``at``."""
    routed = at - timedelta(seconds=wait)
    return fact(
        captured_at=fields.pop("captured_at", routed),
        mql_at=routed,
        routed_at=routed,
        first_touch_at=at,
        last_touch_at=at,
        response_seconds=wait,
        response_business_seconds=wait if business is None else business,
        **fields,
    )


def cont(values, fraction) -> timedelta | None:
    """percentile_cont, computed here independently, as a duration."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return timedelta(seconds=ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def scope_for(user, period=MARCH) -> Scope:
    return Scope.for_user(user, period)


def test_overall_median_and_p90_wall_clock_and_business(manager, django_assert_num_queries):
    waits = [2 * M, 4 * M, 10 * M, 25 * M, 3 * H, 20 * H]
    business = [2 * M, 4 * M, 10 * M, 25 * M, 1 * H, 2 * H]  # the nights do not count
    for wall, biz in zip(waits, business, strict=True):
        touched(wall, biz)
    # First touch on 28 Feb 23:30 Berlin (before March), and one never touched: not measured.
    touched(1, at=datetime(2025, 2, 28, 22, 30, tzinfo=UTC))
    fact(mql_at=INSIDE)

    asked = scope_for(manager)  # the question (it reads the facts' generation)
    with django_assert_num_queries(1):
        (row,) = speed.speed(asked)

    assert (row.key, row.label, row.touches) == (None, "All leads", 6)
    assert row.median == cont(waits, 0.5) == timedelta(minutes=17, seconds=30)
    assert row.p90 == cont(waits, 0.9)
    assert row.median_business == cont(business, 0.5)
    assert row.p90_business == cont(business, 0.9)


def test_by_rep_team_and_channel(manager, django_assert_num_queries):
    emea, us = TeamFactory(name="Inbound EMEA"), TeamFactory(name="Inbound US")
    ana = UserFactory(username="ana", first_name="Ana", last_name="Ruiz", team=emea)
    ben = UserFactory(username="ben", first_name="Ben", last_name="Ode", team=us)
    for wait in (1 * M, 3 * M, 5 * M):
        touched(wait, sdr=ana, team=emea, channel=Channel.WEBINAR)
    for wait in (30 * M, 2 * H):
        touched(wait, sdr=ben, team=us, channel=Channel.PAID_SEARCH)
    touched(9 * H, sdr=None, team=None, channel="")

    asked = scope_for(manager)  # the question (it reads the facts' generation)
    with django_assert_num_queries(2):  # the facts, then the names of the reps found
        by_rep = speed.speed(asked, by="rep")
    assert [(r.key, r.label, r.touches, r.median, r.p90) for r in by_rep] == [
        (ana.pk, "Ana Ruiz", 3, timedelta(minutes=3), cont([1 * M, 3 * M, 5 * M], 0.9)),
        (ben.pk, "Ben Ode", 2, cont([30 * M, 2 * H], 0.5), cont([30 * M, 2 * H], 0.9)),
        (None, "Unassigned", 1, timedelta(hours=9), timedelta(hours=9)),
    ]
    asked = scope_for(manager)
    with django_assert_num_queries(2):
        by_team = speed.speed(asked, by="team")
    assert [(r.label, r.touches, r.median) for r in by_team] == [
        ("Inbound EMEA", 3, timedelta(minutes=3)),
        ("Inbound US", 2, timedelta(minutes=75)),
        ("No team", 1, timedelta(hours=9)),
    ]
    asked = scope_for(manager)
    with django_assert_num_queries(1):
        by_channel = speed.speed(asked, by="channel")
    assert [(r.key, r.label, r.touches) for r in by_channel] == [
        ("", "No channel", 1),
        (Channel.PAID_SEARCH, "Paid search", 2),
        (Channel.WEBINAR, "Webinar", 3),
    ]


def test_by_week_is_the_local_week_of_the_first_touch(manager, django_assert_num_queries):
    # Monday 3 March 00:30 in Berlin is still Sunday 2 March in UTC: it belongs to the week
    # of 3 March. Sunday 30 March 23:30 CEST (after the change to summer time) to the week of
    # 24 March.
    touched(10 * M, at=datetime(2025, 3, 2, 23, 30, tzinfo=UTC))
    touched(20 * M, at=datetime(2025, 3, 5, 12, 0, tzinfo=UTC))
    touched(5 * M, at=datetime(2025, 3, 30, 21, 30, tzinfo=UTC))
    touched(1 * M, at=datetime(2025, 3, 1, 10, 0, tzinfo=UTC))  # Saturday 1 March: week of 24 Feb

    asked = scope_for(manager)  # the question (it reads the facts' generation)
    with django_assert_num_queries(1):
        rows = speed.speed(asked, by="week")

    assert [(r.key, r.label, r.touches, r.median) for r in rows] == [
        (date(2025, 2, 24), "Week of 24 Feb 2025", 1, timedelta(minutes=1)),
        (date(2025, 3, 3), "Week of 3 Mar 2025", 2, timedelta(minutes=15)),
        (date(2025, 3, 24), "Week of 24 Mar 2025", 1, timedelta(minutes=5)),
    ]


def test_an_sdr_measures_only_their_own_touches():
    sam = UserFactory(username="sam", role=Role.INBOUND_SDR)
    touched(2 * M, sdr=sam)
    touched(4 * H, sdr=UserFactory(username="lena", role=Role.INBOUND_SDR))
    (row,) = speed.speed(scope_for(sam))
    assert (row.touches, row.median) == (1, timedelta(minutes=2))


def test_nothing_touched_is_an_empty_overall_row(manager):
    (row,) = speed.speed(scope_for(manager))
    assert (row.touches, row.median, row.p90, row.median_business) == (0, None, None, None)
    assert speed.speed(scope_for(manager), by="rep") == []


def test_an_unknown_grouping_is_refused(manager):
    with pytest.raises(ValueError, match="not 'moon'"):
        speed.speed(scope_for(manager), by="moon")


def test_decay_counts_and_rates_by_response_bucket(manager, django_assert_num_queries):
    def outcome(wait, handed=False, accepted=False, won=False):
        lead = touched(wait) if wait is not None else fact(mql_at=INSIDE, routed_at=INSIDE)
        lead.handed_off_at = INSIDE + timedelta(days=1) if handed else None
        lead.accepted_at = INSIDE + timedelta(days=2) if accepted else None
        lead.won_at = INSIDE + timedelta(days=30) if won else None
        lead.save()

    # Bucket edges: 4:59 and 5:00 fall either side of "under 5 min"; 24 h is "over 24 h".
    outcome(4 * M + 59, handed=True, accepted=True, won=True)
    outcome(2 * M, handed=True, accepted=True)
    outcome(5 * M, handed=True)
    outcome(29 * M)
    outcome(45 * M, handed=True, accepted=True)
    outcome(2 * H)
    outcome(24 * H, handed=True)
    outcome(None)
    outcome(None)
    fact(mql_at=None, routed_at=None)  # never reached a rep: not on the curve
    touched(1 * M, captured_at=datetime(2025, 2, 1, tzinfo=UTC))  # a February lead

    asked = scope_for(manager)  # the question (it reads the facts' generation)
    with django_assert_num_queries(1):
        rows = speed.decay(asked)

    assert [b.key for b in speed.BUCKETS] == [r.key for r in rows]
    assert [(r.label, r.leads, r.handed_off, r.accepted, r.won) for r in rows] == [
        ("Under 5 min", 2, 2, 2, 1),
        ("5\u201330 min", 2, 1, 0, 0),
        ("30\u201360 min", 1, 1, 1, 0),
        ("1\u20134 h", 1, 0, 0, 0),
        ("4\u201324 h", 0, 0, 0, 0),
        ("Over 24 h", 1, 1, 0, 0),
        ("Never touched", 2, 0, 0, 0),
    ]
    under = rows[0]
    assert (under.handed_off_rate, under.accepted_rate, under.won_rate) == (1.0, 1.0, 0.5)
    assert rows[4].handed_off_rate is None


def test_the_page_asks_every_table_in_one_statement(manager, django_assert_num_queries):
    """The speed page's tables (overall, by rep, team, channel, week, and the decay curve) in
    one statement over the facts, plus the names of the reps and teams found; each table the
    same as asked alone."""
    emea = TeamFactory(name="Inbound EMEA")
    ana = UserFactory(username="ana", first_name="Ana", last_name="Ruiz", team=emea)
    for wait in (1 * M, 3 * M, 5 * M):
        touched(wait, sdr=ana, team=emea, channel=Channel.WEBINAR)
    touched(
        2 * H, at=datetime(2025, 3, 4, 9, 0, tzinfo=UTC), channel=Channel.PAID_SEARCH, handed_off_at=INSIDE
    )
    fact(mql_at=INSIDE)  # never touched: decay's "never"

    wanted = [None, "rep", "team", "channel", "week", speed.DECAY]
    asked = scope_for(manager)  # the question (it reads the facts' generation)
    with django_assert_num_queries(3):
        together = speed.measure(asked, wanted)

    alone = {
        w: speed.decay(scope_for(manager)) if w == speed.DECAY else speed.speed(scope_for(manager), w)
        for w in wanted
    }
    assert together == alone
    assert [(r.label, r.touches, r.median) for r in together["rep"]] == [
        ("Ana Ruiz", 3, timedelta(minutes=3)),
        ("Unassigned", 1, timedelta(hours=2)),
    ]
    assert [(r.label, r.touches) for r in together["week"]] == [
        ("Week of 3 Mar 2025", 1),
        ("Week of 10 Mar 2025", 3),
    ]
    decay = {r.key: (r.leads, r.handed_off) for r in together[speed.DECAY]}
    assert decay["under_5m"] == (2, 0) and decay["5_30m"] == (1, 0)
    assert decay["1_4h"] == (1, 1) and decay["never"] == (1, 0)
