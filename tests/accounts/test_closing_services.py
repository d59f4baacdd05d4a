"""Closing: stage moves, won and lost, early losses, and the loop back to the lead."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from accounts.models import Opportunity, OpportunityEvent, Stage
from accounts.services import AccountsError, move_stage, update_opportunity
from leads.models import Lead, LeadEvent
from leads.services import capture_lead, log_activity, sweep_engagement_thresholds
from tests.factories import accepted, stage

pytestmark = pytest.mark.django_db

ACCEPTED_AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def opportunity(inbound_sdr, ae, campaign):
    with time_machine.travel(ACCEPTED_AT, tick=False):
        return accepted(inbound_sdr, ae, campaign=campaign, email="buyer@globex.example")


def test_moving_through_the_stages_is_on_the_timeline(opportunity, ae):
    move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stage("Demo").pk)
    moved = move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stage("Proposal").pk)
    assert moved.stage.name == "Proposal" and moved.status == Opportunity.Status.OPEN
    moves = list(
        opportunity.events.filter(kind=OpportunityEvent.Kind.STAGE).values_list("from_stage", "to_stage")
    )
    assert moves == [("Demo", "Proposal"), ("Discovery", "Demo")]


def test_a_move_to_the_same_or_an_inactive_stage_is_refused(opportunity, ae):
    with pytest.raises(AccountsError, match="already in Discovery"):
        move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stage("Discovery").pk)
    Stage.objects.filter(name="Demo").update(is_active=False)
    with pytest.raises(AccountsError) as error:
        move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stage("Demo").pk)
    assert error.value.field == "stage"


def test_won_needs_an_amount_and_closes_the_loop_to_the_lead_and_campaign(opportunity, ae, campaign):
    with pytest.raises(AccountsError) as error:
        move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stage("Won").pk)
    assert error.value.field == "amount"
    assert Opportunity.objects.get(pk=opportunity.pk).status == Opportunity.Status.OPEN

    update_opportunity(
        opportunity_id=opportunity.pk, by=ae, amount=Decimal("42000"), close_date=None, next_step="Sign"
    )
    won = move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stage("Won").pk)
    assert won.status == Opportunity.Status.WON and won.closed_at is not None and not won.early_loss
    lead = Lead.objects.get(pk=opportunity.lead_id)
    assert lead.status == Lead.Status.WON and "€42,000" in lead.status_reason
    assert campaign.opportunities.filter(status=Opportunity.Status.WON).get() == won

    with pytest.raises(AccountsError, match="This opportunity is won"):
        move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stage("Demo").pk)


def test_lost_needs_a_reason_from_the_list(opportunity, ae):
    for reason in ("", "Bad vibes"):
        with pytest.raises(AccountsError) as error:
            move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stage("Lost").pk, lost_reason=reason)
        assert error.value.field == "lost_reason"
    assert Opportunity.objects.get(pk=opportunity.pk).status == Opportunity.Status.OPEN


def test_a_loss_within_14_days_of_acceptance_is_an_early_loss(opportunity, ae):
    with time_machine.travel(ACCEPTED_AT + timedelta(days=14), tick=False):
        lost = move_stage(
            opportunity_id=opportunity.pk,
            by=ae,
            stage_id=stage("Lost").pk,
            lost_reason="Price",
            lost_note="Too dear",
        )
    assert lost.early_loss and lost.status == Opportunity.Status.LOST
    assert "early loss" in lost.events.get(kind=OpportunityEvent.Kind.LOST).message
    assert Lead.objects.get(pk=opportunity.lead_id).status == Lead.Status.LOST


def test_a_loss_after_14_days_is_not_early(inbound_sdr, ae, opportunity):
    with time_machine.travel(ACCEPTED_AT + timedelta(days=14, minutes=1), tick=False):
        lost = move_stage(
            opportunity_id=opportunity.pk, by=ae, stage_id=stage("Lost").pk, lost_reason="Price"
        )
    assert not lost.early_loss


def test_only_the_ae_or_their_manager_moves_an_opportunity(opportunity, ae, other_ae, inbound_sdr, manager,
                                                           sales_manager):  # fmt: skip
    for stranger in (other_ae, inbound_sdr, manager):
        with pytest.raises(AccountsError, match="Only the opportunity's AE"):
            move_stage(opportunity_id=opportunity.pk, by=stranger, stage_id=stage("Demo").pk)
    assert (
        move_stage(opportunity_id=opportunity.pk, by=sales_manager, stage_id=stage("Demo").pk).stage.name
        == "Demo"
    )


def test_a_lost_lead_recycled_returns_through_scoring(opportunity, ae, catch_all_rule, other_sdr):
    move_stage(
        opportunity_id=opportunity.pk, by=ae, stage_id=stage("Lost").pk, lost_reason="Timing: project postponed",
        recycle=True,
    )  # fmt: skip
    lead = Lead.objects.get(pk=opportunity.lead_id)
    assert lead.status == Lead.Status.RECYCLED and lead.team is None
    # Months later the prospect is back and asks for a call: sales-ready again, routed afresh.
    log_activity(lead_id=lead.pk, kind="meeting_request")
    lead.refresh_from_db()
    assert lead.status == Lead.Status.MQL and lead.owner is not None


def test_a_recycled_lead_is_promoted_by_the_engagement_sweep_when_it_warms_up(
    opportunity, ae, catch_all_rule
):
    move_stage(
        opportunity_id=opportunity.pk, by=ae, stage_id=stage("Lost").pk, lost_reason="Price", recycle=True
    )
    lead = Lead.objects.get(pk=opportunity.lead_id)
    for _ in range(3):
        capture_lead(email=lead.email, details={}, via="api", activity_kind="demo_view")
    sweep_engagement_thresholds()
    lead.refresh_from_db()
    assert lead.status == Lead.Status.MQL


def test_a_leads_whole_life_is_on_its_timeline_to_one_disposition(inbound_sdr, ae, catch_all_rule, campaign):
    from accounts.services import accept_handoff, hand_off
    from sdr.services import log_touch
    from tests.factories import qualifying

    inbound_sdr.team = catch_all_rule.team
    inbound_sdr.save(update_fields=["team"])
    lead = capture_lead(
        email="full@cycle.example", details={"company": "Cycle"}, via="api", campaign=campaign,
        activity_kind="meeting_request", hand_raiser=True,
    ).lead  # fmt: skip
    log_touch(lead_id=lead.pk, by=inbound_sdr, kind="call", outcome="connected")
    opportunity = hand_off(lead_id=lead.pk, by=inbound_sdr, qualifying=qualifying(), ae=ae)
    accept_handoff(opportunity_id=opportunity.pk, by=ae)
    update_opportunity(
        opportunity_id=opportunity.pk, by=ae, amount=Decimal(9000), close_date=None, next_step=""
    )
    move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stage("Won").pk)

    lead.refresh_from_db()
    assert lead.status == Lead.Status.WON
    story = [(e.kind, e.to_status) for e in reversed(lead.events.all())]
    assert story == [
        (LeadEvent.Kind.CAPTURED, "mql"),
        (LeadEvent.Kind.ROUTED, ""),
        (LeadEvent.Kind.STATUS, "working"),
        (LeadEvent.Kind.STATUS, "handed_off"),
        (LeadEvent.Kind.HANDOFF, ""),
        (LeadEvent.Kind.STATUS, "won"),
    ]
