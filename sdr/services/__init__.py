"""The sdr app's public service API: what other apps, tasks and tests call.

Every name in ``__all__`` is re-exported here from the feature module that defines it, so
``from sdr.services import route_leads`` keeps working whichever module the function lives
in. Callers outside ``sdr`` import from here (or a feature module's public names); nothing
imports a module's ``_private`` names.

    routing.py       a new MQL gets a team (territory rule) and a rep (round-robin), with its
                     first-touch timer; the routing sweep; the hand-raiser tightening
    round_robin.py   the teams' round-robin positions, locked, and their available reps (also
                     used by accounts and renewals to deal handoffs and customers)
    reassignment.py  a manager moves leads; the SLA sweep moves breached ones
    touches.py       working the queue: touches, follow-ups, dispositions
    cadences.py      enrolling a lead in a cadence, its steps in business days, ending it
    bulk.py          the lead list's bulk actions: assign, nurture, disqualify, enroll
    common.py        the error, roles and the event helper the modules above share
"""

from . import cadences
from .bulk import MAX_BULK_LEADS, BulkReport, RowOutcome, bulk_assign, bulk_dispose, bulk_enroll
from .common import SDR_ROLES, SDR_TEAM_KINDS, SdrError
from .reassignment import reassign_breached, reassign_leads, reassign_queue
from .round_robin import TeamPool, lock_round_robins, save_round_robins
from .routing import (
    DEFAULT_POLICIES,
    ROUTING_SWEEP_BATCH,
    RoutingResult,
    first_touch_policies,
    on_hand_raised,
    on_sales_ready,
    pick_ae,
    route_leads,
    route_waiting_leads,
    tighten_first_touch,
)
from .touches import (
    ACTED_ON_BY_TOUCH,
    DISPOSITIONS,
    DISQUALIFY_REASONS,
    MAX_FOLLOW_UP,
    NURTURE_REASONS,
    TouchResult,
    dispose_lead,
    follow_up_time_problem,
    log_touch,
    set_follow_up,
)

__all__ = [
    "ACTED_ON_BY_TOUCH",
    "DEFAULT_POLICIES",
    "DISPOSITIONS",
    "DISQUALIFY_REASONS",
    "MAX_BULK_LEADS",
    "MAX_FOLLOW_UP",
    "NURTURE_REASONS",
    "ROUTING_SWEEP_BATCH",
    "SDR_ROLES",
    "SDR_TEAM_KINDS",
    "BulkReport",
    "RoutingResult",
    "RowOutcome",
    "SdrError",
    "TeamPool",
    "TouchResult",
    "bulk_assign",
    "bulk_dispose",
    "bulk_enroll",
    "cadences",
    "dispose_lead",
    "first_touch_policies",
    "follow_up_time_problem",
    "lock_round_robins",
    "log_touch",
    "on_hand_raised",
    "on_sales_ready",
    "pick_ae",
    "reassign_breached",
    "reassign_leads",
    "reassign_queue",
    "route_leads",
    "route_waiting_leads",
    "save_round_robins",
    "set_follow_up",
    "tighten_first_touch",
]
