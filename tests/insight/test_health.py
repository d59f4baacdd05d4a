"""Refinery health: each diagnosis triggers just past its threshold and not at it, counted from
facts, work items and contracts the test creates; the detail sentence carries the figures a
manager reads; all clear says so; the query count is fixed."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from insight.health import all_clear, diagnose, top
from insight.models import HealthSettings, LeadFact
from insight.scope import Period, Scope
from leads.models import Lead
from renewals.models import Contract
from team.models import Holiday, Role
from tests.factories import CampaignFactory, LeadFactory, TeamFactory, UserFactory, customer, routed_lead
from work.models import Breach, WorkItem

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)  # a Wednesday
MARCH = Period(date(2025, 3, 1), date(2025, 3, 31), BERLIN)
IN_MARCH = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)
IN_FEBRUARY = datetime(2025, 2, 20, 10, 0, tzinfo=UTC)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def fact(**fields) -> LeadFact:
    """A lead and its fact, written directly (the refresh is tested on its own)."""
    fields.setdefault("captured_at", IN_MARCH - timedelta(days=30))
    fields.setdefault("first_seen_at", fields["captured_at"])
    lead = fields.pop("lead", None) or LeadFactory(captured_at=fields["captured_at"])
    return LeadFact.objects.create(lead=lead, **fields)


# The live checks count once a minute (``insight.answers.recent_aggregate``): a check of
# what the test changed since the last one asks in the next minute.
NEXT_MINUTE = NOW + timedelta(minutes=1)


def check(manager, key, period=MARCH, settings=None, now=NOW, **filters):
    scope = Scope.for_user(manager, period, **filters)
    (found,) = [d for d in diagnose(scope, settings=settings, now=now) if d.key == key]
    return found


def thresholds(**values) -> HealthSettings:
    settings = HealthSettings.load()
    for name, value in values.items():
        setattr(settings, name, value)
    settings.save()
    return settings


# -- 1. early losses -------------------------------------------------------------------------


def accepted_facts(n, lost_after=None, **fields):
    for _ in range(n):
        lost = {"lost_at": IN_MARCH + lost_after, "lost_reason": "No budget"} if lost_after else {}
        fact(accepted_at=IN_MARCH, handed_off_at=IN_MARCH, **lost, **fields)


def test_early_losses_at_the_threshold_are_not_a_diagnosis(manager):
    accepted_facts(4)
    accepted_facts(1, lost_after=timedelta(days=14))  # exactly 14 days: early
    accepted_facts(3, lost_after=timedelta(days=14, minutes=1))  # later: not early

    found = check(manager, "early_losses")

    assert not found.triggered
    assert found.value == 12.5  # 1 of 8
    found = check(manager, "early_losses", settings=thresholds(early_loss_percent=12))
    assert found.triggered


def test_early_losses_just_above_the_threshold_say_qualify_harder(manager):
    accepted_facts(7)
    accepted_facts(2, lost_after=timedelta(days=3))
    fact(accepted_at=IN_FEBRUARY, lost_at=IN_FEBRUARY + timedelta(days=1))  # accepted before March

    found = check(manager, "early_losses")

    assert found.triggered
    assert found.value == 22.2
    assert found.threshold == 20 and found.unit == "%"
    assert found.detail == "2 of 9 accepted opportunities (22.2%) were lost within 14 days of acceptance."
    assert "Qualify harder" in found.advice
    assert found.link.startswith("/insight/rows/early_losses/?")


def test_at_exactly_the_threshold_share_nothing_triggers(manager):
    accepted_facts(4)
    accepted_facts(1, lost_after=timedelta(days=1))

    assert check(manager, "early_losses").value == 20.0
    assert not check(manager, "early_losses").triggered


def test_filters_narrow_the_facts_a_diagnosis_counts(manager):
    google = CampaignFactory(name="Google")
    accepted_facts(3, campaign=google)
    accepted_facts(1, lost_after=timedelta(days=1), campaign=google)
    accepted_facts(3, lost_after=timedelta(days=1))  # other leads: lost early, not Google's

    assert check(manager, "early_losses").triggered  # 4 of 7 overall
    found = check(manager, "early_losses", campaign=google)
    assert found.triggered and found.detail.startswith("1 of 4 accepted opportunities (25%)")


# -- 2. AE win rate --------------------------------------------------------------------------


def test_win_rate_at_half_is_fine_and_above_half_says_too_picky(manager):
    fact(accepted_at=IN_FEBRUARY, won_at=IN_MARCH, won_amount=Decimal("1000"))
    fact(accepted_at=IN_FEBRUARY, lost_at=IN_MARCH, lost_reason="Price")
    fact(accepted_at=IN_FEBRUARY, won_at=IN_FEBRUARY)  # closed before the period
    fact(accepted_at=IN_MARCH)  # still open

    found = check(manager, "win_rate")
    assert (found.value, found.triggered) == (50.0, False)

    fact(accepted_at=IN_FEBRUARY, won_at=IN_MARCH + timedelta(days=2))
    found = check(manager, "win_rate")
    assert found.triggered
    assert found.detail == "2 of 3 opportunities closed in the period were won (66.7%)."
    assert "too picky" in found.advice


# -- 3. AE rejections ------------------------------------------------------------------------


def handoffs(n, reason=None):
    for _ in range(n):
        rejected = {"rejected_at": IN_MARCH + timedelta(hours=2), "reject_reason": reason} if reason else {}
        fact(handed_off_at=IN_MARCH, **rejected)


def test_rejections_at_a_quarter_are_fine(manager):
    handoffs(3)
    handoffs(1, reason="No budget")

    found = check(manager, "rejections")
    assert (found.value, found.triggered) == (25.0, False)


def test_rejections_above_a_quarter_name_the_top_three_reasons(manager):
    handoffs(13)
    handoffs(3, reason="No budget")
    handoffs(2, reason="Wrong persona")
    handoffs(1, reason="Too small")
    handoffs(1, reason="Bad timing")
    fact(handed_off_at=IN_FEBRUARY, rejected_at=IN_FEBRUARY, reject_reason="Too small")  # February's

    found = check(manager, "rejections")

    assert found.triggered  # 7 of 20 = 35%
    assert found.reasons == (("No budget", 3), ("Wrong persona", 2), ("Bad timing", 1))
    assert found.detail == (
        "7 of 20 handoffs in the period (35%) were rejected by an AE. "
        "Top reasons: No budget (3), Wrong persona (2), Bad timing (1)."
    )


# -- 4. SDRs starved -------------------------------------------------------------------------


@pytest.fixture
def two_sdrs(inbound_sdr, other_sdr):
    for sdr in (inbound_sdr, other_sdr):
        sdr.capacity = 10
        sdr.save(update_fields=["capacity"])
    UserFactory(username="away", role=Role.INBOUND_SDR, is_away=True, capacity=10)  # not taking leads
    return inbound_sdr, other_sdr


def test_sdrs_holding_half_their_capacity_are_not_starved(manager, two_sdrs):
    for sdr in two_sdrs:
        for _ in range(5):
            routed_lead(sdr, now=IN_MARCH)

    found = check(manager, "starved")

    assert (found.value, found.triggered) == (50.0, False)


def test_sdrs_below_half_their_capacity_are_starved(manager, two_sdrs):
    sam, lena = two_sdrs
    leads = [routed_lead(sam, now=IN_MARCH) for _ in range(5)] + [
        routed_lead(lena, now=IN_MARCH) for _ in range(5)
    ]
    Lead.objects.filter(pk=leads[0].pk).update(status=Lead.Status.DISQUALIFIED)
    for _ in range(8):
        fact(mql_at=IN_MARCH)
    fact(mql_at=IN_FEBRUARY)
    Holiday.objects.create(calendar=manager.team.calendar, date=date(2025, 3, 17))

    found = check(manager, "starved")

    assert found.triggered
    assert found.value == 45.0
    assert found.detail == (
        "0.2 new MQLs per SDR per working day (8 over 2 active SDRs and 20 working days); "
        "they hold 9 open leads, 45% of their capacity of 20."
    )
    assert "feed more" in found.advice


def test_an_active_sdr_with_no_open_work_means_starved(manager, two_sdrs):
    sam, lena = two_sdrs
    for _ in range(5):
        routed_lead(sam, now=IN_MARCH)
        LeadFactory(owner=lena, status=Lead.Status.WORKING)  # open leads, but nothing to do

    found = check(manager, "starved")

    assert found.triggered and found.value == 50.0
    assert found.detail.endswith("and 1 of them has no open work.")


def test_starved_counts_the_sdrs_of_the_filtered_team(manager, two_sdrs):
    for sdr in two_sdrs:
        for _ in range(5):
            routed_lead(sdr, now=IN_MARCH)
    outbound = TeamFactory(name="Outbound", kind="outbound")
    UserFactory(username="idle", role=Role.OUTBOUND_SDR, team=outbound)  # no work at all

    assert check(manager, "starved").triggered
    assert not check(manager, "starved", team=manager.team).triggered
    assert check(manager, "starved", team=outbound).triggered


# -- 5. speed to lead ------------------------------------------------------------------------


def routed_facts(sdr, n, breached_at=()):
    """``n`` leads routed in March; the first ones breached their first touch at the given
    detection times (their facts flagged, as the refresh leaves them: ``test_facts``)."""
    for i in range(n):
        lead = routed_lead(sdr, now=IN_MARCH)
        breached = i < len(breached_at)
        fact(
            lead=lead,
            captured_at=IN_MARCH,
            mql_at=IN_MARCH,
            routed_at=IN_MARCH,
            sdr=sdr,
            first_touch_breached=breached,
        )
        if breached:
            item = WorkItem.objects.get(object_id=lead.pk, kind=WorkItem.Kind.FIRST_TOUCH)
            Breach.objects.create(
                work_item=item,
                policy=item.policy,
                owner=sdr,
                team=sdr.team,
                due_at=item.due_at,
                detected_at=breached_at[i],
            )


LAST_WEEK = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
THIS_WEEK = datetime(2025, 3, 11, 10, 0, tzinfo=UTC)


def test_a_tenth_of_leads_past_their_sla_is_tolerated(manager, inbound_sdr):
    routed_facts(inbound_sdr, 10, breached_at=[LAST_WEEK])

    found = check(manager, "speed")

    assert (found.value, found.triggered) == (10.0, False)
    assert found.detail == (
        "1 of 10 leads routed in the period (10%) waited past their first-touch SLA; "
        "0 first-touch breaches this week, 1 last week."
    )


def test_more_than_a_tenth_past_their_sla_means_leads_go_cold(manager, inbound_sdr):
    routed_facts(inbound_sdr, 10, breached_at=[LAST_WEEK, THIS_WEEK])

    found = check(manager, "speed")

    assert found.triggered and found.value == 20.0
    assert "leads go cold" in found.advice.lower()
    assert found.link.startswith("/insight/rows/speed/")


def test_breaches_rising_week_on_week_trigger_in_the_viewers_weeks(manager, inbound_sdr):
    # Sunday 23:30 UTC is already Monday in Berlin: this week's, not last week's.
    sunday_night = datetime(2025, 3, 9, 23, 30, tzinfo=UTC)
    routed_facts(inbound_sdr, 20, breached_at=[LAST_WEEK, sunday_night])

    found = check(manager, "speed")
    assert not found.triggered  # 1 this week, 1 last week; 10% of leads

    routed_facts(inbound_sdr, 20, breached_at=[THIS_WEEK])
    found = check(manager, "speed", now=NEXT_MINUTE)
    assert found.triggered  # 2 this week against 1; only 3 of 40 leads (7.5%) were slow
    assert found.detail.endswith("2 first-touch breaches this week, 1 last week.")
    assert found.link.startswith("/insight/rows/breaches/")


# -- 6. dropped on the floor -----------------------------------------------------------------


def test_leads_untouched_for_longer_than_the_setting_are_dropped(manager):
    fact(
        status="working", routed_at=NOW - timedelta(days=20), last_touch_at=NOW - timedelta(days=6, hours=23)
    )
    fact(status="nurture", last_touch_at=NOW - timedelta(days=30))  # not in sales

    found = check(manager, "dropped")
    assert (found.value, found.triggered) == (0, False)

    fact(status="working", routed_at=NOW - timedelta(days=20), last_touch_at=NOW - timedelta(days=7, hours=1))
    fact(status="mql", mql_at=NOW - timedelta(days=9), routed_at=NOW - timedelta(days=8))  # never touched

    found = check(manager, "dropped", now=NEXT_MINUTE)
    assert (found.value, found.triggered) == (2, True)
    assert found.detail == "2 leads in an SDR's hands have had no touch for 7 days or more."
    assert not check(manager, "dropped", settings=thresholds(dropped_days=10), now=NEXT_MINUTE).triggered


# -- 7. renewals without a conversation --------------------------------------------------------


def test_renewals_due_within_the_window_without_a_conversation(am_manager, manager, am):
    account = customer(am)

    def term(end, **fields):
        return Contract.objects.create(
            account=account, start_date=end - timedelta(days=364), end_date=end, annual_value=12000, **fields
        )

    today = date(2025, 3, 12)
    term(today + timedelta(days=31))  # outside the 30 days
    term(today + timedelta(days=10), renewal_activity_at=NOW - timedelta(days=2))  # talked
    term(today - timedelta(days=1))  # ended yesterday: its outcome is another matter
    assert not check(am_manager, "renewals").triggered

    term(today + timedelta(days=30))
    found = check(am_manager, "renewals", now=NEXT_MINUTE)
    assert (found.value, found.triggered) == (1, True)
    assert found.detail == "1 contract ending within 30 days has had no renewal conversation."
    # Maria manages no AM team: Casey's renewals are not hers to see.
    assert check(manager, "renewals").value == 0


# -- together ------------------------------------------------------------------------------


def test_nothing_needs_tuning_on_a_quiet_refinery(manager):
    accepted_facts(5)
    handoffs(4)

    found = diagnose(Scope.for_user(manager, MARCH), now=NOW)

    assert all_clear(found)
    assert top(found) is None
    assert [d.key for d in found] == [
        "early_losses", "win_rate", "rejections", "starved", "speed", "dropped", "renewals",
    ]  # fmt: skip
    assert all(not d.triggered for d in found)


def test_triggered_diagnoses_come_first(manager):
    handoffs(1)
    handoffs(1, reason="No budget")
    fact(status="working", routed_at=NOW - timedelta(days=20))

    found = diagnose(Scope.for_user(manager, MARCH), now=NOW)

    assert [d.key for d in found[:2]] == ["rejections", "dropped"]
    assert not all_clear(found) and top(found).key == "rejections"


def test_links_carry_the_pages_own_query_string(manager):
    found = diagnose(Scope.for_user(manager, MARCH), now=NOW, query="period=custom&start=2025-03-01")
    assert found[0].link.endswith("/?period=custom&start=2025-03-01")


def fill(sdr, size):
    accepted_facts(size, lost_after=timedelta(days=1))
    handoffs(size, reason="No budget")
    routed_facts(sdr, size, breached_at=[THIS_WEEK] * size)
    for _ in range(size):
        fact(status="working", routed_at=NOW - timedelta(days=20))


@pytest.mark.parametrize("size", [1, 4])
def test_diagnose_runs_a_fixed_number_of_queries(manager, inbound_sdr, django_assert_num_queries, size):
    fill(inbound_sdr, size)
    scope = Scope.for_user(manager, MARCH)
    settings = HealthSettings.load()
    # The content-type cache, as in a running process (a minute earlier: not this minute's counts).
    diagnose(scope, settings=settings, now=NOW - timedelta(minutes=1))

    # the flows of every check in one statement 1, rejections' reasons 1, starved 2 + 2 (the
    # calendar), speed's breach weeks 1, dropped 1, renewals 1
    with django_assert_num_queries(9):
        found = diagnose(scope, settings=settings, now=NOW)
    # Again within the minute: the live checks' five counts are remembered.
    with django_assert_num_queries(4):
        assert diagnose(scope, settings=settings, now=NOW + timedelta(seconds=59)) == found
    assert not all_clear(found)


def test_the_diagnoses_read_the_facts_the_services_left(manager, inbound_sdr, ae, refresh_facts):
    """End to end: handoffs, rejections and an early loss made through the real services,
    the facts rebuilt, then diagnosed."""
    from accounts.models import REJECT_REASONS, Stage
    from accounts.services import move_stage, reject_handoff
    from tests.factories import accepted, handed_off

    at = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
    for reason in REJECT_REASONS[:2]:
        opportunity = handed_off(inbound_sdr, ae, now=at)
        reject_handoff(opportunity_id=opportunity.pk, by=ae, reason=reason, note="Not ready.", now=at)
    kept = accepted(inbound_sdr, ae, now=at)
    accepted(inbound_sdr, ae, now=at)
    lost = Stage.objects.filter(kind=Stage.Kind.LOST).first()
    move_stage(
        opportunity_id=kept.pk, by=ae, stage_id=lost.pk, lost_reason="Price", now=at + timedelta(days=3)
    )
    refresh_facts()

    found = {d.key: d for d in diagnose(Scope.for_user(manager, MARCH), now=NOW)}

    assert found["rejections"].triggered
    assert found["rejections"].detail.startswith("2 of 4 handoffs in the period (50%) were rejected")
    assert dict(found["rejections"].reasons) == {REJECT_REASONS[0]: 1, REJECT_REASONS[1]: 1}
    assert found["early_losses"].detail == (
        "1 of 2 accepted opportunities (50%) was lost within 14 days of acceptance."
    )
    assert found["win_rate"].detail == "0 of 1 opportunity closed in the period was won (0%)."


def test_every_flow_of_the_overview_is_counted_in_one_statement(manager, django_assert_num_queries):
    """The checks' flows, the headline and the qualified cohort: one statement, the same
    numbers as counting each flow on its own, amounts as Decimals on both databases."""
    from insight.health import measures, merged, tally
    from insight.views import COHORT_QUALIFIED, headline_measures

    fact(captured_at=IN_MARCH, accepted_at=IN_MARCH, accepted_amount=Decimal("100.50"))
    fact(accepted_at=IN_MARCH, accepted_amount=Decimal("20.25"), lost_at=IN_MARCH + timedelta(days=1))
    fact(accepted_at=IN_FEBRUARY, lost_at=IN_MARCH)  # lost in March, accepted before
    fact(lost_at=IN_MARCH)  # lost without an acceptance
    fact(won_at=IN_MARCH, accepted_at=IN_FEBRUARY)
    fact(handed_off_at=IN_MARCH, rejected_at=IN_MARCH)
    fact(mql_at=IN_MARCH, routed_at=IN_MARCH, first_touch_breached=True)
    fact(mql_at=IN_FEBRUARY, routed_at=IN_FEBRUARY, first_touch_breached=True)  # not March's
    scope = Scope.for_user(manager, MARCH)
    settings = HealthSettings.load()

    with django_assert_num_queries(1):
        counts = tally(scope, merged(headline_measures(scope), COHORT_QUALIFIED, measures(scope, settings)))

    assert counts == {
        "qualified": 2,
        "accepted": 2,
        "pipeline": Decimal("120.75"),
        "lost_early": 1,
        "won": 1,
        "lost_accepted": 2,
        "lost": 3,
        "cohort_qualified": 1,
        "handed_off": 1,
        "rejected": 1,
        "mqls": 1,
        "routed": 1,
        "slow": 1,
    }
    assert isinstance(counts["pipeline"], Decimal)


# -- the live checks, counted once a minute ----------------------------------------------------


def test_the_live_checks_are_counted_once_a_minute_and_say_when(manager, frozen, client_for):
    """The dropped leads, the SDRs' load, this week's breaches and the renewals read the live
    tables: the managers of a team viewing the overview again within the minute are answered
    from that minute's count, the next minute counts again, and the page says as of when."""
    quiet = {"status": "working", "routed_at": NOW - timedelta(days=20)}
    fact(**quiet, last_touch_at=NOW - timedelta(days=8))
    assert check(manager, "dropped").value == 1

    fact(**quiet, last_touch_at=NOW - timedelta(days=9))
    frozen.shift(59)  # 12:00:59: the same minute
    assert check_now(manager, "dropped").value == 1
    page = client_for(manager).get("/insight/", {"start": "2025-03-01", "end": "2025-03-31"}).content.decode()
    assert re.search(
        r'Live checks as of <time datetime="2025-03-12T12:00:00\+00:00">Wed 12 Mar 2025, 13:00 CET', page
    )
    assert 'id="diagnosis-dropped"' in page

    frozen.shift(1)  # 12:01: a new minute counts again
    assert check_now(manager, "dropped").value == 2


def check_now(manager, key):
    """``check`` at the clock's time (not the module's ``NOW``)."""
    (found,) = [d for d in diagnose(Scope.for_user(manager, MARCH)) if d.key == key]
    return found
