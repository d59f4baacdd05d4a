"""The teams' round-robin: each team's position is a row taken ``FOR UPDATE``, so concurrent
routings queue on it and the spread stays even; the pool holds the team's available reps with
their load. Routing and reassignment deal leads to SDRs with it; apps above ``sdr`` deal their
work with it too (handoffs to AEs in accounts, customers to AMs in renewals): they lock the
pools inside their own transaction, pick, and save the positions.

``lock_round_robins(team_ids, roles)`` with ``capped=False`` when the work is not leads, so a
rep's lead capacity does not limit it (only away and inactive reps are skipped).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from leads.models import Lead
from leads.services import IN_SALES
from team.models import Team, User

from ..models import RoundRobin
from .common import SDR_ROLES


@dataclass
class TeamPool:
    """A team's reps for one routing batch, with their current load, under the team's lock."""

    team: Team
    reps: Sequence[User]
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


def lock_round_robins(
    team_ids: Iterable[int], roles: Sequence[str] = SDR_ROLES, *, capped: bool = True
) -> dict[int, TeamPool]:
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
    by_team = defaultdict(list)
    for rep in reps:
        by_team[rep.team_id].append(rep)
    return {
        pk: TeamPool(
            team=positions[pk].team,
            reps=by_team[pk],
            loads={r.pk: r.load for r in by_team[pk]},
            position=positions[pk],
            capped=capped,
        )
        for pk in team_ids
    }


def save_round_robins(pools: dict[int, TeamPool], now: datetime) -> None:
    """Write the positions the picks moved (after ``lock_round_robins``, same transaction)."""
    for pool in pools.values():
        pool.position.updated_at = now
    RoundRobin.objects.bulk_update([p.position for p in pools.values()], ["last_user", "updated_at"])
