"""The AE's answer to a handoff: accept it (the opportunity enters the pipeline) or reject it
(the lead goes back to its SDR), and the SLA sweep's reassigner for handoffs nobody answered.

Each function takes the opportunity with ``select_for_update`` (so two AEs, two tabs or a
retry never both win), writes the opportunity's and the lead's timeline in the same
transaction, and stops the acceptance timer.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from kit.display import when_text
from leads.models import Lead, LeadEvent
from leads.services import transition_lead
from notifications.models import Kind
from notifications.services import News, notify
from sdr.services import lock_round_robins, save_round_robins
from team.models import Role, User
from work import services as work
from work.models import WorkItem

from ..access import can_work_pipeline, covers_handoff
from ..models import (
    REJECT_REASONS,
    Opportunity,
    OpportunityEvent,
)
from .common import AccountsError, first_stage, lead_event


def _locked_handoff(opportunity_id: int, by: User) -> Opportunity:
    """The opportunity, locked, after checking ``by`` may answer its handoff: its AE, or an
    AE of the same team covering (who then takes it over)."""
    # No joins in the locking read: a concurrent accept changes the owner, and PostgreSQL
    # re-checks a waiting row against the join rows it read before the wait, which would make
    # the row vanish (DoesNotExist) instead of showing it answered.
    opportunity = Opportunity.objects.select_for_update().get(pk=opportunity_id)
    if not can_work_pipeline(by):
        raise AccountsError("Only an account executive accepts or rejects a handoff.")
    if not covers_handoff(by, opportunity):
        raise AccountsError("This handoff went to another AE's team.")
    if opportunity.status != Opportunity.Status.HANDED_OFF:
        answered = opportunity.accepted_at or opportunity.rejected_at
        raise AccountsError(
            f"This handoff was already answered: {opportunity.get_status_display().lower()}"
            + (f" on {when_text(answered)}." if answered else ".")
        )
    return opportunity


def accept_handoff(*, opportunity_id: int, by: User, now: datetime | None = None) -> Opportunity:
    """The AE takes the handoff: the acceptance timer stops and the opportunity enters the
    pipeline at its first open stage."""
    now = now or timezone.now()
    with transaction.atomic():
        opportunity = _locked_handoff(opportunity_id, by)
        stage = first_stage()
        covering = by.pk != opportunity.owner_id
        opportunity.status = Opportunity.Status.OPEN
        opportunity.stage = stage
        opportunity.accepted_at = now
        opportunity.owner = by
        opportunity.save(update_fields=["status", "stage", "accepted_at", "owner", "updated_at"])
        work.complete_items(
            model=Opportunity,
            subject_ids=[opportunity.pk],
            kinds=[WorkItem.Kind.ACCEPT_HANDOFF],
            by=by,
            now=now,
        )
        message = f"Accepted by {by}" + (" (covering for the AE it went to)" if covering else "") + "."
        OpportunityEvent.objects.create(
            opportunity=opportunity, kind=OpportunityEvent.Kind.ACCEPTED, at=now, actor=by,
            to_stage=stage.name, message=message,
        )  # fmt: skip
        if opportunity.lead_id:
            lead_event(opportunity.lead_id, now, by, f"{message} The opportunity is in {stage}.")
        if opportunity.sdr_id:
            notify(
                [
                    News(
                        recipient_id=opportunity.sdr_id,
                        kind=Kind.HANDOFF_ANSWERED,
                        text=f"{by} accepted your handoff: {opportunity.name}",
                        url=opportunity.get_absolute_url(),
                    )
                ],
                by=by,
                now=now,
            )
    return opportunity


def reject_handoff(
    *, opportunity_id: int, by: User, reason: str, note: str, now: datetime | None = None
) -> Opportunity:
    """The AE turns the handoff down with a reason and a note: the opportunity is kept as
    rejected (for the acceptance rate), and the lead goes back to its SDR's queue as working,
    with the feedback on its timeline and a "handoff returned" item at the top of the queue."""
    if reason not in REJECT_REASONS:
        raise AccountsError(f"Choose a reason: {', '.join(REJECT_REASONS)}.", field="reason")
    note = note.strip()
    if not note:
        raise AccountsError(
            "Tell the SDR why, in a note: it is how they learn what to hand off.", field="note"
        )
    now = now or timezone.now()
    with transaction.atomic():
        opportunity = _locked_handoff(opportunity_id, by)
        opportunity.status = Opportunity.Status.REJECTED
        opportunity.rejected_at = now
        opportunity.reject_reason = reason
        opportunity.reject_note = note
        opportunity.owner = by
        opportunity.save(
            update_fields=["status", "rejected_at", "reject_reason", "reject_note", "owner", "updated_at"]
        )
        work.complete_items(
            model=Opportunity,
            subject_ids=[opportunity.pk],
            kinds=[WorkItem.Kind.ACCEPT_HANDOFF],
            by=by,
            now=now,
        )
        feedback = f"Handoff rejected by {by}: {reason}. {note}"
        OpportunityEvent.objects.create(
            opportunity=opportunity,
            kind=OpportunityEvent.Kind.REJECTED,
            at=now,
            actor=by,
            message=feedback[:500],
        )
        lead = opportunity.lead
        if lead is not None and lead.status == Lead.Status.HANDED_OFF:
            transition_lead(
                lead_id=lead.pk,
                to=Lead.Status.WORKING,
                actor=by,
                reason=f"Handoff rejected: {reason}",
                via="manual",
                at=now,
            )
            lead_event(lead.pk, now, by, feedback, kind=LeadEvent.Kind.HANDOFF)
            work.open_items(
                [
                    work.NewItem(
                        subject=lead,
                        kind=WorkItem.Kind.HANDOFF_RETURNED,
                        title=f"Handoff rejected by {by}: {reason}",
                        owner_id=lead.owner_id,
                        team_id=lead.team_id,
                        due_at=now,
                        note=note,
                    )
                ],
                now=now,
            )
        if opportunity.sdr_id:
            # The lead is back in the SDR's queue: its page shows the feedback.
            url = lead.get_absolute_url() if lead is not None else opportunity.get_absolute_url()
            notify(
                [
                    News(
                        recipient_id=opportunity.sdr_id,
                        kind=Kind.HANDOFF_ANSWERED,
                        text=f"{by} rejected your handoff: {opportunity.name} ({reason})",
                        url=url,
                    )
                ],
                by=by,
                now=now,
            )
    return opportunity


# --- the SLA sweep ----------------------------------------------------------------------


def reassign_breached_handoffs(items) -> set[int]:
    """The SLA sweep's reassigner for handoffs (when the acceptance policy reassigns): a
    handoff still unanswered goes to the next AE in its AE's team, not the one who let it
    breach. Returns the ids of the items moved; a handoff nobody else can take stays."""
    by_opportunity = {item.object_id: item for item in items}
    opportunities = list(
        Opportunity.objects.select_for_update(of=("self",))
        .select_related("owner")
        .filter(pk__in=list(by_opportunity), status=Opportunity.Status.HANDED_OFF)
        .order_by("id")
    )
    pools = lock_round_robins({o.owner.team_id for o in opportunities if o.owner.team_id}, roles=[Role.AE])
    now = timezone.now()
    moved = set()
    news: list[News] = []
    for opportunity in opportunities:
        team_id = opportunity.owner.team_id
        pool = pools.get(team_id) if team_id is not None else None
        ae = pool.pick(exclude=[opportunity.owner_id]) if pool else None
        if ae is None:
            continue
        before = opportunity.owner
        opportunity.owner = ae
        opportunity.save(update_fields=["owner", "updated_at"])
        item = by_opportunity[opportunity.pk]
        WorkItem.objects.filter(pk=item.pk).update(owner=ae, team=ae.team_id)
        OpportunityEvent.objects.create(
            opportunity=opportunity,
            kind=OpportunityEvent.Kind.UPDATED,
            at=now,
            message=f"Handoff moved from {before} to {ae}: the acceptance SLA breached and was not met in time.",
        )
        moved.add(item.pk)
        news.append(
            News(
                recipient_id=ae.pk,
                kind=Kind.ASSIGNED,
                text=f"Handoff moved to you (its acceptance SLA breached): {opportunity.name}",
                url=opportunity.get_absolute_url(),
            )
        )
    notify(news, now=now)
    if pools:
        save_round_robins(pools, now)
    return moved
