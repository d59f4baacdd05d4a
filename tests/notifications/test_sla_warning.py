"""The SLA warning: the owner of an open timer is told before it breaches, once the policy's
share of its time has passed, counted in business time like the SLA itself."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from leads.models import Lead
from notifications.models import Kind, Notification
from tests.concurrency import run_concurrently
from tests.factories import routed_lead
from work.models import SlaPolicy, WorkItem
from work.services import complete_items, sweep_breaches, warn_due_timers
from work.tasks import warn_sla_timers

pytestmark = pytest.mark.django_db

# Tuesday 2026-11-24, 16:00 in Berlin (15:00 UTC). The MQL first touch has 4 business hours in
# Sam's Berlin calendar (Mon-Fri 9-17): one hour today, three tomorrow, due Wednesday 12:00.
# At 75% (3 business hours) the warning is due Wednesday 11:00 Berlin, 10:00 UTC.
ROUTED = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
WARN = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
DUE = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


@pytest.fixture
def lead(inbound_sdr):
    return routed_lead(inbound_sdr, now=ROUTED, first_name="Ada", last_name="Lovelace")


def warnings_for(user):
    return list(Notification.objects.filter(recipient=user, kind=Kind.SLA_WARNING))


def test_the_warning_time_is_the_policys_share_of_business_time(lead):
    item = WorkItem.objects.get(kind=WorkItem.Kind.FIRST_TOUCH, object_id=lead.pk)
    assert (item.due_at, item.warn_at) == (DUE, WARN)


def test_before_the_share_no_warning_even_when_most_of_the_wall_clock_has_passed(lead, inbound_sdr):
    # Tuesday 23:00 Berlin: 7 wall-clock hours after routing, one business hour.
    assert warn_due_timers(now=ROUTED + timedelta(hours=7)) == 0
    assert warn_due_timers(now=WARN - timedelta(seconds=1)) == 0
    assert warnings_for(inbound_sdr) == []


def test_at_the_share_the_owner_is_warned_once(lead, inbound_sdr):
    assert warn_due_timers(now=WARN) == 1
    assert warn_due_timers(now=WARN + timedelta(minutes=1)) == 0  # a re-run
    with time_machine.travel(WARN + timedelta(minutes=2), tick=False):
        assert warn_sla_timers() == 0  # the beat's task

    [warning] = warnings_for(inbound_sdr)
    assert warning.text == "SLA about to breach: New MQL, due Wed 25 Nov 2026, 12:00 CET"
    assert warning.url == f"/leads/{lead.pk}/"
    assert warning.read_at is None


def test_a_timer_touched_in_time_is_not_warned(lead, inbound_sdr):
    complete_items(
        model=Lead, subject_ids=[lead.pk], kinds=[WorkItem.Kind.FIRST_TOUCH], by=inbound_sdr, now=WARN
    )
    assert warn_due_timers(now=WARN + timedelta(minutes=5)) == 0
    assert warnings_for(inbound_sdr) == []


def test_a_breached_timer_is_not_warned(lead, inbound_sdr):
    # The sweeps did not run between the warning time and the due time: the breach comes first.
    sweep_breaches(now=DUE + timedelta(minutes=1))
    assert warn_due_timers(now=DUE + timedelta(minutes=2)) == 0
    assert warnings_for(inbound_sdr) == []
    assert not WorkItem.objects.filter(warn_at__isnull=False).exists()  # claimed: not read again


def test_a_policy_without_a_share_never_warns(inbound_sdr):
    SlaPolicy.objects.filter(key=SlaPolicy.FIRST_TOUCH_MQL).update(warn_at_share=None)
    routed_lead(inbound_sdr, now=ROUTED)
    assert warn_due_timers(now=DUE - timedelta(minutes=1)) == 0
    assert warnings_for(inbound_sdr) == []


def test_a_timer_in_nobodys_queue_warns_nobody(db):
    routed_lead(None, now=ROUTED, team=None)
    assert warn_due_timers(now=DUE - timedelta(minutes=1)) == 0
    assert not Notification.objects.exists()


def test_the_sweep_is_set_based(inbound_sdr, django_assert_num_queries):
    for i in range(2):
        routed_lead(inbound_sdr, now=ROUTED, email=f"a{i}@example.com")
    with django_assert_num_queries(13):
        assert warn_due_timers(now=WARN) == 2
    for i in range(20):
        routed_lead(inbound_sdr, now=ROUTED + timedelta(minutes=1), email=f"b{i}@example.com")
    with django_assert_num_queries(13):
        assert warn_due_timers(now=WARN + timedelta(minutes=1)) == 20


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_warn_once(inbound_sdr):
    for i in range(30):
        routed_lead(inbound_sdr, now=ROUTED, email=f"c{i}@example.com")

    outcomes = run_concurrently(lambda: warn_due_timers(now=WARN), lambda: warn_due_timers(now=WARN))

    assert sorted(outcomes) == [0, 30] or sum(outcomes) == 30  # type: ignore[arg-type]
    assert len(warnings_for(inbound_sdr)) == 30


def test_a_timer_tightened_by_a_hand_raise_warns_at_its_new_share(lead, inbound_sdr):
    from sdr.services import tighten_first_touch

    asked = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # Wednesday 09:00 Berlin
    assert tighten_first_touch(lead_ids=[lead.pk], now=asked) == 1

    item = WorkItem.objects.get(kind=WorkItem.Kind.FIRST_TOUCH, object_id=lead.pk)
    # 15 minutes, warned at 75%: 11 minutes 15 seconds after the hand was raised.
    assert (item.due_at, item.warn_at) == (asked + timedelta(minutes=15), asked + timedelta(seconds=675))
    assert warn_due_timers(now=asked + timedelta(minutes=11)) == 0
    assert warn_due_timers(now=asked + timedelta(minutes=12)) == 1
    [warning] = warnings_for(inbound_sdr)
    assert warning.text == "SLA about to breach: Asked for a call, due Wed 25 Nov 2026, 09:15 CET"
