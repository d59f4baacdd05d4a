"""Reassignment: a manager moves leads in an SDR's hands to another SDR (or shares them
round-robin in their team), a rep's whole queue moves when they leave, and the SLA sweep moves
a breached lead to the next rep. Open work items follow with their due times; the reason goes
on each lead's timeline."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from leads.models import Lead, LeadEvent
from leads.services import IN_SALES
from notifications.services import notify
from team.models import User
from work import services as work
from work.models import WorkItem

from ..access import may_take_leads
from .common import SdrError, assignment_news, lead_event
from .round_robin import lock_round_robins, save_round_robins


def _check_target(to: User | None) -> None:
    if not may_take_leads(to):
        raise SdrError(f"{to} is not an active SDR; leads go to SDRs only.")


def reassign_leads(
    *, lead_ids: Sequence[int], to: User | None, by: User, reason: str, now: datetime | None = None
) -> dict[int, int | None]:
    """A manager moves leads in an SDR's hands to another SDR, or (``to`` empty) shares them
    round-robin among their team's other reps; what nobody can take waits in the team's
    unassigned queue. Open work items follow, with their due times; the reason goes on each
    lead's timeline. Returns lead id -> new owner id (None: unassigned)."""
    _check_target(to)
    reason = reason.strip()
    if not reason:
        raise SdrError("Say why the leads are reassigned; it goes on their timelines.")
    now = now or timezone.now()
    moved: dict[int, int | None] = {}
    with transaction.atomic():
        leads = list(
            Lead.objects.select_for_update(of=("self",))
            .select_related("owner")
            .filter(pk__in=list(lead_ids), status__in=IN_SALES)
            .order_by("id")
        )
        if not leads:
            return moved
        pools = lock_round_robins(lead.team_id for lead in leads if lead.team_id) if to is None else {}

        def choose(lead: Lead) -> tuple[User | None, int | None]:
            if to is not None:
                return to, to.team_id
            pool = pools.get(lead.team_id) if lead.team_id is not None else None
            return (
                pool.pick(exclude=[lead.owner_id] if lead.owner_id else []) if pool else None
            ), lead.team_id

        moved = _move_leads(leads, choose, reason=reason, by=by, now=now)
        if pools:
            save_round_robins(pools, now)
    return moved


def _move_leads(leads: Sequence[Lead], choose, *, reason: str, by: User | None, now: datetime) -> dict:
    """Move each lead to the rep ``choose(lead)`` names (None: the team's unassigned queue)
    with its open work items, the reason on its timeline. A lead staying where it is records
    nothing. One UPDATE of leads and one of items per new owner, one INSERT of events."""
    moved: dict[int, int | None] = {}
    events, groups = [], defaultdict(list)
    for lead in leads:
        new_owner, team_id = choose(lead)
        new_id = new_owner.pk if new_owner else None
        if new_id == lead.owner_id:
            continue  # nobody else can take it: nothing moves, nothing to record
        groups[(team_id, new_id)].append(lead.pk)
        moved[lead.pk] = new_id
        target = new_owner or "the team's unassigned queue"
        message = f"From {lead.owner or 'nobody'} to {target}: {reason}"
        events.append(lead_event(lead, LeadEvent.Kind.REASSIGNED, now, message, by))
    for (team_id, owner_id), ids in groups.items():
        Lead.objects.filter(pk__in=ids).update(owner_id=owner_id, team_id=team_id, updated_at=now)
        work.move_items(model=Lead, subject_ids=ids, owner_id=owner_id, team_id=team_id)
    LeadEvent.objects.bulk_create(events)
    notify(
        assignment_news(((moved[lead.pk], lead) for lead in leads if lead.pk in moved), "reassigned"),
        by=by,
        now=now,
    )
    return moved


def reassign_queue(*, from_user: User, to: User | None, by: User, reason: str) -> dict[int, int | None]:
    """A rep leaves or goes on holiday: every lead in their hands moves (see
    ``reassign_leads``)."""
    if to is not None and to.pk == from_user.pk:
        raise SdrError("Choose someone other than the rep whose queue is moving.")
    ids = list(Lead.objects.filter(owner=from_user, status__in=IN_SALES).values_list("pk", flat=True))
    return reassign_leads(lead_ids=ids, to=to, by=by, reason=reason)


def reassign_breached(items: Sequence[WorkItem]) -> set[int]:
    """The SLA sweep's reassigner for leads: each breached item's lead goes to the next rep
    in its team (not the one who let it breach). Returns the ids of the items moved."""
    by_lead = {item.object_id: item for item in items}
    leads = list(
        Lead.objects.select_for_update(of=("self",))
        .select_related("owner")
        .filter(pk__in=list(by_lead), status__in=IN_SALES, team__isnull=False)
        .order_by("id")
    )
    pools = lock_round_robins(lead.team_id for lead in leads if lead.team_id is not None)  # all have one
    now = timezone.now()

    def choose(lead: Lead) -> tuple[User | None, int | None]:
        assert lead.team_id is not None  # leads without a team were not read
        rep = pools[lead.team_id].pick(exclude=[lead.owner_id] if lead.owner_id else [])
        return (rep or lead.owner), lead.team_id  # nobody else free: it stays

    moved = _move_leads(
        leads, choose, reason="the first-touch SLA breached and was not met in time.", by=None, now=now
    )
    if pools:
        save_round_robins(pools, now)
    return {by_lead[lead_id].pk for lead_id in moved}
