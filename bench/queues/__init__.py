"""Figure 4: SDR queues, routing and SLA timers (issue 3), each beside the bare SQL doing the
same work.

1. The queue page: server time per request (p50/p95) and queries per request of
   ``GET /queue/`` (URL ``sdr:queue``) through Django's test ``Client``, in process: one
   client, like one server process, each request carrying the session of one of the 200
   SDRs; then the longest page (a queue longer than the page's ``QUEUE_PAGE`` rows) for a few of them. Should
   the page be missing or fail, the measurement falls back to what it renders:
   ``sdr.queue.queue_for(rep)`` evaluated and rendered with a small template; the figures
   say which one was measured. Baseline: the queue's two SQL statements (the items, then
   their leads), exactly as the ORM compiles them, run through a cursor.
2. The breach sweep, ``work.services.sweep_breaches(now=T)``, over 10,000 open first-touch
   timers of which exactly 100 (1%) are past due at ``T``: mark, insert the breaches, email
   the managers (locmem backend), reassign (nothing is due for reassignment). State is put
   back between runs, untimed. Also at an instant when nothing is due: the cost of the
   sweep every minute when idle. Baseline: one ``UPDATE ... RETURNING`` feeding an
   ``INSERT`` of the same breaches.
3. Routing throughput: fresh MQLs (status mql, no owner, no team) routed by
   ``sdr.services.route_leads`` in batches of 200 (what capture hands it) and by the routing
   sweep ``route_waiting_leads`` (batches of 500). Baseline: per batch, one statement that
   picks the team by the same territory rules, deals owners round-robin with a window
   function, updates the leads and inserts their events and first-touch work items.

The data set is generated in SQL (``INSERT ... SELECT FROM generate_series``): a million
leads, 8 inbound teams of 25 SDRs with business calendars (Mon-Fri 9-17) in 8 time zones and
territory rules; each rep holds 50 MQLs with an open first-touch timer and 150 working leads
(2,000 of them with an open follow-up), and 800 closed ones; done first-touch items for
every worked lead (a fifth of them late, with their breach rows), touches and web activity."""

from dataclasses import dataclass

from .breaches import SWEEP_REPEATS, SweepCase, measure_sweeps
from .data import COUNTRIES, INDUSTRIES, OPEN_TIMERS, TEAMS, DataSet, generate
from .page import QueuePage, measure_queue_page
from .routing import RoutingRun, measure_routing

# The figure as run.py measures it; the data set as the opportunities and insight figures build on it.
__all__ = [
    "COUNTRIES",
    "INDUSTRIES",
    "OPEN_TIMERS",
    "SWEEP_REPEATS",
    "TEAMS",
    "DataSet",
    "QueuesFigures",
    "generate",
    "measure_queue_page",
    "measure_routing",
    "measure_sweeps",
    "missing_indexes",
    "plans",
]


@dataclass
class QueuesFigures:
    data: DataSet
    page: QueuePage
    sweep_due: SweepCase
    sweep_idle: SweepCase
    routing: list[RoutingRun]
    plans: dict[str, str]


def plans(data: DataSet) -> dict[str, str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the sweep's claim (the whole marking statement, in a
    transaction rolled back), one rep's queue query, and routing's rep-load query."""
    from django.db import connection, transaction
    from django.db.models import Count, Q

    from leads.services import IN_SALES
    from sdr.queue import queue_for
    from sdr.services import SDR_ROLES
    from sdr.views import QUEUE_PAGE as PAGE_ROWS  # the rows the page shows
    from team.models import User
    from work.services import SWEEP_BATCH
    from work.services.sweep import MARK_BREACHES_SQL

    out = {}
    with connection.cursor() as cursor:

        def explain(sql: str, params) -> str:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())

        with transaction.atomic():
            out["sweep claim (work.services.sweep.MARK_BREACHES_SQL, 1% due)"] = explain(
                MARK_BREACHES_SQL, {"now": data.sweep_at, "limit": SWEEP_BATCH}
            )
            transaction.set_rollback(True)
        rep = User.objects.get(pk=data.reps[0])
        out["queue items (sdr.queue.queue_for, one rep)"] = explain(
            *queue_for(rep)[:PAGE_ROWS].query.sql_with_params()
        )
        loads = (
            User.objects.filter(team_id__in=data.teams, role__in=SDR_ROLES, is_active=True, is_away=False)
            .annotate(load=Count("leads", filter=Q(leads__status__in=IN_SALES)))
            .order_by("team_id", "id")
        )
        out["routing rep loads (sdr.services._lock_pools, 8 teams)"] = explain(*loads.query.sql_with_params())
    return out


PARTIAL_INDEXES = {
    "sweep claim": "workitem_sla_pending",
    "queue items": "workitem_open_queue",
}


def missing_indexes(found: dict[str, str]) -> list[str]:
    return [
        f"{name} does not use {index}"
        for name, plan in found.items()
        for prefix, index in PARTIAL_INDEXES.items()
        if name.startswith(prefix) and index not in plan
    ]
