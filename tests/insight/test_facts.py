"""The lead facts: each column is what the services recorded, the incremental refresh picks up
each kind of change (and writes nothing else), a rebuild after it changes nothing, and
business time in SQL equals ``team.calendar``'s arithmetic across weekends, holidays and DST."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from accounts.services import accept_handoff, hand_off, move_stage, reject_handoff, update_opportunity
from insight import facts, tasks
from insight.models import LeadFact, RefreshState
from leads.models import Activity, ActivityKind, ActivitySource, Campaign, Lead, LeadEvent
from leads.services import capture_lead, log_activity, transition_lead
from sdr.services import dispose_lead, log_touch
from team.calendar import Schedule, business_minutes_between
from team.models import BusinessCalendar, Holiday, WorkingHours
from tests.factories import LeadFactory, UserFactory, qualifying, request_a_meeting, stage
from work.models import WorkItem

pytestmark = pytest.mark.django_db

MONDAY_9 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # 09:00 in Berlin, a Monday
HOUR = timedelta(hours=1)


def at(moment):
    return time_machine.travel(moment, tick=False)


def fact(lead) -> LeadFact:
    return LeadFact.objects.get(lead_id=lead.pk)


def values(**filters) -> dict:
    """Every fact's columns but ``refreshed_at``, by lead."""
    columns = [c.attname for c in LeadFact._meta.concrete_fields if c.attname != "refreshed_at"]
    return {row["lead_id"]: row for row in LeadFact.objects.filter(**filters).values(*columns)}


@pytest.fixture
def routing(catch_all_rule, inbound_sdr, ae, ae_rule):
    """Sam (Inbound EMEA, Berlin 9-17 on weekdays) gets every sales-ready lead; Alex every
    handoff."""
    return inbound_sdr


def test_a_won_lead_records_every_moment_and_the_money(routing, inbound_sdr, ae, campaign):
    with at(MONDAY_9):
        lead = request_a_meeting("buyer@globex.example", campaign=campaign)
    with at(MONDAY_9 + 2 * HOUR):
        log_touch(lead_id=lead.pk, by=inbound_sdr, kind=ActivityKind.CALL, outcome="connected")
    with at(MONDAY_9 + 3 * HOUR):
        log_activity(lead_id=lead.pk, kind=ActivityKind.DOWNLOAD)  # the prospect's doing: no touch
    with at(MONDAY_9 + 26 * HOUR):
        log_touch(lead_id=lead.pk, by=inbound_sdr, kind=ActivityKind.EMAIL)
    with at(MONDAY_9 + 27 * HOUR):
        opportunity = hand_off(
            lead_id=lead.pk, by=inbound_sdr, qualifying=qualifying(), amount=Decimal("30000")
        )
    with at(MONDAY_9 + 50 * HOUR):
        accept_handoff(opportunity_id=opportunity.pk, by=ae)
    with at(MONDAY_9 + 100 * HOUR):
        update_opportunity(
            opportunity_id=opportunity.pk, by=ae, amount=Decimal("42000"), close_date=None, next_step=""
        )
        move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stage("Won").pk)
        assert facts.rebuild() == 1

    f = fact(lead)
    assert (f.campaign_id, f.channel, f.source) == (campaign.pk, "paid_search", "paid_search")
    assert (f.team_id, f.sdr_id, f.ae_id) == (inbound_sdr.team_id, inbound_sdr.pk, ae.pk)
    assert (f.origin, f.hand_raiser, f.status, f.fit_grade) == ("inbound", True, "won", lead.fit_grade)
    assert f.captured_at == f.mql_at == f.routed_at == MONDAY_9
    assert (f.first_touch_at, f.last_touch_at) == (MONDAY_9 + 2 * HOUR, MONDAY_9 + 26 * HOUR)
    assert (f.handed_off_at, f.accepted_at, f.rejected_at) == (
        MONDAY_9 + 27 * HOUR,
        MONDAY_9 + 50 * HOUR,
        None,
    )
    assert (f.won_at, f.won_amount, f.accepted_amount) == (
        MONDAY_9 + 100 * HOUR,
        Decimal("42000"),
        Decimal("42000"),
    )
    assert (f.lost_at, f.lost_reason, f.early_loss, f.reject_reason) == (None, "", False, "")
    assert (f.closed_out_at, f.close_out_reason) == (None, "")
    # Routed at 09:00 Monday, touched at 11:00: two hours, all of them within Berlin's hours.
    assert f.response_seconds == f.response_business_seconds == 2 * 3600


def test_a_rejected_then_disqualified_lead_keeps_the_rejection_and_the_disposition(routing, inbound_sdr, ae):
    with at(MONDAY_9):
        lead = capture_lead(
            email="reader@initech.example", details={}, via="api", activity_kind=ActivityKind.DOWNLOAD
        ).lead
        assert lead.status == Lead.Status.NURTURE
    with at(MONDAY_9 + HOUR):  # the prospect asks for a call: MQL now, routed to Sam
        lead = request_a_meeting("reader@initech.example")
    with at(MONDAY_9 + 5 * HOUR):
        log_touch(lead_id=lead.pk, by=inbound_sdr, kind=ActivityKind.CALL)
        opportunity = hand_off(lead_id=lead.pk, by=inbound_sdr, qualifying=qualifying())
    with at(MONDAY_9 + 6 * HOUR):
        reject_handoff(
            opportunity_id=opportunity.pk, by=ae, reason="Timing: not buying this year", note="Next year."
        )
    with at(MONDAY_9 + 7 * HOUR):
        dispose_lead(lead_id=lead.pk, by=inbound_sdr, to="disqualified", reason="Competitor", note="A rival")
        facts.rebuild()

    f = fact(lead)
    assert f.captured_at == MONDAY_9
    assert f.mql_at == f.routed_at == MONDAY_9 + HOUR
    assert f.first_touch_at == MONDAY_9 + 5 * HOUR
    assert (f.handed_off_at, f.rejected_at, f.accepted_at) == (MONDAY_9 + 5 * HOUR, MONDAY_9 + 6 * HOUR, None)
    assert f.reject_reason == "Timing: not buying this year"
    assert f.ae_id == ae.pk  # the AE who rejected it owned the only opportunity
    assert (f.closed_out_at, f.close_out_reason) == (MONDAY_9 + 7 * HOUR, "Competitor: A rival")
    # Disqualifying cleared the lead's team; the fact keeps Sam's.
    assert Lead.objects.get(pk=lead.pk).team_id is None
    assert (f.team_id, f.sdr_id, f.status) == (inbound_sdr.team_id, inbound_sdr.pk, "disqualified")
    assert f.response_seconds == f.response_business_seconds == 4 * 3600
    assert f.accepted_amount is None and f.won_at is None


def test_a_lead_nurtured_then_handed_off_lost_and_recycled_keeps_where_its_close_out_sent_it(
    routing, inbound_sdr, ae
):
    """The lead is 'recycled' now (after a later loss), but its one close-out sent it to
    nurture: the fact says nurture, not what its status now would suggest."""
    with at(MONDAY_9):
        lead = request_a_meeting("later@hooli.example")
    with at(MONDAY_9 + HOUR):
        log_touch(lead_id=lead.pk, by=inbound_sdr, kind=ActivityKind.CALL)
    with at(MONDAY_9 + 2 * HOUR):
        dispose_lead(lead_id=lead.pk, by=inbound_sdr, to="nurture", reason="No budget yet", note="Q3")
        assert facts.refresh() == 1
        assert (fact(lead).close_out_status, fact(lead).status) == ("nurture", "nurture")
    with at(MONDAY_9 + timedelta(days=30)):  # a month later the prospect asks for a call again
        lead = request_a_meeting("later@hooli.example")
        assert lead.status == Lead.Status.MQL
    with at(MONDAY_9 + timedelta(days=30, hours=1)):
        log_touch(lead_id=lead.pk, by=inbound_sdr, kind=ActivityKind.CALL)
        opportunity = hand_off(lead_id=lead.pk, by=inbound_sdr, qualifying=qualifying())
    with at(MONDAY_9 + timedelta(days=31)):
        accept_handoff(opportunity_id=opportunity.pk, by=ae)
    with at(MONDAY_9 + timedelta(days=40)):
        move_stage(
            opportunity_id=opportunity.pk, by=ae, stage_id=stage("Lost").pk, lost_reason="Price", recycle=True
        )
        assert Lead.objects.get(pk=lead.pk).status == Lead.Status.RECYCLED
        assert facts.refresh() == 1  # incremental: the loss and the recycling are events

    f = fact(lead)
    assert (f.status, f.close_out_status) == ("recycled", "nurture")
    assert (f.closed_out_at, f.close_out_reason) == (MONDAY_9 + 2 * HOUR, "No budget yet: Q3")
    assert (f.lost_at, f.lost_reason) == (MONDAY_9 + timedelta(days=40), "Price")
    with at(MONDAY_9 + timedelta(days=40, hours=1)):
        assert facts.rebuild() == 0  # the full computation agrees


def test_a_lead_disqualified_recycled_and_worked_again_stays_disqualified_and_a_later_close_out_wins(
    routing, inbound_sdr
):
    with at(MONDAY_9):
        lead = request_a_meeting("student@uni.example")
        dispose_lead(
            lead_id=lead.pk, by=inbound_sdr, to="disqualified", reason="Student, job seeker or researcher"
        )
    with at(MONDAY_9 + timedelta(days=60)):  # marketing recycles it; it raises its hand again
        transition_lead(lead_id=lead.pk, to=Lead.Status.RECYCLED, reason="Graduated")
        lead = request_a_meeting("student@uni.example")
        log_touch(lead_id=lead.pk, by=inbound_sdr, kind=ActivityKind.EMAIL)
        facts.rebuild()
    f = fact(lead)
    assert (f.status, f.close_out_status, f.closed_out_at) == ("working", "disqualified", MONDAY_9)

    with at(MONDAY_9 + timedelta(days=61)):  # the second close-out is the one the fact keeps
        dispose_lead(lead_id=lead.pk, by=inbound_sdr, to="nurture", reason="Not ready yet (timing)")
        assert facts.refresh() == 1
    f = fact(lead)
    assert (f.status, f.close_out_status, f.closed_out_at) == (
        "nurture",
        "nurture",
        MONDAY_9 + timedelta(days=61),
    )


def test_an_outbound_prospect_lost_early(outbound_sdr, ae, ae_rule):
    with at(MONDAY_9):
        lead = capture_lead(
            email="cfo@umbrella.example",
            details={"company": "Umbrella"},
            via=ActivitySource.MANUAL,
            source="outbound",
            activity_kind=ActivityKind.IMPORTED,
            prospector=outbound_sdr,
        ).lead
    with at(MONDAY_9 + 3 * HOUR):
        log_touch(lead_id=lead.pk, by=outbound_sdr, kind=ActivityKind.SOCIAL)
        opportunity = hand_off(lead_id=lead.pk, by=outbound_sdr, qualifying=qualifying())
    with at(MONDAY_9 + 4 * HOUR):
        accept_handoff(opportunity_id=opportunity.pk, by=ae)
    with at(MONDAY_9 + 4 * HOUR + timedelta(days=3)):
        move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stage("Lost").pk, lost_reason="Price")
        facts.rebuild()

    f = fact(lead)
    assert (f.origin, f.source, f.channel, f.campaign_id) == ("outbound", "outbound", "", None)
    assert (f.mql_at, f.routed_at) == (None, None)  # a prospect starts in its SDR's hands
    assert (f.sdr_id, f.ae_id, f.team_id) == (outbound_sdr.pk, ae.pk, outbound_sdr.team_id)
    assert (f.lost_at, f.lost_reason, f.early_loss) == (
        MONDAY_9 + 4 * HOUR + timedelta(days=3),
        "Price",
        True,
    )
    assert f.status == "lost" and f.won_at is None
    assert f.response_seconds == 3 * 3600  # from the capture: no routing, no MQL


def test_a_lead_touched_with_no_team_counts_the_wall_clock():
    with at(MONDAY_9 + 100 * HOUR):
        lead = LeadFactory(captured_at=MONDAY_9 - timedelta(days=2), status=Lead.Status.WORKING)
        Activity.objects.create(
            lead=lead, kind=ActivityKind.CALL, source=ActivitySource.MANUAL, occurred_at=MONDAY_9
        )
        Activity.objects.create(
            lead=lead, kind=ActivityKind.CALL, source=ActivitySource.API, occurred_at=MONDAY_9 - HOUR
        )
        facts.rebuild()
    f = fact(lead)
    assert f.team_id is None and f.first_touch_at == MONDAY_9  # an API "call" is not a rep's touch
    assert f.response_seconds == f.response_business_seconds == 2 * 24 * 3600


# --- business time ----------------------------------------------------------------------------

BERLIN_CASES = [
    # (routed, touched) in UTC; the Berlin calendar is open 9-17 on weekdays.
    pytest.param(
        datetime(2026, 11, 6, 15, 0, tzinfo=UTC), datetime(2026, 11, 9, 9, 30, tzinfo=UTC), id="weekend"
    ),
    pytest.param(
        datetime(2026, 11, 6, 20, 0, tzinfo=UTC), datetime(2026, 11, 9, 7, 30, tzinfo=UTC), id="all-closed"
    ),
    pytest.param(
        datetime(2026, 12, 23, 15, 0, tzinfo=UTC), datetime(2026, 12, 28, 9, 0, tzinfo=UTC), id="holidays"
    ),
    # Berlin's clocks go back on 25 Oct 2026: Friday 16:30 CEST to Monday 09:30 CET.
    pytest.param(
        datetime(2026, 10, 23, 14, 30, tzinfo=UTC), datetime(2026, 10, 26, 8, 30, tzinfo=UTC), id="dst-back"
    ),
    # And forward on 29 Mar 2026, inside the Sunday night shift added below.
    pytest.param(
        datetime(2026, 3, 28, 23, 30, tzinfo=UTC), datetime(2026, 3, 30, 9, 0, tzinfo=UTC), id="dst-forward"
    ),
    pytest.param(
        datetime(2026, 11, 4, 9, 0, tzinfo=UTC), datetime(2026, 11, 4, 9, 0, 1, tzinfo=UTC), id="one-second"
    ),
    pytest.param(
        datetime(2026, 11, 2, 8, 0, tzinfo=UTC), datetime(2026, 12, 21, 16, 0, tzinfo=UTC), id="seven-weeks"
    ),
]


@pytest.mark.parametrize(("routed", "touched"), BERLIN_CASES)
def test_business_seconds_equal_the_calendar_arithmetic(routing, inbound_sdr, routed, touched):
    calendar = BusinessCalendar.objects.get(name="Berlin office")
    Holiday.objects.bulk_create(
        [Holiday(calendar=calendar, date=date(2026, 12, d), name="Christmas") for d in (24, 25, 26)]
    )
    # A Sunday night shift (00:00-04:00), across the spring-forward gap.
    WorkingHours.objects.create(calendar=calendar, weekday=6, opens=time(0), closes=time(4))
    with at(routed):
        lead = request_a_meeting("buyer@globex.example")
    with at(touched):
        log_touch(lead_id=lead.pk, by=inbound_sdr, kind=ActivityKind.CALL)
        facts.rebuild()

    schedule = Schedule.from_calendar(
        BusinessCalendar.objects.prefetch_related("hours", "holidays").get(pk=calendar.pk)
    )
    f = fact(lead)
    assert f.routed_at == routed
    assert f.response_seconds == round((touched - routed).total_seconds())
    assert f.response_business_seconds == round(business_minutes_between(schedule, routed, touched) * 60)


def test_business_seconds_in_a_calendar_open_to_midnight_across_a_25_hour_day(routing, inbound_sdr):
    """New York, open all day every day but the Thanksgiving holiday: a day is 25 hours when
    the clocks go back (1 Nov 2026), and a holiday counts nothing."""
    calendar = BusinessCalendar.objects.create(name="New York", timezone="America/New_York")
    WorkingHours.objects.bulk_create(
        WorkingHours(calendar=calendar, weekday=d, opens=time(0), closes=time.max) for d in range(7)
    )
    Holiday.objects.create(calendar=calendar, date=date(2026, 11, 26))
    inbound_sdr.team.calendar = calendar
    inbound_sdr.team.save()
    routed, touched = datetime(2026, 10, 31, 12, 0, tzinfo=UTC), datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    with at(routed):
        lead = request_a_meeting("buyer@globex.example")
    with at(touched):
        log_touch(lead_id=lead.pk, by=inbound_sdr, kind=ActivityKind.CALL)
        facts.rebuild()
    expected = (touched - routed).total_seconds() - 24 * 3600  # everything but Thanksgiving
    assert fact(lead).response_business_seconds == expected
    schedule = Schedule.from_calendar(calendar)
    assert expected == business_minutes_between(schedule, routed, touched) * 60


def test_the_spans_kept_between_runs_follow_an_edited_calendar(routing, inbound_sdr):
    """The calendars' spans stay in the connection between runs (an idle refresh does not
    rebuild them), yet a holiday added later counts at the next run, and a longer range
    than the one held is filled in."""
    calendar = BusinessCalendar.objects.get(name="Berlin office")
    routed, touched = datetime(2026, 11, 2, 8, 0, tzinfo=UTC), datetime(2026, 11, 4, 16, 0, tzinfo=UTC)
    with at(routed):
        lead = request_a_meeting("buyer@globex.example")
    with at(touched):
        log_touch(lead_id=lead.pk, by=inbound_sdr, kind=ActivityKind.CALL)
        facts.rebuild()
        assert fact(lead).response_business_seconds == 3 * 8 * 3600  # Monday to Wednesday, 9-17
        with connection.cursor() as cursor:
            assert facts.materialize_spans(cursor, date(2026, 11, 3), date(2026, 11, 4)) == 0  # held

        Holiday.objects.create(calendar=calendar, date=date(2026, 11, 3), name="Closed")
        facts.rebuild()
        assert fact(lead).response_business_seconds == 2 * 8 * 3600  # Tuesday is off now

        with connection.cursor() as cursor:
            assert facts.materialize_spans(cursor, date(2026, 10, 1), date(2026, 11, 4)) > 0  # wider


# --- refreshing -------------------------------------------------------------------------------


@pytest.fixture
def history(routing, inbound_sdr, ae):
    """Four leads, their facts rebuilt at MONDAY_9 + 10 h: A and B routed to Sam, C handed
    off and accepted, D left alone."""
    with at(MONDAY_9):
        leads = {name: request_a_meeting(f"{name}@globex.example") for name in "ABCD"}
    with at(MONDAY_9 + HOUR):
        log_touch(lead_id=leads["C"].pk, by=inbound_sdr, kind=ActivityKind.CALL)
        opportunity = hand_off(
            lead_id=leads["C"].pk, by=inbound_sdr, qualifying=qualifying(), amount=Decimal("100")
        )
        accept_handoff(opportunity_id=opportunity.pk, by=ae)
    with at(MONDAY_9 + 10 * HOUR):
        assert facts.refresh() == 4  # the first run computes everything
    leads["opportunity"] = opportunity
    return leads


def test_refresh_picks_up_each_kind_of_change_and_writes_nothing_else(history, inbound_sdr, ae):
    later = MONDAY_9 + 20 * HOUR
    with at(later):
        log_touch(lead_id=history["A"].pk, by=inbound_sdr, kind=ActivityKind.CALL)  # an activity
        dispose_lead(
            lead_id=history["B"].pk, by=inbound_sdr, to="nurture", reason="Early research"
        )  # an event
        update_opportunity(  # only the opportunity changes: no lead event, no activity
            opportunity_id=history["opportunity"].pk,
            by=ae,
            amount=Decimal("250"),
            close_date=None,
            next_step="",
        )
        log_activity(lead_id=history["D"].pk, kind=ActivityKind.EMAIL_OPEN, via=ActivitySource.API)
        Activity.objects.filter(lead=history["D"]).update(occurred_at=later)  # not a touch: no change to D
        new = LeadFactory(captured_at=later)  # written without any event
        assert facts.refresh() == 4  # A, B, C and the new lead; D is unchanged

    assert fact(history["A"]).first_touch_at == later
    assert (fact(history["B"]).closed_out_at, fact(history["B"]).close_out_reason) == (
        later,
        "Early research",
    )
    assert fact(history["C"]).accepted_amount == Decimal("250")
    assert fact(new).captured_at == later
    assert fact(history["D"]).refreshed_at == MONDAY_9 + 10 * HOUR
    assert {lead: fact(history[lead]).refreshed_at for lead in "ABC"} == dict.fromkeys("ABC", later)

    with at(later + HOUR):
        assert facts.refresh() == 0  # idempotent: nothing changed since
        snapshot = values()
        assert facts.rebuild() == 0  # the incremental facts are exactly the full computation
    assert values() == snapshot


def test_a_breached_first_touch_is_flagged_by_the_next_refresh(history):
    """The breach sweep writes no lead event: the refresh follows the breaches themselves, so
    the speed diagnosis (which counts the flag) sees a breach within a run."""
    from work.models import Breach, WorkItem
    from work.services import sweep_breaches

    later = MONDAY_9 + 20 * HOUR
    with at(later):
        assert sweep_breaches(now=later).breached > 0
        breached = set(
            WorkItem.objects.filter(kind=WorkItem.Kind.FIRST_TOUCH, breach__isnull=False).values_list(
                "object_id", flat=True
            )
        )
        assert breached == {history[name].pk for name in "ABD"}  # C was touched in time
        assert facts.refresh() == 3
    assert (
        set(LeadFact.objects.filter(first_touch_breached=True).values_list("lead_id", flat=True)) == breached
    )
    assert (
        Breach.objects.count() == 3
        and RefreshState.objects.get().breach_id
        == Breach.objects.order_by("-id").values_list("id", flat=True).first()
    )
    with at(later + HOUR):
        assert facts.refresh() == 0
        assert facts.rebuild() == 0  # the incremental flag is the full computation's


def test_refresh_sees_a_change_committed_behind_the_watermark(history, inbound_sdr):
    """A transaction that took a lower id but committed after the last run: the overlap
    re-checks it."""
    state = RefreshState.objects.get()
    with at(MONDAY_9 + 20 * HOUR):
        log_touch(lead_id=history["A"].pk, by=inbound_sdr, kind=ActivityKind.CALL)
        touch = Activity.objects.filter(lead=history["A"], kind=ActivityKind.CALL).get()
        # As if the run had already seen ids past this touch's (and events'):
        RefreshState.objects.update(activity_id=touch.pk + 10, event_id=state.event_id + 500)
        assert facts.refresh() == 1
    assert fact(history["A"]).first_touch_at == MONDAY_9 + 20 * HOUR


def test_an_opportunity_change_is_seen_for_five_minutes_behind_the_last_run(history, ae):
    with at(MONDAY_9 + 20 * HOUR):
        update_opportunity(
            opportunity_id=history["opportunity"].pk,
            by=ae,
            amount=Decimal("7"),
            close_date=None,
            next_step="",
        )
    with at(MONDAY_9 + 20 * HOUR + timedelta(minutes=4)):
        RefreshState.objects.update(opportunity_at=MONDAY_9 + 20 * HOUR + timedelta(minutes=4))
        assert facts.refresh() == 1
    assert fact(history["C"]).accepted_amount == Decimal("7")


def test_rebuild_drops_the_facts_of_deleted_leads_and_the_orm_cascade_does_too(history):
    with at(MONDAY_9 + 20 * HOUR):
        Lead.objects.filter(pk=history["A"].pk).delete()
        with connection.cursor() as cursor:  # a raw delete: no cascade
            cursor.execute("DELETE FROM leads_activity WHERE lead_id = %s", [history["B"].pk])
            cursor.execute("DELETE FROM leads_leadevent WHERE lead_id = %s", [history["B"].pk])
            cursor.execute("DELETE FROM leads_lead WHERE id = %s", [history["B"].pk])
        assert not LeadFact.objects.filter(lead_id=history["A"].pk).exists()
        assert facts.rebuild() == 1
    assert set(LeadFact.objects.values_list("lead_id", flat=True)) == {history["C"].pk, history["D"].pk}


def test_the_command_and_the_tasks(history, inbound_sdr):
    with at(MONDAY_9 + 20 * HOUR):
        LeadFact.objects.filter(lead_id=history["D"].pk).update(status="drifted")
        out = StringIO()
        call_command("insight_refresh", "--full", stdout=out)
        assert "1 lead fact written" in out.getvalue()
        log_touch(lead_id=history["A"].pk, by=inbound_sdr, kind=ActivityKind.CALL)
        out = StringIO()
        call_command("insight_refresh", stdout=out)
        assert "1 lead fact written" in out.getvalue()
        assert tasks.refresh_facts() == 0
        assert tasks.rebuild_facts() == 0
    assert fact(history["D"]).status == Lead.Status.MQL
    state = RefreshState.objects.get()
    assert state.rebuilt_at == state.incremental_at == MONDAY_9 + 20 * HOUR


def test_facts_sql_for_computes_the_same_rows_without_writing(history):
    with at(MONDAY_9 + 20 * HOUR):
        sql, params = facts.facts_sql_for(Lead.objects.filter(pk=history["C"].pk).values("id"))
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT lead_id, handed_off_at, accepted_amount FROM ({sql}) AS f", params)
            rows = cursor.fetchall()
    assert len(rows) == 1 and rows[0][0] == history["C"].pk
    assert Decimal(str(rows[0][2])) == Decimal("100")


# --- changes that leave no event of their own: a campaign, a re-score, the admin --------------

# What a refresh with nothing to do sends (the run's state and watermarks, the targets and the
# days they need, the calendars' spans it keeps, the upsert, the state saved, the savepoint
# of the test's transaction around it): following campaigns, re-scores and admin edits adds
# no statement.
IDLE_REFRESH_STATEMENTS = 16


@pytest.fixture
def no_overlap(monkeypatch):
    """At scale the refresh's overlap re-checks a sliver of the leads behind the watermarks;
    among the few leads of a test it re-checks them all, which would hide a change the
    refresh does not follow."""
    monkeypatch.setattr(facts.watermarks, "ID_OVERLAP", 0)  # where the refresh reads it


@pytest.fixture
def ops_client(client):
    client.force_login(UserFactory(username="ops", role="marketing", is_staff=True, is_superuser=True))
    return client


def campaign_form(campaign: Campaign, **changes) -> dict:
    return {
        "name": campaign.name,
        "channel": campaign.channel,
        "cost": str(campaign.cost),
        "starts_on": "2026-10-01",  # a costed campaign needs its run
        "ends_on": "2026-12-31",
        "is_active": "on",
        "created_at_0": campaign.created_at.date().isoformat(),
        "created_at_1": campaign.created_at.time().isoformat(),
    } | changes


def lead_form(lead: Lead, **changes) -> dict:
    """The lead admin's change form as it posts the lead unchanged, then ``changes``."""
    lead.refresh_from_db()
    texts = ("email", "first_name", "last_name", "company", "title", "seniority", "industry", "country")
    data = {name: getattr(lead, name) for name in (*texts, "phone", "source", "status", "status_reason")}
    data |= {name: getattr(lead, name) for name in ("rating", "external_id", "external_status")}
    data |= {
        "campaign": lead.campaign_id or "",
        "owner": lead.owner_id or "",
        "team": lead.team_id or "",
        "employees": lead.employees or "",
        "annual_revenue": lead.annual_revenue or "",
        "external_created_at_0": "",
        "external_created_at_1": "",
    }
    if lead.hand_raiser:
        data["hand_raiser"] = "on"
    return data | changes


def test_a_campaigns_new_channel_reaches_its_leads_facts_at_the_next_refresh(
    no_overlap, history, campaign, ops_client
):
    """A campaign edited in the admin writes no lead event; the refresh follows the campaigns
    edited since its last run and recomputes their leads whose channel is stale, and only
    those: an edit of the cost recomputes nobody, nor does re-checking a recent edit."""
    with at(MONDAY_9 + 11 * HOUR):
        Lead.objects.filter(pk__in=[history["A"].pk, history["B"].pk]).update(campaign=campaign)
        assert facts.rebuild() == 2
    assert {fact(history[name]).channel for name in "AB"} == {"paid_search"}

    url = f"/admin/leads/campaign/{campaign.pk}/change/"
    with at(MONDAY_9 + 20 * HOUR):
        assert ops_client.post(url, campaign_form(campaign, cost="2500.00")).status_code == 302
        assert facts.refresh() == 0  # a cost is no column of the facts
    with at(MONDAY_9 + 21 * HOUR):
        assert ops_client.post(url, campaign_form(campaign, channel="email")).status_code == 302
        assert facts.refresh() == 2
    assert {name: fact(history[name]).channel for name in "ABC"} == {"A": "email", "B": "email", "C": ""}
    assert fact(history["A"]).refreshed_at == MONDAY_9 + 21 * HOUR

    with at(MONDAY_9 + 21 * HOUR + timedelta(minutes=1)):
        assert facts.refresh() == 0  # the edit is re-checked (late commits), nothing is stale
        assert facts.rebuild() == 0  # and the incremental facts are the full computation


def test_a_profile_edited_in_the_admin_regrades_the_facts_at_the_next_refresh(
    no_overlap, history, profile, ops_client, settings, django_capture_on_commit_callbacks
):
    """The admin re-scores every lead in one set-based pass and writes no lead event of its
    own; the re-score records each grade it moves on the lead's timeline, which the refresh
    follows: the fit-grade filter is right within a minute, not after the nightly rebuild."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    Lead.objects.filter(pk=history["B"].pk).update(industry="Retail")
    assert {fact(history[name]).fit_grade for name in "ABCD"} == {"D"}
    criteria = list(profile.criteria.order_by("-points", "id"))
    data = {
        "name": profile.name,
        "is_active": "on",
        "criteria-TOTAL_FORMS": str(len(criteria)),
        "criteria-INITIAL_FORMS": str(len(criteria)),
        "criteria-MIN_NUM_FORMS": "0",
        "criteria-MAX_NUM_FORMS": "1000",
    }
    for i, c in enumerate(criteria):
        values = "Retail" if c.field == "industry" else c.values
        data |= {
            f"criteria-{i}-id": c.pk,
            f"criteria-{i}-profile": profile.pk,
            f"criteria-{i}-field": c.field,
            f"criteria-{i}-values": values,
            f"criteria-{i}-minimum": c.minimum or "",
            f"criteria-{i}-maximum": c.maximum or "",
            f"criteria-{i}-points": c.points,
        }

    with at(MONDAY_9 + 20 * HOUR):
        with django_capture_on_commit_callbacks(execute=True):
            response = ops_client.post(f"/admin/leads/idealcustomerprofile/{profile.pk}/change/", data)
        assert response.status_code == 302
        assert facts.refresh() == 1  # B alone: nobody else's grade moved
    assert {name: fact(history[name]).fit_grade for name in "ABCD"} == {
        "A": "D",
        "B": "C",
        "C": "D",
        "D": "D",
    }
    event = LeadEvent.objects.get(lead=history["B"], kind=LeadEvent.Kind.UPDATED)
    assert event.message == "Fit grade D → C: the ideal-customer profile changed."

    with at(MONDAY_9 + 21 * HOUR):
        assert facts.refresh() == 0
        assert facts.rebuild() == 0


def test_a_lead_edited_in_the_admin_reaches_its_fact_at_the_next_refresh(
    no_overlap, history, outbound_sdr, ops_client
):
    """Ops moves lead A to Tom of the Outbound team in the admin: the edit is on A's timeline
    (who, what, from and to), A's open first-touch item goes to Tom, and the next refresh
    credits Tom and his team in the facts."""
    lead = history["A"]
    with at(MONDAY_9 + 20 * HOUR):
        response = ops_client.post(
            f"/admin/leads/lead/{lead.pk}/change/",
            lead_form(lead, owner=outbound_sdr.pk, team=outbound_sdr.team_id),
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        assert facts.refresh() == 1
    f = fact(lead)
    assert (f.sdr_id, f.team_id) == (outbound_sdr.pk, outbound_sdr.team_id)
    event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.UPDATED)
    assert (event.actor.username, event.at) == ("ops", MONDAY_9 + 20 * HOUR)
    assert event.message == f"Owner: {lead.owner} → {outbound_sdr}; Team: Inbound EMEA → Outbound"
    item = WorkItem.objects.open().get(object_id=lead.pk, kind=WorkItem.Kind.FIRST_TOUCH)
    assert (item.owner_id, item.team_id) == (outbound_sdr.pk, outbound_sdr.team_id)

    with at(MONDAY_9 + 21 * HOUR):
        assert facts.refresh() == 0
        assert facts.rebuild() == 0


def test_a_status_edited_in_the_admin_moves_through_the_lifecycle(no_overlap, history, ops_client):
    """A status set by hand is a lifecycle move: disqualifying B in the admin records the
    close-out the funnel counts and closes B's first-touch item; a move the lifecycle does
    not allow is refused on the form and changes nothing."""
    url = f"/admin/leads/lead/{history['B'].pk}/change/"
    with at(MONDAY_9 + 20 * HOUR):
        response = ops_client.post(url, lead_form(history["B"], status="won"))
        assert response.status_code == 200
        assert "cannot move to Won" in str(response.context["adminform"].form.errors["status"])
        assert facts.refresh() == 0

        assert ops_client.post(url, lead_form(history["B"], status="disqualified")).status_code == 302
        assert facts.refresh() == 1
    f = fact(history["B"])
    assert (f.status, f.closed_out_at, f.close_out_status) == (
        "disqualified",
        MONDAY_9 + 20 * HOUR,
        "disqualified",
    )
    assert not WorkItem.objects.open().filter(object_id=history["B"].pk).exists()
    assert (
        history["B"].events.get(kind=LeadEvent.Kind.STATUS, to_status="disqualified").actor.username == "ops"
    )


def test_an_idle_refresh_writes_nothing_in_the_same_statements(history, campaign, django_assert_num_queries):
    with at(MONDAY_9 + 20 * HOUR):
        campaign.save()  # edited a minute ago: re-checked by the next runs, stale for nobody
        facts.refresh()
        snapshot = values()
    with at(MONDAY_9 + 20 * HOUR + timedelta(minutes=1)), django_assert_num_queries(IDLE_REFRESH_STATEMENTS):
        assert facts.refresh() == 0
    assert values() == snapshot
    assert set(LeadFact.objects.values_list("refreshed_at", flat=True)) == {MONDAY_9 + 10 * HOUR}
