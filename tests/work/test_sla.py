"""SLA timers: when they start, when they are due in the owner's calendar, when they stop."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from leads.models import Lead
from leads.services import capture_lead, transition_lead
from sdr.services import SdrError, dispose_lead, log_touch, set_follow_up
from tests.factories import CalendarFactory, TeamFactory, UserFactory, first_touch, routed_lead
from work.models import SlaPolicy, WorkItem

BERLIN_FRIDAY_18 = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)  # Friday 18:00 in Berlin (CET)


def hand_raiser_at(at, email="p@x.example", **details):
    with time_machine.travel(at, tick=False):
        return capture_lead(email=email, details=details, via="api", hand_raiser=True).lead


@pytest.mark.django_db
def test_the_timer_starts_when_the_lead_is_routed(catch_all_rule, inbound_sdr):
    tuesday_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    lead = hand_raiser_at(tuesday_10)
    item = first_touch(lead)
    assert item.owner == inbound_sdr and item.created_at == tuesday_10
    assert item.policy.key == SlaPolicy.FIRST_TOUCH_HAND_RAISER
    assert item.due_at == tuesday_10 + timedelta(minutes=15)
    assert item.sla_state(tuesday_10) == "at_risk"  # due within the hour


@pytest.mark.django_db
def test_a_lead_arriving_on_friday_evening_is_due_on_monday_morning(catch_all_rule, inbound_sdr):
    lead = hand_raiser_at(BERLIN_FRIDAY_18)
    # Monday 30 Nov 09:15 in Berlin = 08:15 UTC.
    assert first_touch(lead).due_at == datetime(2026, 11, 30, 8, 15, tzinfo=UTC)


@pytest.mark.django_db
def test_an_mql_gets_four_business_hours_spanning_the_weekend(catch_all_rule, inbound_sdr):
    friday_16 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # one business hour left on Friday
    with time_machine.travel(friday_16, tick=False):
        lead = routed_lead(inbound_sdr)
    # 1 hour on Friday, 3 on Monday: Monday 12:00 Berlin = 11:00 UTC.
    assert first_touch(lead).due_at == datetime(2026, 11, 30, 11, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_the_due_time_is_computed_in_the_owners_team_calendar(catch_all_rule):
    new_york = TeamFactory(
        name="Inbound Americas", calendar=CalendarFactory(name="NY", timezone="America/New_York")
    )
    rep = UserFactory(username="nyc", team=new_york)
    friday_18_berlin = BERLIN_FRIDAY_18  # = 12:00 in New York, still a working day there
    with time_machine.travel(friday_18_berlin, tick=False):
        lead = routed_lead(rep, hand_raiser=True)
    assert first_touch(lead).due_at == friday_18_berlin + timedelta(minutes=15)


@pytest.mark.django_db
def test_spring_forward_week_counts_real_business_hours(inbound_sdr):
    friday_16_cet = datetime(2026, 3, 27, 15, 0, tzinfo=UTC)  # clocks go forward on Sunday 29 March
    with time_machine.travel(friday_16_cet, tick=False):
        lead = routed_lead(inbound_sdr)
    # 1 hour Friday (CET), 3 hours Monday 30 March 09:00-12:00 CEST = 10:00 UTC.
    assert first_touch(lead).due_at == datetime(2026, 3, 30, 10, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_fall_back_week_counts_real_business_hours(inbound_sdr):
    friday_1630_cest = datetime(2026, 10, 23, 14, 30, tzinfo=UTC)  # clocks go back on Sunday 25 October
    with time_machine.travel(friday_1630_cest, tick=False):
        lead = routed_lead(inbound_sdr)
    # 30 minutes Friday (CEST), 3.5 hours Monday 26 October 09:00-12:30 CET = 11:30 UTC.
    assert first_touch(lead).due_at == datetime(2026, 10, 26, 11, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_a_wall_clock_policy_ignores_business_hours(catch_all_rule, inbound_sdr):
    SlaPolicy.objects.filter(key=SlaPolicy.FIRST_TOUCH_HAND_RAISER).update(mode=SlaPolicy.Mode.WALL_CLOCK)
    lead = hand_raiser_at(BERLIN_FRIDAY_18)
    assert first_touch(lead).due_at == BERLIN_FRIDAY_18 + timedelta(minutes=15)


@pytest.mark.django_db
def test_an_edited_policy_applies_to_new_timers_only(catch_all_rule, inbound_sdr):
    tuesday_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    before = hand_raiser_at(tuesday_10, email="before@x.example")
    SlaPolicy.objects.filter(key=SlaPolicy.FIRST_TOUCH_HAND_RAISER).update(target_minutes=5)
    after = hand_raiser_at(tuesday_10, email="after@x.example")
    assert first_touch(before).due_at == tuesday_10 + timedelta(minutes=15)
    assert first_touch(after).due_at == tuesday_10 + timedelta(minutes=5)


@pytest.mark.django_db
def test_the_first_touch_stops_the_timer_and_the_sla_shows_met(catch_all_rule, inbound_sdr):
    tuesday_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    lead = hand_raiser_at(tuesday_10)
    with time_machine.travel(tuesday_10 + timedelta(minutes=7), tick=False):
        result = log_touch(
            lead_id=lead.pk, by=inbound_sdr, kind="call", outcome="connected", note="Booked a demo"
        )

    assert result.lead.status == Lead.Status.WORKING
    item = first_touch(lead)
    assert item.state == WorkItem.State.DONE and item.completed_by == inbound_sdr
    assert item.met_sla is True and item.sla_state() == "met"
    activity = lead.activities.get(kind="call")
    assert (
        activity.outcome == "connected" and activity.note == "Booked a demo" and activity.actor == inbound_sdr
    )


@pytest.mark.django_db
def test_a_touch_after_the_due_time_stops_the_timer_late(catch_all_rule, inbound_sdr):
    tuesday_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    lead = hand_raiser_at(tuesday_10)
    with time_machine.travel(tuesday_10 + timedelta(minutes=40), tick=False):
        log_touch(lead_id=lead.pk, by=inbound_sdr, kind="email")
    assert first_touch(lead).sla_state() == "late"


@pytest.mark.django_db
def test_touches_are_refused_for_leads_not_in_a_queue(inbound_sdr):
    lead = routed_lead(inbound_sdr)
    transition_lead(lead_id=lead.pk, to=Lead.Status.NURTURE, reason="test")
    with pytest.raises(SdrError):
        log_touch(lead_id=lead.pk, by=inbound_sdr, kind="call")
    with pytest.raises(SdrError):
        log_touch(lead_id=lead.pk, by=inbound_sdr, kind="download")  # not a touch
    assert not lead.activities.exists()


@pytest.mark.django_db
def test_a_follow_up_is_a_work_item_and_a_touch_completes_it_when_due(inbound_sdr):
    tuesday_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    with time_machine.travel(tuesday_10, tick=False):
        lead = routed_lead(inbound_sdr)
        log_touch(lead_id=lead.pk, by=inbound_sdr, kind="voicemail")
        item = set_follow_up(
            lead_id=lead.pk, by=inbound_sdr, due_at=tuesday_10 + timedelta(days=1), note="Call back"
        )
        with pytest.raises(SdrError):
            set_follow_up(lead_id=lead.pk, by=inbound_sdr, due_at=tuesday_10 - timedelta(minutes=1))
    assert item.kind == WorkItem.Kind.FOLLOW_UP and item.owner == inbound_sdr and item.policy is None
    assert lead.events.filter(kind="follow_up", message__contains="Call back").exists()

    with time_machine.travel(tuesday_10 + timedelta(hours=2), tick=False):
        log_touch(lead_id=lead.pk, by=inbound_sdr, kind="email")  # before the follow-up is due
    item.refresh_from_db()
    assert item.state == WorkItem.State.OPEN
    with time_machine.travel(tuesday_10 + timedelta(days=1, minutes=5), tick=False):
        log_touch(lead_id=lead.pk, by=inbound_sdr, kind="call")
    item.refresh_from_db()
    assert item.state == WorkItem.State.DONE


@pytest.mark.django_db
def test_a_new_follow_up_replaces_the_one_not_yet_done(inbound_sdr):
    lead = routed_lead(inbound_sdr)
    now = datetime.now(UTC)
    set_follow_up(lead_id=lead.pk, by=inbound_sdr, due_at=now + timedelta(days=1))
    set_follow_up(lead_id=lead.pk, by=inbound_sdr, due_at=now + timedelta(days=2))
    open_follow_ups = WorkItem.objects.open().for_subject(lead).filter(kind=WorkItem.Kind.FOLLOW_UP)
    assert [i.due_at.date() for i in open_follow_ups] == [(now + timedelta(days=2)).date()]


@pytest.mark.django_db
@pytest.mark.parametrize("to", [Lead.Status.NURTURE, Lead.Status.DISQUALIFIED])
def test_a_disposition_closes_the_leads_work_and_gives_it_back(inbound_sdr, to):
    lead = routed_lead(inbound_sdr)
    reason = "No budget yet" if to == Lead.Status.NURTURE else "Competitor"
    dispose_lead(lead_id=lead.pk, by=inbound_sdr, to=to, reason=reason, note="Revisit in Q3")

    lead.refresh_from_db()
    assert lead.status == to and lead.team is None
    assert not WorkItem.objects.open().for_subject(lead).exists()
    assert first_touch(lead).state == WorkItem.State.CANCELLED
    event = lead.events.get(kind="status", to_status=to)
    assert event.message == f"{reason}: Revisit in Q3" and event.actor == inbound_sdr


@pytest.mark.django_db
def test_a_disposition_needs_a_listed_reason(inbound_sdr):
    lead = routed_lead(inbound_sdr)
    with pytest.raises(SdrError):
        dispose_lead(lead_id=lead.pk, by=inbound_sdr, to=Lead.Status.DISQUALIFIED, reason="")
    with pytest.raises(SdrError):
        dispose_lead(lead_id=lead.pk, by=inbound_sdr, to=Lead.Status.WON, reason="Other")
    lead.refresh_from_db()
    assert lead.status == Lead.Status.MQL
    assert first_touch(lead).state == WorkItem.State.OPEN


@pytest.mark.django_db
def test_a_prospect_in_the_queue_who_asks_for_a_call_gets_the_tighter_timer(inbound_sdr):
    from leads.services import log_activity

    tuesday_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    lead = routed_lead(inbound_sdr, now=tuesday_10)
    assert first_touch(lead).due_at == tuesday_10 + timedelta(hours=4)
    with time_machine.travel(tuesday_10 + timedelta(minutes=30), tick=False):
        log_activity(lead_id=lead.pk, kind="meeting_request")
    item = first_touch(lead)
    assert item.policy.key == SlaPolicy.FIRST_TOUCH_HAND_RAISER
    assert item.due_at == tuesday_10 + timedelta(minutes=45)
    assert item.title == "Asked for a call"


@pytest.mark.django_db
def test_a_repeat_form_fill_asking_for_a_call_tightens_the_timer_too(catch_all_rule, inbound_sdr):
    tuesday_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    lead = routed_lead(inbound_sdr, now=tuesday_10, email="again@x.example")
    hand_raiser_at(tuesday_10 + timedelta(minutes=10), email="again@x.example")
    assert first_touch(lead).due_at == tuesday_10 + timedelta(minutes=25)


@pytest.mark.django_db
def test_a_rep_cannot_work_a_lead_reassigned_away_from_them(inbound_sdr, other_sdr, manager):
    from sdr.services import reassign_leads

    lead = routed_lead(inbound_sdr)
    reassign_leads(lead_ids=[lead.pk], to=other_sdr, by=manager, reason="Cover")
    with pytest.raises(SdrError, match="no longer in your queue"):
        log_touch(lead_id=lead.pk, by=inbound_sdr, kind="call")
    with pytest.raises(SdrError):
        set_follow_up(lead_id=lead.pk, by=inbound_sdr, due_at=datetime.now(UTC) + timedelta(days=1))
    with pytest.raises(SdrError):
        dispose_lead(lead_id=lead.pk, by=inbound_sdr, to=Lead.Status.NURTURE, reason="Other")
    lead.refresh_from_db()
    assert lead.status == Lead.Status.MQL and not lead.activities.exists()


@pytest.mark.django_db
def test_a_lead_in_the_unassigned_queue_is_assigned_before_it_is_worked(manager):
    lead = routed_lead(None, team=manager.team)
    with pytest.raises(SdrError, match="assign it to a rep first"):
        log_touch(lead_id=lead.pk, by=manager, kind="call")
    with pytest.raises(SdrError, match="assign it to a rep first"):
        set_follow_up(lead_id=lead.pk, by=manager, due_at=datetime.now(UTC) + timedelta(days=1))
    assert not WorkItem.objects.filter(owner=manager).exists()


@pytest.mark.django_db
def test_reassigning_when_nobody_else_can_take_it_records_nothing(manager):
    from sdr.services import reassign_leads

    lead = routed_lead(None, team=manager.team)  # the team has no SDR
    assert reassign_leads(lead_ids=[lead.pk], to=None, by=manager, reason="Try again") == {}
    assert not lead.events.filter(kind="reassigned").exists()
