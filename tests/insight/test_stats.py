"""Percentiles in SQL: the same numbers as the textbook interpolation, on whichever database
the run uses (run once with DATABASE_URL=sqlite:///... too), in one query per call."""

import math
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from django.db.models import F, Q

from insight.models import LeadFact
from insight.stats import Seconds, percentiles, percentiles_each

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
_ids = count(1)


def fact(**fields) -> LeadFact:
    """A lead fact written directly (the lead itself is not needed: no database constraint)."""
    fields.setdefault("captured_at", T0)
    fields.setdefault("first_seen_at", fields["captured_at"])
    return LeadFact.objects.create(lead_id=next(_ids), **fields)


def interpolated(values, fraction):
    """percentile_cont's definition, computed here independently."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def test_percentiles_match_the_interpolation_on_known_values():
    values = [7, 300, 12, 45, 3600, 90, 1, 86400, 600, 2]
    for v in values:
        fact(response_seconds=v)
    fact(response_seconds=None)  # no value: left out, as percentile_cont does

    (row,) = percentiles(LeadFact.objects.all(), "response_seconds", (0, 0.25, 0.5, 0.9, 1))

    assert row.rows == 11
    for fraction in (0, 0.25, 0.5, 0.9, 1):
        assert row.get(fraction) == pytest.approx(interpolated(values, fraction))
    assert row.get(0.5) == pytest.approx(67.5)  # the two middle values, 45 and 90, averaged


def test_grouped_with_counts_and_several_values_in_one_query(django_assert_num_queries):
    groups = {"a": [10, 20, 30, 40], "b": [5], "c": [None, None]}
    business = {"a": [1, 2, 3, 100], "b": [None], "c": [None, None]}
    for channel, seconds in groups.items():
        for i, s in enumerate(seconds):
            fact(
                channel=channel,
                response_seconds=s,
                response_business_seconds=business[channel][i],
                hand_raiser=i == 0,
            )

    with django_assert_num_queries(1):
        rows = percentiles(
            LeadFact.objects.all(),
            {"wall": "response_seconds", "business": F("response_business_seconds")},
            (0.5, 0.9),
            group_by="channel",
            counts={"hand_raisers": Q(hand_raiser=True), "slow": Q(response_seconds__gte=20)},
        )

    by_channel = {r.key: r for r in rows}
    assert set(by_channel) == {"a", "b", "c"}
    a = by_channel["a"]
    assert (a.rows, a.counts) == (4, {"hand_raisers": 1, "slow": 3})
    assert a.get(0.5, "wall") == pytest.approx(25)
    assert a.get(0.9, "wall") == pytest.approx(interpolated([10, 20, 30, 40], 0.9))  # 37
    assert a.get(0.5, "business") == pytest.approx(2.5)
    assert a.get(0.9, "business") == pytest.approx(interpolated([1, 2, 3, 100], 0.9))
    assert by_channel["b"].get(0.9, "wall") == 5
    assert by_channel["b"].get(0.5, "business") is None
    assert by_channel["c"].rows == 2 and by_channel["c"].get(0.5, "wall") is None


def test_group_labels_from_a_join_and_a_null_group():
    from tests.factories import UserFactory

    ana = UserFactory(first_name="Ana", last_name="Ruiz")
    for s in (60, 120, 180):
        fact(sdr=ana, response_seconds=s)
    fact(sdr=None, response_seconds=5)

    rows = percentiles(
        LeadFact.objects.all(),
        "response_seconds",
        (0.5,),
        group_by={"sdr": "sdr", "first": "sdr__first_name"},
    )

    found = {r.group["sdr"]: r for r in rows}
    assert found[ana.pk].group["first"] == "Ana"
    assert found[ana.pk].get(0.5) == 120
    assert found[None].get(0.5) == 5 and found[None].group["first"] is None


def test_nothing_to_measure_is_one_empty_row_ungrouped_and_no_row_grouped():
    (row,) = percentiles(LeadFact.objects.all(), "response_seconds", (0.5, 0.9))
    assert row.rows == 0 and row.get(0.5) is None and row.get(0.9) is None
    assert percentiles(LeadFact.objects.all(), "response_seconds", (0.5,), group_by="channel") == []


def test_seconds_between_two_moments():
    durations = [timedelta(minutes=3), timedelta(hours=2, seconds=30), timedelta(days=3, minutes=1)]
    for d in durations:
        fact(mql_at=T0, first_touch_at=T0 + d)
    fact(mql_at=T0)  # never touched: no duration

    (row,) = percentiles(LeadFact.objects.all(), Seconds("first_touch_at", "mql_at"), (0.25, 0.5, 0.75))

    seconds = [d.total_seconds() for d in durations]
    for fraction in (0.25, 0.5, 0.75):
        assert row.get(fraction) == pytest.approx(interpolated(seconds, fraction), abs=1e-6)


def test_a_fraction_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        percentiles(LeadFact.objects.all(), "response_seconds", (1.5,))


def test_each_part_counted_and_measured_in_one_statement(django_assert_num_queries):
    """A flow's shape: several row sets (each its own filter), each counted and measured,
    one statement; a part without rows still answers (0 rows, no percentile)."""
    fast = [3, 9, 27, 81]
    slow = [1000, 2000]
    for s in fast:
        fact(channel="fast", response_seconds=s, response_business_seconds=s * 2)
    for s in slow:
        fact(channel="slow", response_seconds=s)
    fact(channel="fast")  # counted, no value

    with django_assert_num_queries(2):  # the facts' generation (insight.answers), the statement
        found = percentiles_each(
            {
                "fast": (LeadFact.objects.filter(channel="fast"), "response_seconds"),
                "slow_business": (LeadFact.objects.filter(channel="slow"), F("response_business_seconds")),
                "everyone": (LeadFact.objects.all(), None),
                "nobody": (LeadFact.objects.filter(channel="none"), "response_seconds"),
            },
            (0.5, 0.9),
        )

    assert list(found) == ["fast", "slow_business", "everyone", "nobody"]
    assert found["fast"].rows == 5
    assert found["fast"].get(0.5) == pytest.approx(interpolated(fast, 0.5))  # 18
    assert found["fast"].get(0.9) == pytest.approx(interpolated(fast, 0.9))
    assert found["slow_business"].rows == 2 and found["slow_business"].get(0.5) is None
    assert found["everyone"].rows == 7 and found["everyone"].get(0.5) is None
    assert found["nobody"].rows == 0 and found["nobody"].get(0.9) is None
