"""Handoff, acceptance and rejection: each transition, and each refusal leaving nothing changed."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts.models import Account, Contact, Opportunity, OpportunityEvent
from accounts.services import AccountsError, accept_handoff, hand_off, reject_handoff
from leads.models import Lead, LeadEvent
from sdr.services import dispose_lead
from team.models import Role
from tests.concurrency import run_concurrently
from tests.factories import TeamFactory, UserFactory, handed_off, qualifying, routed_lead
from work.models import Breach, SlaPolicy, WorkItem
from work.services import sweep_breaches

pytestmark = pytest.mark.django_db

# Friday 27 November 2026, 16:00 in Berlin (15:00 UTC): one working hour left in the week.
FRIDAY_16 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def snapshot():
    """What a refused handoff must leave untouched."""
    return (
        Opportunity.objects.count(),
        Account.objects.count(),
        Contact.objects.count(),
        WorkItem.objects.filter(kind=WorkItem.Kind.ACCEPT_HANDOFF).count(),
        list(Lead.objects.order_by("pk").values_list("status", "owner_id")),
    )


def test_a_handoff_opens_an_opportunity_with_an_acceptance_timer_in_the_aes_calendar(
    inbound_sdr, ae, campaign
):
    lead = routed_lead(inbound_sdr, email="ines@northwind.example", company="Northwind", campaign=campaign)
    WorkItem.objects.create(
        kind=WorkItem.Kind.FOLLOW_UP, subject=lead, owner=inbound_sdr, title="Call back", due_at=FRIDAY_16
    )
    with time_machine.travel(FRIDAY_16, tick=False):
        opportunity = hand_off(
            lead_id=lead.pk, by=inbound_sdr, qualifying=qualifying(asked_for_meeting=True,
            proposed_meeting_at=FRIDAY_16 + timedelta(days=4)), ae=ae,
        )  # fmt: skip

    assert opportunity.status == Opportunity.Status.HANDED_OFF
    assert (opportunity.owner, opportunity.sdr, opportunity.campaign) == (ae, inbound_sdr, campaign)
    assert opportunity.origin == Opportunity.Origin.INBOUND
    assert opportunity.account.domain == "northwind.example" and opportunity.account.name == "Northwind"
    assert opportunity.contact.lead == lead and opportunity.contact.email == lead.email
    assert opportunity.need_note.startswith("Their SDRs miss hand-raisers")

    item = WorkItem.objects.get(kind=WorkItem.Kind.ACCEPT_HANDOFF)
    assert item.subject == opportunity and item.owner == ae and item.team == ae.team
    assert item.policy.key == SlaPolicy.ACCEPT_HANDOFF
    # One business hour on Friday, seven on Monday: due Monday 16:00 Berlin (15:00 UTC).
    assert item.due_at == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)

    lead.refresh_from_db()
    assert lead.status == Lead.Status.HANDED_OFF
    first_touch = WorkItem.objects.get(kind=WorkItem.Kind.FIRST_TOUCH)
    assert first_touch.state == WorkItem.State.DONE and first_touch.completed_by == inbound_sdr
    assert WorkItem.objects.get(kind=WorkItem.Kind.FOLLOW_UP).state == WorkItem.State.CANCELLED
    assert not WorkItem.objects.open().filter(owner=inbound_sdr).exists()  # out of the SDR's queue
    assert list(lead.events.filter(kind=LeadEvent.Kind.STATUS).values_list("to_status", flat=True)[:2]) == [
        "handed_off",
        "working",
    ]
    assert opportunity.events.get().kind == OpportunityEvent.Kind.HANDED_OFF


def test_the_account_is_matched_by_domain_and_a_free_mail_lead_gets_its_own(inbound_sdr, ae):
    existing = Account.objects.create(name="Acme Corp", domain="acme.example")
    first = handed_off(inbound_sdr, ae, email="a@acme.example", company="ACME")
    assert first.account == existing
    private = handed_off(inbound_sdr, ae, email="jo@gmail.com", company="Jo's Bakery")
    assert private.account.name == "Jo's Bakery" and private.account.domain == ""
    other = handed_off(inbound_sdr, ae, email="kim@gmail.com", company="Kim Ltd")
    assert other.account != private.account


def test_the_ae_is_chosen_by_territory_round_robin_skipping_aes_who_are_away(
    inbound_sdr, ae, other_ae, ae_rule
):
    away = UserFactory(username="gone", role=Role.AE, team=ae.team, is_away=True)
    owners = []
    for i in range(4):
        lead = routed_lead(inbound_sdr, email=f"p{i}@firm{i}.example")
        owners.append(hand_off(lead_id=lead.pk, by=inbound_sdr, qualifying=qualifying()).owner)
    assert sorted(o.username for o in owners) == ["alex", "alex", "ana", "ana"]
    assert owners[0] != owners[1] and away not in owners


def test_without_an_ae_rule_the_sdr_must_choose_an_ae(inbound_sdr, ae):
    lead = routed_lead(inbound_sdr)
    before = snapshot()
    with pytest.raises(AccountsError) as error:
        hand_off(lead_id=lead.pk, by=inbound_sdr, qualifying=qualifying())
    assert error.value.field == "ae" and "choose an AE" in str(error.value)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"need": "unknown"}, "need"),
        ({"need_note": "  "}, "need_note"),
        ({"budget": "maybe"}, "budget"),
        ({"proposed_meeting_at": datetime(2020, 1, 1, tzinfo=UTC)}, "proposed_meeting_at"),
        ({"asked_for_meeting": True}, "proposed_meeting_at"),
    ],
)
def test_an_unqualified_handoff_is_refused_and_changes_nothing(inbound_sdr, ae, changes, field):
    lead = routed_lead(inbound_sdr)
    before = snapshot()
    with pytest.raises(AccountsError) as error:
        hand_off(lead_id=lead.pk, by=inbound_sdr, qualifying=qualifying(**changes), ae=ae)
    assert error.value.field == field
    assert snapshot() == before


def test_a_disqualified_lead_cannot_be_handed_off(inbound_sdr, ae):
    lead = routed_lead(inbound_sdr)
    dispose_lead(lead_id=lead.pk, by=inbound_sdr, to="disqualified", reason="Competitor")
    before = snapshot()
    with pytest.raises(AccountsError, match="A lead in Disqualified cannot be handed off"):
        hand_off(lead_id=lead.pk, by=inbound_sdr, qualifying=qualifying(), ae=ae)
    assert snapshot() == before


def test_a_lead_is_handed_off_once(inbound_sdr, ae):
    opportunity = handed_off(inbound_sdr, ae)
    before = snapshot()
    with pytest.raises(AccountsError, match="A lead in Handed off cannot be handed off"):
        hand_off(lead_id=opportunity.lead_id, by=inbound_sdr, qualifying=qualifying(), ae=ae)
    assert snapshot() == before


def test_only_the_leads_sdr_or_a_manager_hands_it_off(inbound_sdr, other_sdr, ae, manager, marketing):
    lead = routed_lead(inbound_sdr)
    before = snapshot()
    for stranger in (other_sdr, ae, marketing):
        with pytest.raises(AccountsError):
            hand_off(lead_id=lead.pk, by=stranger, qualifying=qualifying(), ae=ae)
    assert snapshot() == before
    with pytest.raises(AccountsError, match="not an active account executive"):
        hand_off(lead_id=lead.pk, by=inbound_sdr, qualifying=qualifying(), ae=other_sdr)
    opportunity = hand_off(lead_id=lead.pk, by=manager, qualifying=qualifying(), ae=ae)
    assert opportunity.sdr == inbound_sdr  # the lead's SDR keeps the credit


# --- accept and reject ----------------------------------------------------------------------


def test_accepting_stops_the_timer_and_enters_the_pipeline(inbound_sdr, ae):
    with time_machine.travel(FRIDAY_16, tick=False):
        opportunity = handed_off(inbound_sdr, ae)
    with time_machine.travel(FRIDAY_16 + timedelta(minutes=30), tick=False):
        opportunity = accept_handoff(opportunity_id=opportunity.pk, by=ae)
    assert opportunity.status == Opportunity.Status.OPEN and opportunity.stage.name == "Discovery"
    assert opportunity.accepted_at == FRIDAY_16 + timedelta(minutes=30)
    item = WorkItem.objects.get(kind=WorkItem.Kind.ACCEPT_HANDOFF)
    assert item.state == WorkItem.State.DONE and item.met_sla
    assert (
        LeadEvent.objects.filter(lead=opportunity.lead, kind=LeadEvent.Kind.HANDOFF)
        .get()
        .message.startswith(f"Accepted by {ae}")
    )
    assert Lead.objects.get(pk=opportunity.lead_id).status == Lead.Status.HANDED_OFF


def test_accepting_twice_and_rejecting_an_accepted_handoff_are_refused(inbound_sdr, ae):
    opportunity = accept_handoff(opportunity_id=handed_off(inbound_sdr, ae).pk, by=ae)
    for attempt in (
        lambda: accept_handoff(opportunity_id=opportunity.pk, by=ae),
        lambda: reject_handoff(opportunity_id=opportunity.pk, by=ae, reason="Other", note="No"),
    ):
        with pytest.raises(AccountsError, match="already answered: in pipeline"):
            attempt()
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.OPEN and opportunity.rejected_at is None
    assert opportunity.events.filter(kind=OpportunityEvent.Kind.ACCEPTED).count() == 1


def test_an_sdr_cannot_accept_for_the_ae_and_another_team_cannot_answer(inbound_sdr, ae, manager):
    opportunity = handed_off(inbound_sdr, ae)
    stranger = UserFactory(username="far", role=Role.AE, team=TeamFactory(name="AEs US", kind="sales"))
    for user, message in ((inbound_sdr, "Only an account executive"), (manager, "Only an account executive"),
                          (stranger, "another AE's team")):  # fmt: skip
        with pytest.raises(AccountsError, match=message):
            accept_handoff(opportunity_id=opportunity.pk, by=user)
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.HANDED_OFF and opportunity.owner == ae


def test_a_teammate_covering_takes_the_handoff_over(inbound_sdr, ae, other_ae):
    opportunity = accept_handoff(opportunity_id=handed_off(inbound_sdr, ae).pk, by=other_ae)
    assert opportunity.owner == other_ae
    assert "covering" in opportunity.events.get(kind=OpportunityEvent.Kind.ACCEPTED).message


def test_a_rejection_needs_a_reason_from_the_list_and_a_note(inbound_sdr, ae):
    opportunity = handed_off(inbound_sdr, ae)
    with pytest.raises(AccountsError) as error:
        reject_handoff(opportunity_id=opportunity.pk, by=ae, reason="Meh", note="x")
    assert error.value.field == "reason"
    with pytest.raises(AccountsError) as error:
        reject_handoff(opportunity_id=opportunity.pk, by=ae, reason="Other", note=" ")
    assert error.value.field == "note"
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.HANDED_OFF


def test_a_rejected_lead_returns_to_its_sdr_with_the_feedback(inbound_sdr, ae):
    opportunity = handed_off(inbound_sdr, ae)
    reject_handoff(
        opportunity_id=opportunity.pk, by=ae, reason="Not qualified: no budget", note="Budget is next year."
    )
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.REJECTED
    lead = Lead.objects.get(pk=opportunity.lead_id)
    assert (lead.status, lead.owner) == (Lead.Status.WORKING, inbound_sdr)
    returned = WorkItem.objects.open().get(owner=inbound_sdr)
    assert returned.kind == WorkItem.Kind.HANDOFF_RETURNED
    assert returned.title == f"Handoff rejected by {ae}: Not qualified: no budget"
    assert returned.note == "Budget is next year."
    feedback = lead.events.get(kind=LeadEvent.Kind.HANDOFF).message
    assert "Not qualified: no budget" in feedback and "Budget is next year." in feedback
    assert WorkItem.objects.get(kind=WorkItem.Kind.ACCEPT_HANDOFF).state == WorkItem.State.DONE

    # The SDR works it again and hands it off a second time: a new opportunity, the old one kept.
    again = hand_off(lead_id=lead.pk, by=inbound_sdr, qualifying=qualifying(), ae=ae)
    assert again.pk != opportunity.pk and Opportunity.objects.count() == 2
    assert WorkItem.objects.get(pk=returned.pk).state == WorkItem.State.CANCELLED


def test_a_late_acceptance_is_a_breach_in_the_managers_review(inbound_sdr, ae, sales_manager, client_for):
    with time_machine.travel(FRIDAY_16, tick=False):
        opportunity = handed_off(inbound_sdr, ae)
    with time_machine.travel(datetime(2026, 11, 30, 15, 1, tzinfo=UTC), tick=False):
        assert sweep_breaches().breached == 1
    breach = Breach.objects.get()
    assert breach.policy.key == SlaPolicy.ACCEPT_HANDOFF and breach.owner == ae and breach.team == ae.team
    page = client_for(sales_manager).get("/work/breaches/").content.decode()
    assert opportunity.name in page and opportunity.get_absolute_url() in page


@pytest.mark.django_db(transaction=True)
def test_two_aes_accepting_one_handoff_at_once_one_wins(inbound_sdr, ae, other_ae):
    opportunity = handed_off(inbound_sdr, ae)
    outcomes = run_concurrently(
        lambda: accept_handoff(opportunity_id=opportunity.pk, by=ae),
        lambda: accept_handoff(opportunity_id=opportunity.pk, by=other_ae),
    )
    winners = [o for o in outcomes if isinstance(o, Opportunity)]
    losers = [o for o in outcomes if isinstance(o, AccountsError)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert "already answered" in str(losers[0])
    opportunity.refresh_from_db()
    assert opportunity.owner == winners[0].owner and opportunity.status == Opportunity.Status.OPEN
    assert opportunity.events.filter(kind=OpportunityEvent.Kind.ACCEPTED).count() == 1
    assert WorkItem.objects.filter(kind=WorkItem.Kind.ACCEPT_HANDOFF, state=WorkItem.State.DONE).count() == 1


def test_a_policy_that_reassigns_moves_an_unanswered_handoff_to_the_next_ae(inbound_sdr, ae, other_ae):
    from work.services import reassign_due

    SlaPolicy.objects.filter(key=SlaPolicy.ACCEPT_HANDOFF).update(reassign_after_minutes=60)
    with time_machine.travel(FRIDAY_16, tick=False):
        opportunity = handed_off(inbound_sdr, ae)
    with time_machine.travel(datetime(2026, 11, 30, 16, 1, tzinfo=UTC), tick=False):
        assert sweep_breaches().reassigned == 1
        assert reassign_due() == 0  # each item is considered once
    opportunity.refresh_from_db()
    assert opportunity.owner == other_ae and opportunity.status == Opportunity.Status.HANDED_OFF
    item = WorkItem.objects.get(kind=WorkItem.Kind.ACCEPT_HANDOFF)
    assert item.owner == other_ae and item.state == WorkItem.State.OPEN
    assert "the acceptance SLA breached" in opportunity.events.first().message
    assert Breach.objects.get().reassigned_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_handoff_does_not_hold_its_teams_round_robin_while_it_writes(inbound_sdr, ae, other_ae, ae_rule):
    """Handoffs into one AE team must not queue behind each other's whole transaction: the
    round-robin row is free again by the time the handoff writes its opportunity (under the
    mixed load these waits were the database's largest share)."""
    from django.db import connection

    from sdr.models import RoundRobin

    RoundRobin.objects.create(team=ae.team)  # the team has routed before
    lead = routed_lead(inbound_sdr, email="p@firm.example")
    seen: list[str] = []

    def probe():
        """From another connection: take the team's round-robin row without waiting."""
        from django.db import DatabaseError, transaction
        from django.db import connection as other

        try:
            with transaction.atomic():
                RoundRobin.objects.select_for_update(nowait=True).get(team=ae.team)
            seen.append("free")
        except DatabaseError:
            seen.append("locked")
        finally:
            other.close()

    def at_the_opportunity(execute, sql, params, many, context):
        if sql.startswith('INSERT INTO "accounts_opportunity"'):
            thread = threading.Thread(target=probe)
            thread.start()
            thread.join()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(at_the_opportunity):
        opportunity = hand_off(lead_id=lead.pk, by=inbound_sdr, qualifying=qualifying())
    assert seen == ["free"]
    assert opportunity.owner in (ae, other_ae)
    assert RoundRobin.objects.get(team=ae.team).last_user_id == opportunity.owner_id
