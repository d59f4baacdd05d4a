"""Routing: territory rules pick a team, a locked round-robin picks a rep, and the first-touch
timer starts in the same transaction."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from leads.models import Lead, LeadEvent
from leads.services import capture_lead, log_activity, sweep_engagement_thresholds
from sdr.models import TerritoryRule
from sdr.services import reassign_leads, reassign_queue, route_leads, route_waiting_leads
from team.models import Role
from tests.concurrency import run_concurrently
from tests.factories import CalendarFactory, LeadFactory, TeamFactory, UserFactory, raise_hand
from work.models import SlaPolicy, WorkItem

# A Tuesday, 10:00 in Berlin: inside business hours.
TUESDAY_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def reps(n, team=None, **kwargs):
    team = team or TeamFactory()
    return [UserFactory(username=f"rep{i}", team=team, **kwargs) for i in range(n)]


def owners_of(leads):
    return [Lead.objects.get(pk=lead.pk).owner for lead in leads]


@pytest.mark.django_db
def test_round_robin_deals_in_turn_and_evenly(catch_all_rule):
    team_reps = reps(3)
    with time_machine.travel(TUESDAY_10, tick=False):
        leads = [raise_hand(f"p{i}@x.example") for i in range(9)]

    owners = owners_of(leads)
    assert owners[:3] == team_reps  # in turn, lowest id first
    assert owners[3:6] == team_reps
    assert Counter(owners) == dict.fromkeys(team_reps, 3)


@pytest.mark.django_db
def test_the_round_robin_position_survives_between_routings(catch_all_rule):
    a, b = reps(2)
    with time_machine.travel(TUESDAY_10, tick=False):
        first = raise_hand("one@x.example")
        second = raise_hand("two@x.example")
        third = raise_hand("three@x.example")
    assert owners_of([first, second, third]) == [a, b, a]


@pytest.mark.django_db
def test_reps_at_capacity_and_away_reps_are_skipped(catch_all_rule):
    full, away, free = reps(3)
    full.capacity = 1
    full.save()
    LeadFactory(owner=full, team=full.team, status=Lead.Status.WORKING)  # full's one open lead
    away.is_away = True
    away.save()

    with time_machine.travel(TUESDAY_10, tick=False):
        leads = [raise_hand(f"p{i}@x.example") for i in range(3)]
    assert owners_of(leads) == [free, free, free]


@pytest.mark.django_db
def test_closed_leads_do_not_count_against_capacity(catch_all_rule):
    [rep] = reps(1, capacity=1)
    LeadFactory(owner=rep, team=rep.team, status=Lead.Status.DISQUALIFIED)
    LeadFactory(owner=rep, team=rep.team, status=Lead.Status.NURTURE)
    with time_machine.travel(TUESDAY_10, tick=False):
        lead = raise_hand("p@x.example")
    assert owners_of([lead]) == [rep]


@pytest.mark.django_db
def test_aes_and_managers_in_an_sdr_team_never_receive_leads(catch_all_rule):
    team = TeamFactory()
    UserFactory(username="ae", role=Role.AE, team=team)
    UserFactory(username="boss", role=Role.MANAGER, team=team)
    [sdr] = reps(1, team=team)
    with time_machine.travel(TUESDAY_10, tick=False):
        leads = [raise_hand(f"p{i}@x.example") for i in range(3)]
    assert set(owners_of(leads)) == {sdr}


@pytest.mark.django_db
def test_when_nobody_can_take_a_lead_it_waits_in_the_team_queue_with_its_timer_running(catch_all_rule):
    [rep] = reps(1)
    rep.is_away = True
    rep.save()
    with time_machine.travel(TUESDAY_10, tick=False):
        lead = raise_hand("waiting@x.example")

    lead.refresh_from_db()
    assert lead.owner is None and lead.team == catch_all_rule.team
    item = WorkItem.objects.for_subject(lead).get()
    assert item.owner is None and item.team == catch_all_rule.team
    assert item.due_at == TUESDAY_10 + timedelta(minutes=15)
    assert "unassigned queue" in lead.events.get(kind=LeadEvent.Kind.ROUTED).message

    rep.is_away = False
    rep.save()
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=5), tick=False):
        result = route_waiting_leads()
    assert result.assigned == {lead.pk: rep.pk}
    item.refresh_from_db()
    assert item.owner == rep
    assert item.due_at == TUESDAY_10 + timedelta(minutes=15)  # the promise made to the prospect stands
    assert WorkItem.objects.for_subject(lead).count() == 1


@pytest.mark.django_db
def test_territory_rules_pick_the_team_in_order():
    emea = TeamFactory(name="EMEA")
    americas = TeamFactory(name="Americas", calendar=CalendarFactory(name="NY", timezone="America/New_York"))
    [emea_rep] = reps(1, team=emea)
    americas_rep = UserFactory(username="us-rep", team=americas)
    TerritoryRule.objects.create(
        name="Big DACH fintech",
        team=americas,
        position=1,
        countries=["DE"],
        industries=["fintech"],
        min_employees=1000,
    )
    TerritoryRule.objects.create(name="DACH", team=emea, position=2, countries=["DE", "AT", "CH"])
    TerritoryRule.objects.create(name="Rest", team=americas, position=3)

    with time_machine.travel(TUESDAY_10, tick=False):
        dach = raise_hand("a@x.example", country="AT")
        big = raise_hand("b@x.example", country="DE", industry="FinTech", employees=5000)
        small = raise_hand("c@x.example", country="DE", industry="Fintech", employees=50)
        us = raise_hand("d@x.example", country="US")

    assert owners_of([dach, big, small, us]) == [emea_rep, americas_rep, emea_rep, americas_rep]
    assert "by rule “DACH”" in dach.events.get(kind="routed").message


@pytest.mark.django_db
def test_a_lead_no_rule_matches_waits_unrouted_and_is_routed_once_a_rule_exists():
    [rep] = reps(1)
    TerritoryRule.objects.create(name="US only", team=rep.team, countries=["US"])
    with time_machine.travel(TUESDAY_10, tick=False):
        lead = raise_hand("fr@x.example", country="FR")
    lead.refresh_from_db()
    assert lead.status == Lead.Status.MQL and lead.team is None and lead.owner is None
    assert not WorkItem.objects.exists()

    TerritoryRule.objects.create(name="Everything else", team=rep.team, position=1000)
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=1), tick=False):
        route_waiting_leads()
    lead.refresh_from_db()
    assert lead.owner == rep
    assert WorkItem.objects.for_subject(lead).get().due_at == TUESDAY_10 + timedelta(minutes=16)


@pytest.mark.django_db
def test_outbound_sdrs_get_inbound_leads_only_when_a_rule_says_so(catch_all_rule, outbound_sdr):
    [inbound] = reps(1)
    with time_machine.travel(TUESDAY_10, tick=False):
        first = raise_hand("a@x.example", country="GB")
    assert owners_of([first]) == [inbound]

    TerritoryRule.objects.create(name="UK to outbound", team=outbound_sdr.team, countries=["GB"], position=1)
    with time_machine.travel(TUESDAY_10, tick=False):
        second = raise_hand("b@x.example", country="GB")
    assert owners_of([second]) == [outbound_sdr]


@pytest.mark.django_db
def test_a_rule_may_name_only_sdr_ae_or_am_teams(ae, am):
    rule = TerritoryRule(name="Handoffs", team=ae.team, countries=["de", " us"])
    rule.full_clean()  # a team of AEs: the rule picks AEs for handoffs
    assert rule.countries == ["DE", "US"]
    TerritoryRule(name="Customers", team=am.team).full_clean()  # picks AMs for new customers
    with pytest.raises(ValidationError) as error:
        TerritoryRule(name="Wrong", team=TeamFactory(name="Marketing", kind="marketing")).full_clean()
    assert "not to this team" in str(error.value)
    with pytest.raises(ValidationError):
        TerritoryRule(name="Bad", team=TeamFactory(), countries=["Germany"]).full_clean()


@pytest.mark.django_db
def test_a_rule_naming_ae_team_never_routes_leads(ae):
    TerritoryRule.objects.create(name="AEs first", team=ae.team, position=1)
    inbound = UserFactory(username="in1", team=TeamFactory())
    TerritoryRule.objects.create(name="Everything", team=inbound.team, position=10)
    with time_machine.travel(TUESDAY_10, tick=False):
        lead = raise_hand("c@x.example", country="DE")
    assert owners_of([lead]) == [inbound]


@pytest.mark.django_db
def test_an_mql_from_activity_is_routed_at_once_and_an_mql_from_the_sweep_by_the_routing_sweep(
    catch_all_rule,
):
    [rep] = reps(1)
    with time_machine.travel(TUESDAY_10, tick=False):
        lead = capture_lead(email="warm@x.example", details={}, via="api").lead
        assert lead.status == Lead.Status.NURTURE
        log_activity(lead_id=lead.pk, kind="meeting_request")  # asks for a call
    lead.refresh_from_db()
    assert lead.owner == rep and lead.hand_raiser
    assert WorkItem.objects.for_subject(lead).get().policy.key == SlaPolicy.FIRST_TOUCH_HAND_RAISER

    swept = LeadFactory(status=Lead.Status.NURTURE, engagement_key=1e6)  # far over the threshold
    sweep_engagement_thresholds()
    swept.refresh_from_db()
    assert swept.status == Lead.Status.MQL and swept.owner is None
    route_waiting_leads()
    swept.refresh_from_db()
    assert swept.owner == rep
    assert WorkItem.objects.for_subject(swept).get().policy.key == SlaPolicy.FIRST_TOUCH_MQL


@pytest.mark.django_db
def test_routing_twice_changes_nothing(catch_all_rule):
    reps(2)
    with time_machine.travel(TUESDAY_10, tick=False):
        lead = raise_hand("p@x.example")
        owner = owners_of([lead])[0]
        assert route_leads(lead_ids=[lead.pk]).assigned == {}
        route_waiting_leads()
    assert owners_of([lead]) == [owner]
    assert WorkItem.objects.count() == 1
    assert lead.events.filter(kind="routed").count() == 1


@pytest.mark.django_db(transaction=True)
def test_leads_routed_at_the_same_instant_never_share_a_slot(catch_all_rule):
    assert connection.vendor == "postgresql", "race tests need real PostgreSQL transactions"
    from sdr.services import first_touch_policies

    first_touch_policies()
    team_reps = reps(4)
    leads = [LeadFactory(status=Lead.Status.MQL, mql_at=TUESDAY_10, hand_raiser=True) for _ in range(8)]

    outcomes = run_concurrently(*[lambda lead=lead: route_leads(lead_ids=[lead.pk]) for lead in leads])

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert Counter(owners_of(leads)) == dict.fromkeys(team_reps, 2)
    assert WorkItem.objects.count() == 8


@pytest.mark.django_db
def test_a_manager_reassigns_a_lead_with_the_reason_on_its_timeline(manager, inbound_sdr, other_sdr):
    from tests.factories import routed_lead

    lead = routed_lead(inbound_sdr, now=TUESDAY_10)
    due = WorkItem.objects.for_subject(lead).get().due_at
    reassign_leads(lead_ids=[lead.pk], to=other_sdr, by=manager, reason="Sam is at a conference")

    lead.refresh_from_db()
    assert lead.owner == other_sdr
    item = WorkItem.objects.for_subject(lead).get()
    assert item.owner == other_sdr and item.due_at == due
    event = lead.events.get(kind=LeadEvent.Kind.REASSIGNED)
    assert event.actor == manager and "Sam is at a conference" in event.message


@pytest.mark.django_db
def test_reassigning_a_whole_queue_shares_it_round_robin_and_needs_a_reason(manager):
    leaving, *others = reps(4)
    from sdr.services import SdrError
    from tests.factories import routed_lead

    leads = [routed_lead(leaving, now=TUESDAY_10) for _ in range(6)]
    with pytest.raises(SdrError):
        reassign_queue(from_user=leaving, to=None, by=manager, reason="  ")
    moved = reassign_queue(from_user=leaving, to=None, by=manager, reason="Leaving the company")

    assert len(moved) == 6
    assert Counter(owners_of(leads)) == dict.fromkeys(others, 2)
    assert not WorkItem.objects.open().filter(owner=leaving).exists()


@pytest.mark.django_db
def test_leads_are_never_reassigned_to_an_ae(manager, inbound_sdr, ae):
    from sdr.services import SdrError
    from tests.factories import routed_lead

    lead = routed_lead(inbound_sdr, now=TUESDAY_10)
    with pytest.raises(SdrError):
        reassign_leads(lead_ids=[lead.pk], to=ae, by=manager, reason="x")
    assert owners_of([lead]) == [inbound_sdr]
