"""Routing: a new sales-ready lead gets a team and a rep, and its first-touch timer.

A territory rule picks the team; within it a round-robin over the reps who are active, not
away and under capacity (``round_robin``). A lead nobody can take waits in the team's
unassigned queue (owner empty, timer running) and is assigned by the routing sweep as soon as
someone can take it. A prospect who asks for a call tightens their open first-touch timer.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from leads.models import Lead, LeadEvent
from notifications.services import notify
from team.models import Role, Team, User
from work import services as work
from work.models import SlaPolicy, WorkItem

from .. import registry
from ..models import Cadence, Enrollment, TerritoryRule
from . import cadences
from .common import SDR_TEAM_KINDS, assignment_news, lead_event
from .round_robin import lock_round_robins, save_round_robins

DEFAULT_POLICIES = {
    SlaPolicy.FIRST_TOUCH_HAND_RAISER: {"name": "First touch: hand-raiser", "target_minutes": 15},
    SlaPolicy.FIRST_TOUCH_MQL: {"name": "First touch: MQL", "target_minutes": 4 * 60},
}


def first_touch_policies() -> dict[str, SlaPolicy]:
    """The two first-touch policies, created with their defaults if an admin removed them."""
    policies = work.policies_by_key(*DEFAULT_POLICIES)
    for key, defaults in DEFAULT_POLICIES.items():
        if key not in policies:
            policies[key], _ = SlaPolicy.objects.get_or_create(key=key, defaults=defaults)
    return policies


@dataclass
class RoutingResult:
    assigned: dict[int, int] = field(default_factory=dict)  # lead id -> rep id
    unassigned: list[int] = field(default_factory=list)  # waiting in a team's queue
    unmatched: list[int] = field(default_factory=list)  # no rule matched


def route_leads(*, lead_ids: Sequence[int], now: datetime | None = None, wait: bool = True) -> RoutingResult:
    """Route sales-ready leads nobody owns: a team by territory, a rep by round-robin, and
    a first-touch timer (hand-raisers under the tighter policy) - in one transaction. Their
    nurture track ends (state sales-ready): the same path whether an activity promoted them
    (``on_sales_ready``) or the threshold sweep did (the routing sweep).

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
        # A sales-ready lead leaves marketing's nurture track: from now on an SDR writes to it.
        cadences.end_enrollments(
            lead_ids=[lead.pk for lead in leads],
            state=Enrollment.State.SALES_READY,
            now=now,
            reason="sales-ready",
            kind=Cadence.Kind.NURTURE,
        )
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
        rule_of: dict[int, TerritoryRule] = {}  # the rule that routed each fresh lead
        for lead in leads:
            if lead.team_id is None:
                rule = next((r for r in rules if r.matches(lead)), None)
                if rule is None:
                    result.unmatched.append(lead.pk)
                    continue
                lead.team_id, rule_of[lead.pk] = rule.team_id, rule
                fresh.append(lead)
            else:
                waiting.append(lead)
        # Every lead here has a team: from its rule (fresh), or it had one (waiting).
        pools = lock_round_robins(lead.team_id for lead in fresh + waiting if lead.team_id is not None)
        waiting_ids = {lead.pk for lead in waiting}
        events, new_items, moves = [], [], defaultdict(list)
        policies = first_touch_policies() if fresh else {}
        for lead in fresh + waiting:
            assert lead.team_id is not None
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
                        lead_event(
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
                lead_event(
                    lead, LeadEvent.Kind.ROUTED, now, f"Routed to {where} by rule “{rule_of[lead.pk]}”."
                )
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
        save_round_robins(pools, now)
        LeadEvent.objects.bulk_create(events)
        work.open_items(new_items, now=now)
        notify(assignment_news(((lead.owner_id, lead) for lead in routed), "assigned"), now=now)
    return result


def pick_ae(*, lead: Lead, now: datetime | None = None) -> User | None:
    """The AE a handoff of ``lead`` goes to: the first active rule naming a team of AEs that
    matches the lead picks the team, and the team's round-robin (skipping AEs who are away)
    picks the AE. None when no rule matches or nobody in the team can take it.

    The team's position stays locked until the caller's transaction commits: call it in a
    short transaction of its own (as ``accounts.services.handoff`` does), or every other
    handoff into the team waits for the rest of the caller's work."""
    rules = TerritoryRule.objects.filter(is_active=True, team__kind=Team.Kind.SALES).select_related("team")
    rule = next((r for r in rules if r.matches(lead)), None)
    if rule is None:
        return None
    pools = lock_round_robins([rule.team_id], roles=[Role.AE])
    rep = pools[rule.team_id].pick()
    if rep is not None:
        save_round_robins(pools, now or timezone.now())
    return rep


def _mql_title(lead: Lead) -> str:
    if lead.campaign is not None:  # no query when campaign_id is None
        return f"New MQL from {lead.campaign.name}"[:200]
    return "New MQL"


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
            item.warn_at = work.warn_time(policy, now, schedules.for_team(item.team_id))
            tightened.append(item)
    WorkItem.objects.bulk_update(tightened, ["policy", "due_at", "reassign_at", "warn_at", "title"])
    return len(tightened)
