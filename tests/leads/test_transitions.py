import pytest
from django.db import connection

from leads.models import Lead, LeadEvent
from leads.services import InvalidTransition, transition_lead
from tests.concurrency import run_concurrently
from tests.factories import LeadFactory


def test_every_status_has_its_moves_declared():
    assert set(Lead.TRANSITIONS) == {None, *Lead.Status.values}
    for moves in Lead.TRANSITIONS.values():
        assert moves <= set(Lead.Status.values)


@pytest.mark.django_db
def test_allowed_move_writes_one_event_with_actor_and_reason(manager):
    lead = LeadFactory(status=Lead.Status.NURTURE)
    transition_lead(lead_id=lead.pk, to=Lead.Status.DISQUALIFIED, actor=manager, reason="Student")

    lead.refresh_from_db()
    assert (lead.status, lead.status_reason) == ("disqualified", "Student")
    event = LeadEvent.objects.get(lead=lead)
    assert (event.from_status, event.to_status, event.actor, event.message) == (
        "nurture",
        "disqualified",
        manager,
        "Student",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("start", "to"), [("won", "nurture"), ("disqualified", "mql"), ("nurture", "won")])
def test_forbidden_move_is_refused_and_changes_nothing(start, to):
    lead = LeadFactory(status=start)
    with pytest.raises(InvalidTransition):
        transition_lead(lead_id=lead.pk, to=to)
    lead.refresh_from_db()
    assert lead.status == start
    assert not LeadEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_actors_moving_one_lead_at_once_one_wins():
    assert connection.vendor == "postgresql"
    lead = LeadFactory(status=Lead.Status.MQL)
    # The same move twice: whichever order the threads end up in, only one can make it (the
    # other either loses the compare-and-swap or finds the lead already working). Two different
    # moves could both be valid one after the other (working, then disqualified).
    outcomes = run_concurrently(
        lambda: transition_lead(lead_id=lead.pk, to="working"),
        lambda: transition_lead(lead_id=lead.pk, to="working"),
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["InvalidTransition", "Lead"]
    assert LeadEvent.objects.filter(lead=lead).count() == 1
