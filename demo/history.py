"""The demo's past, replayed in time order under a moving clock.

A demo data set is only believable when every row agrees on when things happened: a lead is
captured, then routed, its timer starts, then someone touches it, then it is handed off. Writing
rows and backdating them afterwards cannot keep that promise (each service stamps what it
writes with the clock, and a backdating pass misses some), so the seed does what the product
does, at the moment it happened: each storyline is a generator that yields the moment of its
next step, and ``Replay`` runs the steps of all storylines in time order with the clock
(``time_machine``) set to that moment. The real services then stamp every event, work item,
touch and breach with a consistent time. Between two moments the replay does what beat would
have done in the meantime: timers falling due are swept at their due time, and leads waiting
in a team's unassigned queue are offered to routing again.
"""

import heapq
import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta

import time_machine
from django.db.models import Min, Q

from leads.models import Lead
from sdr.services import route_leads
from work.models import WorkItem
from work.services import sweep_breaches

Storyline = Iterator[datetime]
# Beat's routing sweep runs every minute; replaying it every few minutes changes nothing a
# person could see and keeps the replay short.
ROUTING_EVERY = timedelta(minutes=10)


def at(moment: datetime):
    """The clock stands at ``moment`` inside this block (it does not tick: rows written in one
    step share one time)."""
    return time_machine.travel(moment, tick=False)


class Replay:
    """Runs storylines' steps in time order, up to ``now``; a step that would happen after
    ``now`` has not happened yet, and ends its storyline."""

    def __init__(self, *, now: datetime) -> None:
        self.now = now
        self._queue: list[tuple[datetime, int, Storyline]] = []
        self._order = itertools.count()
        self._routed_at: datetime | None = None

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, storyline: Storyline) -> None:
        """Schedule a storyline. Its code before the first ``yield`` runs now, outside the
        replayed past: it may plan, but must not write."""
        first = next(storyline, None)
        if first is not None:
            self._push(first, storyline)

    def run(self) -> int:
        """Replay every step; returns how many ran."""
        steps = 0
        while self._queue:
            moment, _, storyline = heapq.heappop(self._queue)
            if moment > self.now:
                storyline.close()
                continue
            with at(moment):
                self.catch_up(moment)
                following = next(storyline, None)
            steps += 1
            if following is not None:
                # A storyline never goes back in time: a step planned for earlier runs now.
                self._push(max(following, moment), storyline)
        with at(self.now):
            self.catch_up(self.now)
        return steps

    def catch_up(self, moment: datetime) -> None:
        """What the periodic sweeps would have done before ``moment``: every timer that fell
        due is breached (and reassigned, if its policy says so) at its own due time, and leads
        waiting for someone with capacity are routed."""
        timed = WorkItem.objects.open().filter(policy__isnull=False)
        while True:
            due = timed.aggregate(
                breach=Min("due_at", filter=Q(breached_at__isnull=True, due_at__lte=moment)),
                reassign=Min("reassign_at", filter=Q(reassign_at__lte=moment)),
            )
            moments = [m for m in due.values() if m is not None]
            if not moments:
                break
            with at(min(moments)):
                sweep_breaches()
        if self._routed_at is None or moment - self._routed_at >= ROUTING_EVERY:
            self._routed_at = moment
            # Only leads that were sales-ready by then: a re-run must not route a lead before
            # the moment it became an MQL.
            waiting = list(
                Lead.objects.filter(status=Lead.Status.MQL, owner__isnull=True, mql_at__lte=moment)
                .order_by("mql_at", "pk")
                .values_list("pk", flat=True)[:500]
            )
            if waiting:
                route_leads(lead_ids=waiting, wait=False)

    def _push(self, moment: datetime, storyline: Storyline) -> None:
        heapq.heappush(self._queue, (moment, next(self._order), storyline))
