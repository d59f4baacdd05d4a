"""Sales development writes: routing, reassignment, touches, follow-ups and dispositions.

Routing: a territory rule picks the team; within it a round-robin over the reps who are
active, not away and under capacity. The team's position is a row taken ``FOR UPDATE``, so
concurrent routings queue on it and the spread stays even. A lead nobody can take waits in
the team's unassigned queue (owner empty, timer running) and is assigned by the routing
sweep as soon as someone can take it.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from kit.errors import Refused
from leads.models import TOUCH_KINDS, ActivitySource, Lead, LeadEvent, TouchOutcome
from leads.services import IN_SALES, InvalidTransition, log_activity, transition_lead
from team.models import Role, Team, User
from work import services as work
from work.models import SlaPolicy, WorkItem

from .. import registry
from ..models import Enrollment, RoundRobin, TerritoryRule
from . import cadences

logger = logging.getLogger(__name__)

SDR_ROLES = (Role.INBOUND_SDR, Role.OUTBOUND_SDR)
SDR_TEAM_KINDS = (Team.Kind.INBOUND, Team.Kind.OUTBOUND)
DEFAULT_POLICIES = {
    SlaPolicy.FIRST_TOUCH_HAND_RAISER: {"name": "First touch: hand-raiser", "target_minutes": 15},
    SlaPolicy.FIRST_TOUCH_MQL: {"name": "First touch: MQL", "target_minutes": 4 * 60},
}


class SdrError(Refused):
    """A change the lead's state or the user's role does not allow; the message is for the
    user."""


def first_touch_policies() -> dict[str, SlaPolicy]:
    """The two first-touch policies, created with their defaults if an admin removed them."""
    policies = work.policies_by_key(*DEFAULT_POLICIES)
    for key, defaults in DEFAULT_POLICIES.items():
        if key not in policies:
            policies[key], _ = SlaPolicy.objects.get_or_create(key=key, defaults=defaults)
    return policies


# --- routing -------------------------------------------------------------------------------


@dataclass
class _TeamPool:
    """A team's reps for one routing batch, with their current load, under the team's lock."""

    team: Team
    reps: list[User]
    loads: dict[int, int]
    position: RoundRobin
    # Lead capacity caps reps who receive leads; a pool dealing other work (customers to AMs)
    # turns it off, and then only away and inactive people are skipped.
    capped: bool = True

    def pick(self, exclude: Iterable[int] = ()) -> User | None:
        last = self.position.last_user_id or 0
        ordered = [r for r in self.reps if r.pk > last] + [r for r in self.reps if r.pk <= last]
        excluded = set(exclude)
        for rep in ordered:
            if rep.pk not in excluded and (not self.capped or self.loads[rep.pk] < rep.capacity):
                self.loads[rep.pk] += 1
                self.position.last_user_id = rep.pk
                return rep
        return None


def _lock_pools(
    team_ids: Iterable[int], roles: Sequence[str] = SDR_ROLES, capped: bool = True
) -> dict[int, _TeamPool]:
    """Take the round-robin rows of these teams (in id order, so two routers never deadlock)
    and load each team's available reps of ``roles`` with their open-lead counts (not counted
    when the pools are not ``capped``)."""
    team_ids = sorted(set(team_ids))
    if not team_ids:
        return {}
    RoundRobin.objects.bulk_create([RoundRobin(team_id=pk) for pk in team_ids], ignore_conflicts=True)
    positions = {
        rr.team_id: rr
        for rr in RoundRobin.objects.select_for_update(of=("self",))
        .select_related("team")
        .filter(team_id__in=team_ids)
        .order_by("team_id")
    }
    # Count(*) per owner in a subquery, so PostgreSQL answers from the (owner, status) index
    # alone; a join-and-count would read every lead a rep ever owned.
    open_leads = (
        Lead.objects.filter(owner=OuterRef("pk"), status__in=IN_SALES)
        .order_by()
        .values("owner")
        .annotate(n=Count("*"))
        .values("n")
    )
    reps = (
        User.objects.filter(team_id__in=team_ids, role__in=roles, is_active=True, is_away=False)
        .annotate(load=Coalesce(Subquery(open_leads), 0) if capped else Value(0))
        .order_by("team_id", "id")
    )
    by_team: dict[int, list[User]] = defaultdict(list)
    for rep in reps:
        by_team[rep.team_id].append(rep)
    return {
        pk: _TeamPool(
            team=positions[pk].team,
            reps=by_team[pk],
            loads={r.pk: r.load for r in by_team[pk]},
            position=positions[pk],
            capped=capped,
        )
        for pk in team_ids
    }


def _save_positions(pools: dict[int, _TeamPool], now: datetime) -> None:
    for pool in pools.values():
        pool.position.updated_at = now
    RoundRobin.objects.bulk_update([p.position for p in pools.values()], ["last_user", "updated_at"])


@dataclass
class RoutingResult:
    assigned: dict[int, int] = field(default_factory=dict)  # lead id -> rep id
    unassigned: list[int] = field(default_factory=list)  # waiting in a team's queue
    unmatched: list[int] = field(default_factory=list)  # no rule matched


def route_leads(*, lead_ids: Sequence[int], now: datetime | None = None, wait: bool = True) -> RoutingResult:
    """Route sales-ready leads nobody owns: a team by territory, a rep by round-robin, and
    a first-touch timer (hand-raisers under the tighter policy) - in one transaction.

    Leads not yet routed get a team, an event and a timer; leads already waiting in a team's
    unassigned queue get an owner when someone can take them, and their timer follows. Leads
    a registered claimer takes (``sdr.registry``: an expansion lead goes to its customer's AM)
    go to whom it says instead. With ``wait=False`` (the sweep) leads another transaction
    holds are skipped, not waited for.
    """
    now = now or timezone.now()
    result = RoutingResult()
    with transaction.atomic():
        leads = list(
            Lead.objects.select_for_update(skip_locked=not wait, of=("self",))
            .filter(pk__in=list(lead_ids), status=Lead.Status.MQL, owner__isnull=True)
            .select_related("campaign")
            .order_by("-hand_raiser", "mql_at", "id")
        )
        if not leads:
            return result
        # Leads an app above claims (someone at a customer: the account's AM) skip the
        # territory; the claimer wrote their work items and events (see ``sdr.registry``).
        claims = registry.offer([lead for lead in leads if lead.team_id is None], now)
        claimed = [lead for lead in leads if lead.pk in claims]
        for lead in claimed:
            lead.owner_id, lead.team_id = claims[lead.pk].owner_id, claims[lead.pk].team_id
            result.assigned[lead.pk] = claims[lead.pk].owner_id
        leads = [lead for lead in leads if lead.pk not in claims]
        rules = list(
            TerritoryRule.objects.filter(is_active=True, team__kind__in=SDR_TEAM_KINDS).select_related("team")
        )
        fresh, waiting = [], []
        for lead in leads:
            if lead.team_id is None:
                rule = next((r for r in rules if r.matches(lead)), None)
                if rule is None:
                    result.unmatched.append(lead.pk)
                    continue
                lead.team_id, lead._rule = rule.team_id, rule
                fresh.append(lead)
            else:
                waiting.append(lead)
        pools = _lock_pools(lead.team_id for lead in fresh + waiting)
        waiting_ids = {lead.pk for lead in waiting}
        events, new_items, moves = [], [], defaultdict(list)
        policies = first_touch_policies() if fresh else {}
        for lead in fresh + waiting:
            pool = pools[lead.team_id]
            rep = pool.pick()
            lead.owner = rep
            if rep is None:
                result.unassigned.append(lead.pk)
            else:
                result.assigned[lead.pk] = rep.pk
            moves[(lead.team_id, rep.pk if rep else None)].append(lead.pk)
            if lead.pk in waiting_ids:
                if rep is not None:
                    events.append(
                        _event(
                            lead,
                            LeadEvent.Kind.ROUTED,
                            now,
                            f"Assigned to {rep} from the unassigned queue of {pool.team}.",
                        )
                    )
                continue
            where = (
                f"{rep} ({pool.team})" if rep else f"the unassigned queue of {pool.team}: nobody has capacity"
            )
            events.append(
                _event(lead, LeadEvent.Kind.ROUTED, now, f"Routed to {where} by rule “{lead._rule}”.")
            )
            hand_raiser = lead.hand_raiser
            new_items.append(
                work.NewItem(
                    subject=lead,
                    kind=WorkItem.Kind.FIRST_TOUCH,
                    title="Asked for a call" if hand_raiser else _mql_title(lead),
                    owner_id=rep.pk if rep else None,
                    team_id=lead.team_id,
                    policy=policies[
                        SlaPolicy.FIRST_TOUCH_HAND_RAISER if hand_raiser else SlaPolicy.FIRST_TOUCH_MQL
                    ],
                )
            )
        routed = fresh + waiting + claimed
        for lead in routed:
            lead.updated_at = now
        Lead.objects.bulk_update(routed, ["team", "owner", "updated_at"])  # one statement
        for (team_id, owner_id), ids in moves.items():
            already_timed = [pk for pk in ids if pk in waiting_ids]
            if already_timed:
                work.move_items(model=Lead, subject_ids=already_timed, owner_id=owner_id, team_id=team_id)
        _save_positions(pools, now)
        LeadEvent.objects.bulk_create(events)
        work.open_items(new_items, now=now)
    return result


def pick_ae(*, lead: Lead, now: datetime | None = None) -> User | None:
    """The AE a handoff of ``lead`` goes to: the first active rule naming a team of AEs that
    matches the lead picks the team, and the team's round-robin (skipping AEs who are away)
    picks the AE. None when no rule matches or nobody in the team can take it. Call it inside
    the handoff's transaction: the team's position is locked until it commits."""
    rules = TerritoryRule.objects.filter(is_active=True, team__kind=Team.Kind.SALES).select_related("team")
    rule = next((r for r in rules if r.matches(lead)), None)
    if rule is None:
        return None
    pools = _lock_pools([rule.team_id], roles=[Role.AE])
    rep = pools[rule.team_id].pick()
    if rep is not None:
        _save_positions(pools, now or timezone.now())
    return rep


def lock_round_robins(
    team_ids: Iterable[int], roles: Sequence[str], *, capped: bool = True
) -> dict[int, "_TeamPool"]:
    """For apps above ``sdr`` that deal work by round-robin (handoffs to AEs, customers to
    AMs): the teams' positions, locked until the caller's transaction ends, with their
    available reps. ``capped=False``: the work is not leads, so a rep's lead capacity does not
    limit it (only away and inactive reps are skipped). Call ``save_round_robins`` after
    picking."""
    return _lock_pools(team_ids, roles=roles, capped=capped)


def save_round_robins(pools: dict[int, "_TeamPool"], now: datetime) -> None:
    _save_positions(pools, now)


def _mql_title(lead: Lead) -> str:
    if lead.campaign_id:
        return f"New MQL from {lead.campaign.name}"[:200]
    return "New MQL"


def _event(lead: Lead, kind: str, at: datetime, message: str, actor=None) -> LeadEvent:
    return LeadEvent(lead_id=lead.pk, kind=kind, at=at, actor=actor, message=message[:500])


ROUTING_SWEEP_BATCH = 500


def route_waiting_leads(*, now: datetime | None = None, limit: int = 5_000) -> RoutingResult:
    """The routing sweep: sales-ready leads without an owner (crossed the threshold in the
    engagement sweep, or waiting in a team's unassigned queue), oldest first, in batches."""
    total = RoutingResult()
    done = 0
    last_mql_at, last_id = None, 0
    while done < limit:
        q = Lead.objects.filter(status=Lead.Status.MQL, owner__isnull=True)
        if last_mql_at is not None:
            q = q.filter(Q(mql_at__gt=last_mql_at) | Q(mql_at=last_mql_at, pk__gt=last_id))
        batch = list(q.order_by("mql_at", "pk").values_list("pk", "mql_at")[:ROUTING_SWEEP_BATCH])
        if not batch:
            break
        result = route_leads(lead_ids=[pk for pk, _ in batch], now=now, wait=False)
        total.assigned.update(result.assigned)
        total.unassigned += result.unassigned
        total.unmatched += result.unmatched
        last_id, last_mql_at = batch[-1]
        done += len(batch)
        if len(batch) < ROUTING_SWEEP_BATCH:
            break
    return total


def on_sales_ready(sender, *, lead_ids: Sequence[int], **kwargs) -> None:
    """``leads.signals.sales_ready`` receiver: route at once, in the promoting transaction."""
    route_leads(lead_ids=lead_ids)


def on_hand_raised(sender, *, lead_ids: Sequence[int], **kwargs) -> None:
    """``leads.signals.hand_raised`` receiver (see ``tighten_first_touch``)."""
    tighten_first_touch(lead_ids=lead_ids)


def tighten_first_touch(*, lead_ids: Sequence[int], now: datetime | None = None) -> int:
    """A prospect in the queue asked for a call: an open first-touch timer moves to the
    hand-raiser policy when that makes it due sooner (never later)."""
    now = now or timezone.now()
    policy = first_touch_policies()[SlaPolicy.FIRST_TOUCH_HAND_RAISER]
    items = list(
        WorkItem.objects.open()
        .filter(work.subject_filter(Lead, lead_ids), kind=WorkItem.Kind.FIRST_TOUCH)
        .exclude(policy=policy)
        .select_for_update(of=("self",))
    )
    schedules = work.Schedules().load(i.team_id for i in items)
    tightened = []
    for item in items:
        due, reassign = work.due_times(policy, now, schedules.for_team(item.team_id))
        if due < item.due_at:
            item.policy, item.due_at, item.reassign_at, item.title = policy, due, reassign, "Asked for a call"
            tightened.append(item)
    WorkItem.objects.bulk_update(tightened, ["policy", "due_at", "reassign_at", "title"])
    return len(tightened)


# --- reassignment --------------------------------------------------------------------------


def _check_target(to: User | None) -> None:
    if to is not None and (to.role not in SDR_ROLES or not to.is_active):
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
        pools = _lock_pools(lead.team_id for lead in leads if lead.team_id) if to is None else {}

        def choose(lead: Lead) -> tuple[User | None, int | None]:
            if to is not None:
                return to, to.team_id
            pool = pools.get(lead.team_id)
            return (
                pool.pick(exclude=[lead.owner_id] if lead.owner_id else []) if pool else None
            ), lead.team_id

        moved = _move_leads(leads, choose, reason=reason, by=by, now=now)
        if pools:
            _save_positions(pools, now)
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
        events.append(_event(lead, LeadEvent.Kind.REASSIGNED, now, message, by))
    for (team_id, owner_id), ids in groups.items():
        Lead.objects.filter(pk__in=ids).update(owner_id=owner_id, team_id=team_id, updated_at=now)
        work.move_items(model=Lead, subject_ids=ids, owner_id=owner_id, team_id=team_id)
    LeadEvent.objects.bulk_create(events)
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
    pools = _lock_pools(lead.team_id for lead in leads)
    now = timezone.now()

    def choose(lead: Lead) -> tuple[User | None, int | None]:
        rep = pools[lead.team_id].pick(exclude=[lead.owner_id] if lead.owner_id else [])
        return (rep or lead.owner), lead.team_id  # nobody else free: it stays

    moved = _move_leads(
        leads, choose, reason="the first-touch SLA breached and was not met in time.", by=None, now=now
    )
    if pools:
        _save_positions(pools, now)
    return {by_lead[lead_id].pk for lead_id in moved}


# --- working the queue ---------------------------------------------------------------------


def _check_worker(lead: Lead, by: User, *, assigned: bool = True) -> None:
    """Checked under the lead's row lock: an SDR works only leads in their own hands (a
    reassignment may have just moved it), and a lead waiting in a team's unassigned queue
    gets an owner before anyone works it (a touch would leave it in nobody's queue)."""
    if assigned and lead.owner_id is None:
        raise SdrError("This lead waits in its team's unassigned queue; assign it to a rep first.")
    if by.is_sdr and lead.owner_id != by.pk:
        raise SdrError("This lead is no longer in your queue (it was reassigned).")


@dataclass
class TouchResult:
    lead: Lead
    activity: object
    completed: list[WorkItem]


def log_touch(
    *, lead_id: int, by: User, kind: str, outcome: str = "", note: str = "", now: datetime | None = None
) -> TouchResult:
    """A rep reached out: the touch goes on the timeline, the first touch moves the lead to
    working and stops its SLA timer, and follow-ups due by now are done."""
    if kind not in TOUCH_KINDS:
        raise SdrError(f"{kind!r} is not a touch (call, email, voicemail, social or meeting booked).")
    if outcome and outcome not in TouchOutcome.values:
        raise SdrError(f"{outcome!r} is not a touch outcome.")
    now = now or timezone.now()
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        if lead.status not in IN_SALES:
            raise SdrError(
                f"A lead in {lead.get_status_display()} is not in a queue; touches are for MQLs and working leads."
            )
        _check_worker(lead, by)
        activity = log_activity(
            lead_id=lead.pk, kind=kind, via=ActivitySource.MANUAL, actor=by, note=note, occurred_at=now
        )
        if outcome:
            type(activity).objects.filter(pk=activity.pk).update(outcome=outcome)
            activity.outcome = outcome
        if lead.status == Lead.Status.MQL:
            lead = transition_lead(
                lead_id=lead.pk,
                to=Lead.Status.WORKING,
                actor=by,
                reason="First touch",
                via=ActivitySource.MANUAL,
                at=now,
            )
        # The rep acted on what the queue asked: a first touch, a returned handoff, a finished
        # cadence's nurture proposal; a due cadence step moves the cadence on (or a reply ends it).
        completed = work.complete_items(
            model=Lead, subject_ids=[lead.pk], kinds=ACTED_ON_BY_TOUCH, by=by, now=now
        ) + work.complete_items(
            model=Lead, subject_ids=[lead.pk], kinds=[WorkItem.Kind.FOLLOW_UP], by=by, now=now, due_by=now
        )
        # After the line above: the "move to nurture?" item that finishing a cadence opens
        # must stay in the queue, not be completed by the very touch that opened it.
        completed += cadences.on_touch(lead_id=lead.pk, kind=kind, outcome=outcome, by=by, now=now)
    return TouchResult(lead=lead, activity=activity, completed=completed)


ACTED_ON_BY_TOUCH = [
    WorkItem.Kind.FIRST_TOUCH,
    WorkItem.Kind.HANDOFF_RETURNED,
    WorkItem.Kind.CADENCE_FINISHED,
]
MAX_FOLLOW_UP = timedelta(days=366)


def follow_up_time_problem(due_at: datetime, now: datetime | None = None) -> str:
    """Why ``due_at`` cannot be a follow-up time ('' when it can): shared by the service, the
    queue's form and the API, so all three say the same."""
    now = now or timezone.now()
    if due_at <= now:
        return "A follow-up is set for a time in the future."
    if due_at > now + MAX_FOLLOW_UP:
        return "A follow-up is set within the next year."
    return ""


def set_follow_up(*, lead_id: int, by: User, due_at: datetime, note: str = "") -> WorkItem:
    """The next follow-up on a lead: a work item in its owner's queue at ``due_at``. It
    replaces an earlier follow-up not yet done (a lead has one next step)."""
    now = timezone.now()
    if problem := follow_up_time_problem(due_at, now):
        raise SdrError(problem)
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        if lead.status not in IN_SALES:
            raise SdrError(
                f"A lead in {lead.get_status_display()} is not in a queue; nurture has no follow-ups."
            )
        _check_worker(lead, by)
        WorkItem.objects.open().for_subject(lead).filter(kind=WorkItem.Kind.FOLLOW_UP).update(
            state=WorkItem.State.CANCELLED, completed_at=now
        )
        title = f"Follow up: {note.strip()}" if note.strip() else "Follow up"
        [item] = work.open_items(
            [
                work.NewItem(
                    subject=lead,
                    kind=WorkItem.Kind.FOLLOW_UP,
                    title=title,
                    owner_id=lead.owner_id,
                    team_id=lead.team_id,
                    due_at=due_at,
                    note=note.strip(),
                )
            ],
            now=now,
        )
        message = f"Follow-up on {timezone.localtime(due_at):%a %d %b %H:%M}"
        LeadEvent.objects.create(
            lead=lead,
            kind=LeadEvent.Kind.FOLLOW_UP,
            at=now,
            actor=by,
            message=(f"{message}: {note.strip()}" if note.strip() else message)[:500],
        )
    return item


NURTURE_REASONS = (
    "Not ready yet (timing)",
    "No budget yet",
    "No response after several touches",
    "Early research",
    "Other",
)
DISQUALIFY_REASONS = (
    "Not a fit (size, industry, region)",
    "Student, job seeker or researcher",
    "Competitor",
    "Spam or fake details",
    "Duplicate of another lead",
    "Already a customer",
    "Other",
)
DISPOSITIONS = {Lead.Status.NURTURE: NURTURE_REASONS, Lead.Status.DISQUALIFIED: DISQUALIFY_REASONS}


def dispose_lead(*, lead_id: int, by: User, to: str, reason: str, note: str = "") -> Lead:
    """Take a lead out of the queue: back to marketing's nurture, or disqualified. The reason
    (and note) go on the timeline; its open work items are closed."""
    if to not in DISPOSITIONS:
        raise SdrError("A disposition is nurture or disqualify.")
    if reason not in DISPOSITIONS[to]:
        raise SdrError(f"Choose a reason: {', '.join(DISPOSITIONS[to])}.")
    text = f"{reason}: {note.strip()}" if note.strip() else reason
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        if lead.status in IN_SALES:
            _check_worker(lead, by, assigned=False)
        return _dispose(lead_id, by, to, text)


def _dispose(lead_id: int, by: User, to: str, text: str) -> Lead:
    try:
        lead = transition_lead(lead_id=lead_id, to=to, actor=by, reason=text, via=ActivitySource.MANUAL)
    except InvalidTransition as exc:
        raise SdrError(str(exc)) from exc
    cadences.end_enrollments(
        lead_ids=[lead_id], state=Enrollment.State.STOPPED, now=lead.status_changed_at, by=by, reason=text
    )
    return lead
