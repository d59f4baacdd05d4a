"""The statement computing the facts: ``WITH ... SELECT``, one row per lead, each CTE
aggregating one source table. What each column means (and where the services record it):

- ``campaign``, ``source``, ``fit_grade``, ``hand_raiser``, ``status``: the lead's, now.
  ``channel``: its campaign's channel ('' without a campaign).
- ``team``: the team the lead was routed to (``lead.team``), else its owner's team. The
  code proved "lead.team" alone wrong: a lead leaving sales (nurture, disqualified,
  recycled) has its team cleared (``leads.services.common.status_change``), which would drop
  every disposed lead out of its team's numbers; its owner is kept, and so is their team.
- ``sdr``: the SDR credited on the lead's first new-business opportunity (``hand_off`` sets
  it to the lead's owner, or the person handing off), else the lead's owner when the owner
  is an SDR (inbound or outbound).
- ``ae``: the owner of the first accepted new-business opportunity, else of the first one.
  An AE covering a teammate's handoff becomes its owner (``accept_handoff``), so it counts.
- ``origin``: outbound when the lead's source is outbound prospecting (that is how
  ``hand_off`` decides an opportunity's origin, and every prospect added on a target
  account is captured with that source) or any of its new-business opportunities is
  outbound; inbound otherwise.
- ``captured_at``: ``lead.captured_at``, when Refinery could act (speed to lead starts here).
- ``first_seen_at``: ``lead.first_seen_at``, when the person arrived anywhere: the source
  system's created date for an imported lead, else the capture. Cohorts cut on it.
- ``mql_at``: the first time it became an MQL or raised its hand: the earliest of a
  ``captured`` or ``status`` event to MQL, a ``hand_raised`` event, and ``lead.mql_at`` (the
  last promotion; it covers leads written without events). An outbound prospect starts as
  working, so it has no MQL moment unless the prospect later asks for a call.
- ``routed_at``: the first ``routed`` event (routing, the unassigned queue, or an AM claim).
- ``first_touch_at`` / ``last_touch_at``: the first and last rep touch: an ``Activity`` of a
  kind in ``leads.models.TOUCH_KINDS`` from ``TOUCH_SOURCES``: logged by a person (source
  ``manual``, what ``sdr.services.log_touch`` writes) or an email Refinery sent for the rep
  (source ``email``).
- ``handed_off_at`` / ``accepted_at`` / ``rejected_at``: the first of each over the lead's
  new-business opportunities (renewals and upsells are the AMs', not the funnel's);
  ``reject_reason``: of the first rejected one.
- ``won_at`` / ``won_amount``: the first won one's ``closed_at`` and amount; ``lost_at`` /
  ``lost_reason`` / ``early_loss``: the first lost one's (``early_loss`` as ``move_stage``
  flagged it, ``accounts.models.EARLY_LOSS_DAYS``).
- ``accepted_amount``: the sum of the amounts of the accepted opportunities (NULL when none
  was accepted or none has an amount).
- ``closed_out_at`` / ``close_out_reason`` / ``close_out_status``: the LAST status event to
  disqualified, or to nurture from a sales status (MQL, working, handed off), with its
  message (the SDR's disposition reason, or the cooling sweep's "engagement decayed" for an
  unworked MQL) and its ``to_status`` ('disqualified' or 'nurture'). The lead's status now
  cannot say which: a lead sent to nurture, later handed off, lost and recycled is
  'recycled' now, and a disqualified lead recycled and worked again is 'working'.
- ``response_seconds``: ``first_touch_at`` minus the moment the clock started
  (``routed_at``, else ``mql_at``, else ``captured_at``), in whole seconds (rounded), never
  negative; NULL while untouched.
- ``response_business_seconds``: the same interval counted only while the lead's team was
  at work, in its team's ``BusinessCalendar`` (hours, holidays, time zone, DST exactly as
  ``team.calendar`` counts an SLA: a table of the calendars' open spans in UTC, built in
  Python by ``team.calendar``'s own day walk, and a SQL SUM of the overlaps). A lead with no
  team (never routed, no owner) counts the wall clock, and so does a calendar with no hours
  (as ``work.services.Schedules`` does for SLAs).
- ``first_touch_breached``: the lead's first-touch work item has a breach (the sweep recorded
  one). Stored so the speed diagnosis counts a column, not a probe of the work items per lead.
"""

from collections.abc import Sequence
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Opportunity
from leads.models import TOUCH_KINDS, TOUCH_SOURCES, Activity, Campaign, Lead, LeadEvent
from team.models import Role, Team, User
from work.models import Breach, WorkItem

from ..models import LeadFact
from .dialect import adapt, bigint, days_before, earliest, greatest, least, seconds_between
from .spans import SPANS, days_needed, materialize_spans

SALES_STATUSES = (Lead.Status.MQL, Lead.Status.WORKING, Lead.Status.HANDED_OFF)
SDR_ROLES = (Role.INBOUND_SDR, Role.OUTBOUND_SDR)

# The columns written, in the order the SELECT produces them.
COLUMNS = (
    "lead_id",
    "campaign_id",
    "channel",
    "source",
    "team_id",
    "sdr_id",
    "ae_id",
    "origin",
    "fit_grade",
    "hand_raiser",
    "status",
    "captured_at",
    "first_seen_at",
    "mql_at",
    "routed_at",
    "first_touch_at",
    "last_touch_at",
    "handed_off_at",
    "accepted_at",
    "rejected_at",
    "won_at",
    "lost_at",
    "closed_out_at",
    "response_seconds",
    "response_business_seconds",
    "first_touch_breached",
    "accepted_amount",
    "won_amount",
    "reject_reason",
    "lost_reason",
    "early_loss",
    "close_out_reason",
    "close_out_status",
    "refreshed_at",
)


def facts_sql_for(lead_ids: "QuerySet | tuple[str, Sequence] | None") -> tuple[str, list]:
    """The SELECT computing the facts of the leads ``lead_ids`` names (a queryset of lead ids,
    e.g. ``Lead.objects.filter(...).values("id")``, or ``(sql, params)`` with one column of
    ids; None: every lead), one row per lead with the columns in ``COLUMNS`` order.

    ``response_business_seconds`` reads the calendars' open spans from a temporary table:
    this fills it (in this connection) for the days those leads need, so run the SQL on the
    same connection before anything else refreshes it."""
    targets, now = _targets(lead_ids), timezone.now()
    first, last = days_needed(targets, now)
    with connection.cursor() as cursor:
        materialize_spans(cursor, first or now.date(), last or now.date())
    return facts_select(targets, now)


def _targets(lead_ids) -> tuple[str, list] | None:
    if lead_ids is None:
        return None
    if isinstance(lead_ids, QuerySet):
        sql, params = lead_ids.order_by().query.sql_with_params()
        return sql, list(params)
    sql, params = lead_ids
    return sql, list(params)


def facts_select(targets: tuple[str, list] | None, now: datetime) -> tuple[str, list]:
    """WITH ... SELECT: one fact row per target lead. Each CTE aggregates one source table
    (restricted to the targets), and the lead row joins them once."""
    event, activity = LeadEvent._meta.db_table, Activity._meta.db_table
    opportunity, lead = Opportunity._meta.db_table, Lead._meta.db_table
    params: list = []
    if targets is None:
        with_targets, only, leads = "", lambda column: "", f"{lead} l"
    else:
        # Distinct (an upsert may not touch a row twice), and the leads read from the targets
        # by key: PostgreSQL misjudges a CTE's size and would otherwise scan every lead.
        with_targets = f"targets(lead_id) AS (SELECT DISTINCT * FROM ({targets[0]}) given),"
        leads = f"targets JOIN {lead} l ON l.id = targets.lead_id"
        params += targets[1]
        only = lambda column: f" AND {column} IN (SELECT lead_id FROM targets)"  # noqa: E731

    S, K = Lead.Status, LeadEvent.Kind

    def quoted(values) -> str:
        return ", ".join(f"'{v}'" for v in values)  # our own enum values, never user input

    mql_event = f"e.kind = '{K.HAND_RAISED}' OR (e.kind IN ('{K.CAPTURED}', '{K.STATUS}') AND e.to_status = '{S.MQL}')"
    closes_out = (
        f"e.kind = '{K.STATUS}' AND (e.to_status = '{S.DISQUALIFIED}'"
        f" OR (e.to_status = '{S.NURTURE}' AND e.from_status IN ({quoted(SALES_STATUSES)})))"
    )
    mql_at = earliest("ev.mql_at", "l.mql_at")
    clock_start = f"COALESCE(ev.routed_at, {mql_at}, l.captured_at)"
    new = Opportunity.Kind.NEW_BUSINESS
    OS = Opportunity.Status
    spans_sql = (
        f"SELECT SUM({seconds_between(least('s.ends_at', 'b.first_touch_at'), greatest('s.starts_at', 'b.clock_start'))})"
        f" FROM {SPANS} s WHERE s.calendar_id = b.calendar_id AND s.starts_at >= {days_before('b.clock_start', 2)}"
        " AND s.starts_at < b.first_touch_at AND s.ends_at > b.clock_start"
    )
    wall = f"ROUND({seconds_between('b.first_touch_at', 'b.clock_start')})"
    sql = f"""
    WITH {with_targets}
    ev AS (
        SELECT e.lead_id,
            MIN(CASE WHEN {mql_event} THEN e.at END) AS mql_at,
            MIN(CASE WHEN e.kind = '{K.ROUTED}' THEN e.at END) AS routed_at
        FROM {event} e
        WHERE e.kind IN ('{K.HAND_RAISED}', '{K.CAPTURED}', '{K.STATUS}', '{K.ROUTED}'){only("e.lead_id")}
        GROUP BY e.lead_id
    ),
    closeout AS (
        SELECT lead_id, at, message, to_status FROM (
            SELECT e.lead_id, e.at, e.message, e.to_status,
                ROW_NUMBER() OVER (PARTITION BY e.lead_id ORDER BY e.at DESC, e.id DESC) AS n
            FROM {event} e WHERE {closes_out}{only("e.lead_id")}
        ) last_one WHERE n = 1
    ),
    touch AS (
        SELECT a.lead_id, MIN(a.occurred_at) AS first_at, MAX(a.occurred_at) AS last_at
        FROM {activity} a
        WHERE a.kind IN ({quoted(TOUCH_KINDS)}) AND a.source IN ({quoted(TOUCH_SOURCES)}){only("a.lead_id")}
        GROUP BY a.lead_id
    ),
    breached AS (
        SELECT DISTINCT w.object_id AS lead_id
        FROM {WorkItem._meta.db_table} w JOIN {Breach._meta.db_table} br ON br.work_item_id = w.id
        WHERE w.kind = '{WorkItem.Kind.FIRST_TOUCH}' AND w.content_type_id = {lead_type_id():d}{only("w.object_id")}
    ),
    ranked AS (
        SELECT o.lead_id, o.sdr_id, o.owner_id, o.origin, o.status, o.amount, o.handed_off_at,
            o.accepted_at, o.rejected_at, o.reject_reason, o.closed_at, o.lost_reason, o.early_loss,
            ROW_NUMBER() OVER (PARTITION BY o.lead_id ORDER BY o.handed_off_at, o.id) AS n_handoff,
            ROW_NUMBER() OVER (
                PARTITION BY o.lead_id, CASE WHEN o.accepted_at IS NULL THEN 1 ELSE 0 END
                ORDER BY o.accepted_at, o.id
            ) AS n_accepted,
            ROW_NUMBER() OVER (
                PARTITION BY o.lead_id, o.status ORDER BY o.closed_at, o.rejected_at, o.id
            ) AS n_status
        FROM {opportunity} o
        WHERE o.kind = '{new}' AND o.lead_id IS NOT NULL{only("o.lead_id")}
    ),
    opp AS (
        SELECT lead_id,
            MIN(handed_off_at) AS handed_off_at,
            MIN(accepted_at) AS accepted_at,
            MIN(rejected_at) AS rejected_at,
            SUM(CASE WHEN accepted_at IS NOT NULL THEN amount END) AS accepted_amount,
            MAX(CASE WHEN n_handoff = 1 THEN sdr_id END) AS sdr_id,
            MAX(CASE WHEN n_handoff = 1 THEN owner_id END) AS first_owner_id,
            MAX(CASE WHEN n_accepted = 1 AND accepted_at IS NOT NULL THEN owner_id END) AS accepted_owner_id,
            MAX(CASE WHEN n_status = 1 AND status = '{OS.REJECTED}' THEN reject_reason END) AS reject_reason,
            MAX(CASE WHEN n_status = 1 AND status = '{OS.WON}' THEN closed_at END) AS won_at,
            MAX(CASE WHEN n_status = 1 AND status = '{OS.WON}' THEN amount END) AS won_amount,
            MAX(CASE WHEN n_status = 1 AND status = '{OS.LOST}' THEN closed_at END) AS lost_at,
            MAX(CASE WHEN n_status = 1 AND status = '{OS.LOST}' THEN lost_reason END) AS lost_reason,
            MAX(CASE WHEN n_status = 1 AND status = '{OS.LOST}' AND early_loss THEN 1 ELSE 0 END) AS early_loss,
            MAX(CASE WHEN origin = '{Opportunity.Origin.OUTBOUND}' THEN 1 ELSE 0 END) AS outbound
        FROM ranked GROUP BY lead_id
    ),
    base AS (
        SELECT l.id AS lead_id, l.campaign_id, COALESCE(c.channel, '') AS channel, l.source,
            COALESCE(l.team_id, lo.team_id) AS team_id,
            COALESCE(opp.sdr_id, CASE WHEN lo.role IN ({quoted(SDR_ROLES)}) THEN l.owner_id END) AS sdr_id,
            COALESCE(opp.accepted_owner_id, opp.first_owner_id) AS ae_id,
            CASE WHEN l.source = '{LeadFact.Origin.OUTBOUND}' OR opp.outbound = 1
                THEN '{LeadFact.Origin.OUTBOUND}' ELSE '{LeadFact.Origin.INBOUND}' END AS origin,
            l.fit_grade, l.hand_raiser, l.status, l.captured_at, l.first_seen_at,
            {mql_at} AS mql_at, ev.routed_at, touch.first_at AS first_touch_at, touch.last_at AS last_touch_at,
            opp.handed_off_at, opp.accepted_at, opp.rejected_at, opp.won_at, opp.lost_at,
            closeout.at AS closed_out_at, opp.accepted_amount, opp.won_amount,
            COALESCE(opp.reject_reason, '') AS reject_reason, COALESCE(opp.lost_reason, '') AS lost_reason,
            COALESCE(opp.early_loss, 0) AS early_loss,
            SUBSTR(COALESCE(closeout.message, ''), 1, 300) AS close_out_reason,
            COALESCE(closeout.to_status, '') AS close_out_status,
            {clock_start} AS clock_start,
            tm.calendar_id,
            CASE WHEN breached.lead_id IS NULL THEN 0 ELSE 1 END AS breached
        FROM {leads}
        LEFT JOIN {Campaign._meta.db_table} c ON c.id = l.campaign_id
        LEFT JOIN {User._meta.db_table} lo ON lo.id = l.owner_id
        LEFT JOIN {Team._meta.db_table} tm ON tm.id = COALESCE(l.team_id, lo.team_id)
        LEFT JOIN ev ON ev.lead_id = l.id
        LEFT JOIN touch ON touch.lead_id = l.id
        LEFT JOIN opp ON opp.lead_id = l.id
        LEFT JOIN closeout ON closeout.lead_id = l.id
        LEFT JOIN breached ON breached.lead_id = l.id
        WHERE 1 = 1
    )
    SELECT b.lead_id, b.campaign_id, b.channel, b.source, b.team_id, b.sdr_id, b.ae_id, b.origin,
        b.fit_grade, b.hand_raiser, b.status, b.captured_at, b.first_seen_at, b.mql_at, b.routed_at,
        b.first_touch_at, b.last_touch_at, b.handed_off_at, b.accepted_at, b.rejected_at,
        b.won_at, b.lost_at, b.closed_out_at,
        CASE WHEN b.first_touch_at IS NULL THEN NULL
            WHEN b.first_touch_at <= b.clock_start THEN 0
            ELSE {bigint(wall)} END AS response_seconds,
        CASE WHEN b.first_touch_at IS NULL THEN NULL
            WHEN b.first_touch_at <= b.clock_start THEN 0
            WHEN b.calendar_id IS NULL THEN {bigint(wall)}
            ELSE {bigint(f"ROUND(COALESCE(({spans_sql}), 0))")} END AS response_business_seconds,
        b.breached = 1 AS first_touch_breached,
        b.accepted_amount, b.won_amount, b.reject_reason, b.lost_reason,
        b.early_loss = 1 AS early_loss, b.close_out_reason, b.close_out_status, %s AS refreshed_at
    FROM base b
    WHERE 1 = 1
    """
    params.append(adapt(now))
    return sql, params


def lead_type_id() -> int:
    """The content type of a lead (what a first-touch work item points at); cached by Django."""
    return ContentType.objects.get_for_model(Lead).pk
