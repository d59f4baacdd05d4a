"""What the feature modules of ``leads.services`` share: the statuses that mean "in an SDR's
hands", the one definition of what a status change writes (and its timeline event), the
refusal of a move the lifecycle does not allow, and the retry of a capture that lost the
race for a new email."""

from datetime import datetime

from django.db import IntegrityError, transaction

from kit.errors import Refused

from ..models import Lead, LeadEvent

# The lead fields the fit score reads: a change to one of them re-scores the lead.
FIT_FIELDS = {"industry", "employees", "annual_revenue", "seniority", "country"}
PROMOTABLE = (Lead.Status.NURTURE, Lead.Status.RECYCLED)
# A lead in these statuses is in an SDR's queue; moving it to LEAVES_SALES closes its work.
IN_SALES = (Lead.Status.MQL, Lead.Status.WORKING)
LEAVES_SALES = (Lead.Status.NURTURE, Lead.Status.DISQUALIFIED, Lead.Status.RECYCLED)


class InvalidTransition(Refused):
    """A lifecycle move that the lead's current status does not allow (or another actor won).
    A refusal about the lead's state (no field), so whichever app's page, API action or admin
    hook called the move answers it as it answers its own refusals, with no translation."""


def promotion_reason(lead: Lead) -> str:
    """Why a lead became an MQL, as its timeline says it."""
    return "Asked for a call." if lead.hand_raiser else "Engagement reached the MQL threshold."


def status_change(to: str, at: datetime, reason: str = "") -> dict:
    """What moving a lead to ``to`` writes: the one definition every path that moves leads
    uses (the PostgreSQL sweep's single statement sets the same columns in SQL)."""
    values = {"status": to, "status_changed_at": at, "status_reason": reason[:300], "updated_at": at}
    if to == Lead.Status.MQL:
        values["mql_at"] = at
    if to in LEAVES_SALES:
        # Back to marketing (or out): when it is sales-ready again it is routed afresh.
        values["team"] = None
    return values


def apply_status(lead: Lead, to: str, at: datetime) -> None:
    """``status_change`` applied to an unsaved lead (the caller saves it)."""
    for name, value in status_change(to, at).items():
        setattr(lead, name, value)


def status_event(lead: Lead, to: str, at: datetime, actor, via: str, message: str) -> LeadEvent:
    """The timeline event of moving ``lead`` (still in its old status) to ``to``, unsaved."""
    return LeadEvent(
        lead=lead,
        kind=LeadEvent.Kind.STATUS,
        at=at,
        actor=actor,
        via=via,
        from_status=lead.status,
        to_status=to,
        message=message[:500],
    )


CAPTURE_ATTEMPTS = 3


def retrying_on_conflict(attempt):
    """Run ``attempt`` in a savepoint; when a concurrent transaction inserted one of its people
    first (the unique email constraint), roll back and run it again: it then finds them."""
    with transaction.atomic():
        for tries_left in range(CAPTURE_ATTEMPTS - 1, -1, -1):
            try:
                with transaction.atomic():
                    return attempt()
            except IntegrityError:
                if not tries_left:
                    raise
    raise AssertionError("unreachable")
