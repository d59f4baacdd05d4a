"""Routing throughput: fresh MQLs routed by ``route_leads`` and by the routing sweep, beside
one set-based statement per batch."""

from dataclasses import dataclass, field

from django.utils import timezone

from ..env import connect
from ..timing import StatementTimer, Timer, statement_kinds
from .data import COUNTRIES, INDUSTRIES, DataSet

ROUTING_BATCH = 200  # what one capture hands route_leads (the figure)

FRESH_LEADS_SQL = """
INSERT INTO leads_lead (
    email, first_name, last_name, company, title, seniority, industry, employees,
    annual_revenue, country, phone, source, status, status_reason, hand_raiser, rating,
    fit_score, fit_grade, engagement_key, external_id, external_status, external_created_at, external_system, source_attributes, first_seen_at,
    captured_at, mql_at, status_changed_at, updated_at, campaign_id, owner_id, team_id
)
SELECT
    'fresh' || i || '@newco' || (i %% 5000) || '.example', 'Fresh', 'Lead' || i, 'Newco ' || (i %% 5000),
    'VP Sales', 'vp',
    (%(industries)s::text[])[1 + (i * 17) %% cardinality(%(industries)s::text[])],
    CASE WHEN i %% 5 = 0 THEN NULL ELSE 1 + (i * 31) %% 10000 END,
    NULL,
    (%(countries)s::text[])[1 + (i * 7) %% cardinality(%(countries)s::text[])],
    '', 'web', 'mql', '', i %% 10 = 3, '', 60, 'B', %(key)s, '', '', NULL, '', '{}'::jsonb,
    %(now)s::timestamptz - i * interval '1 second',
    %(now)s::timestamptz - i * interval '1 second', %(now)s::timestamptz - i * interval '1 second',
    %(now)s::timestamptz, %(now)s::timestamptz,
    (%(campaigns)s::bigint[])[1 + i %% cardinality(%(campaigns)s::bigint[])], NULL, NULL
FROM generate_series(1, %(n)s) AS i
"""

# Territory (the same rules, first match by position), round-robin by a window function
# (continuing from an offset, as the stored position would), the leads updated, a routed
# event and an open first-touch item each (due 4 h / 15 min on the wall clock: no calendars).
ROUTING_BASELINE_SQL = """
WITH batch AS (
    SELECT l.id, l.hand_raiser,
           (SELECT r.team_id FROM sdr_territoryrule r
            WHERE r.is_active
              AND (r.countries = '[]'::jsonb OR r.countries ? upper(l.country))
              AND (r.industries = '[]'::jsonb OR EXISTS (
                    SELECT 1 FROM jsonb_array_elements_text(r.industries) AS x(v)
                    WHERE lower(x.v) = lower(l.industry)))
              AND (r.min_employees IS NULL OR l.employees >= r.min_employees)
              AND (r.max_employees IS NULL OR l.employees <= r.max_employees)
            ORDER BY r.position, r.id LIMIT 1) AS team_id
    FROM leads_lead l
    WHERE l.id = ANY(%(ids)s::bigint[]) AND l.status = 'mql' AND l.owner_id IS NULL
    FOR UPDATE OF l
), numbered AS (
    SELECT b.*, row_number() OVER (PARTITION BY b.team_id ORDER BY b.hand_raiser DESC, b.id) - 1 AS n
    FROM batch b WHERE b.team_id IS NOT NULL
), reps AS (
    SELECT u.id, u.team_id, row_number() OVER (PARTITION BY u.team_id ORDER BY u.id) - 1 AS k,
           count(*) OVER (PARTITION BY u.team_id) AS size
    FROM team_user u
    WHERE u.team_id IN (SELECT team_id FROM numbered) AND u.role IN ('inbound_sdr', 'outbound_sdr')
      AND u.is_active AND NOT u.is_away
), assigned AS (
    UPDATE leads_lead l SET owner_id = r.id, team_id = n.team_id, updated_at = %(now)s
    FROM numbered n JOIN reps r ON r.team_id = n.team_id AND r.k = (n.n + %(offset)s) %% r.size
    WHERE l.id = n.id
    RETURNING l.id, l.owner_id, l.team_id, l.hand_raiser
), events AS (
    INSERT INTO leads_leadevent (lead_id, kind, at, via, from_status, to_status, message, actor_id, campaign_id)
    SELECT id, 'routed', %(now)s, '', '', '', 'Routed by rule', NULL, NULL FROM assigned
)
INSERT INTO work_workitem (kind, state, owner_id, team_id, content_type_id, object_id, title, note,
                           policy_id, created_at, due_at)
SELECT 'first_touch', 'open', a.owner_id, a.team_id, %(ct)s, a.id,
       CASE WHEN a.hand_raiser THEN 'Asked for a call' ELSE 'New MQL' END, '',
       CASE WHEN a.hand_raiser THEN %(hand_raiser_policy)s ELSE %(mql_policy)s END, %(now)s,
       %(now)s + CASE WHEN a.hand_raiser THEN interval '15 minutes' ELSE interval '4 hours' END
FROM assigned a
"""


@dataclass
class RoutingRun:
    mode: str
    batch: int
    leads: int
    seconds: float
    assigned: int
    unassigned: int
    unmatched: int
    baseline_seconds: float
    baseline_assigned: int
    queries_per_batch: int = 0
    statement_kinds: dict[str, list] = field(default_factory=dict)  # kind -> [count, ms]
    traced_batch_ms: float = 0.0

    @property
    def leads_per_second(self) -> float:
        return self.leads / self.seconds

    @property
    def baseline_leads_per_second(self) -> float:
        return self.leads / self.baseline_seconds

    @property
    def ratio(self) -> float:
        return self.leads_per_second / self.baseline_leads_per_second


def reset_routing(data: DataSet) -> None:
    with connect() as conn:
        conn.execute(
            "DELETE FROM work_workitem WHERE content_type_id = %s AND object_id > %s",
            [data.lead_ct, data.leads],
        )
        conn.execute("DELETE FROM leads_leadevent WHERE lead_id > %s", [data.leads])
        conn.execute(
            "UPDATE leads_lead SET owner_id = NULL, team_id = NULL WHERE id > %s AND owner_id IS NOT NULL",
            [data.leads],
        )
        conn.execute("UPDATE sdr_roundrobin SET last_user_id = NULL")
        for table in ("leads_lead", "work_workitem", "leads_leadevent"):
            conn.execute(f"VACUUM ANALYZE {table}")


def create_fresh_leads(data: DataSet, n: int) -> list[int]:
    from leads.models import ScoringSettings
    from leads.scoring import engagement_key

    now = timezone.now()
    with connect() as conn:
        conn.execute(
            FRESH_LEADS_SQL,
            {
                "n": n,
                "now": now,
                "countries": COUNTRIES,
                "industries": INDUSTRIES,
                "campaigns": data.campaigns,
                "key": engagement_key(45.0, now, ScoringSettings.load().half_life_days),
            },
        )
        conn.execute("VACUUM ANALYZE leads_lead")
        ids = [
            row[0]
            for row in conn.execute("SELECT id FROM leads_lead WHERE id > %s ORDER BY id", [data.leads])
        ]
    if len(ids) != n:
        raise RuntimeError(f"{len(ids)} fresh leads, expected {n}")
    return ids


def _routing_baseline(data: DataSet, batches: list[list[int]]) -> tuple[float, int]:
    from work.models import SlaPolicy

    assigned = 0
    with connect() as conn, Timer() as timer:
        for n, batch in enumerate(batches):
            assigned += conn.execute(
                ROUTING_BASELINE_SQL,
                {
                    "ids": batch,
                    "now": timezone.now(),
                    "offset": n * len(batch),
                    "ct": data.lead_ct,
                    "mql_policy": data.policies[SlaPolicy.FIRST_TOUCH_MQL],
                    "hand_raiser_policy": data.policies[SlaPolicy.FIRST_TOUCH_HAND_RAISER],
                },
            ).rowcount
    return timer.seconds, assigned


def measure_routing(data: DataSet, n: int, log=print) -> list[RoutingRun]:

    from sdr.services import ROUTING_SWEEP_BATCH, route_leads, route_waiting_leads

    ids = create_fresh_leads(data, n)
    runs = []
    for mode, batch in (
        (f"route_leads, batches of {ROUTING_BATCH} (capture path)", ROUTING_BATCH),
        (f"route_waiting_leads (routing sweep, batches of {ROUTING_SWEEP_BATCH})", ROUTING_SWEEP_BATCH),
    ):
        batches = [ids[k : k + batch] for k in range(0, len(ids), batch)]
        # One batch traced (statements by kind, with their execute() time), put back.
        reset_routing(data)
        with StatementTimer() as traced, Timer() as traced_batch:
            route_leads(lead_ids=batches[0])
        kinds = statement_kinds(traced.statements)
        reset_routing(data)
        log(f"queues: routing {n:,} leads: {mode}")
        with Timer() as timer:
            if batch == ROUTING_BATCH:
                assigned, unassigned, unmatched = {}, [], []
                for chunk in batches:
                    r = route_leads(lead_ids=chunk)
                    assigned.update(r.assigned)
                    unassigned += r.unassigned
                    unmatched += r.unmatched
            else:
                r = route_waiting_leads(limit=n)
                assigned, unassigned, unmatched = r.assigned, r.unassigned, r.unmatched
        if len(assigned) != n:
            raise RuntimeError(
                f"routing assigned {len(assigned)} of {n} ({len(unassigned)} unassigned, {len(unmatched)} unmatched)"
            )
        reset_routing(data)
        baseline_seconds, baseline_assigned = _routing_baseline(data, batches)
        if baseline_assigned != n:
            raise RuntimeError(f"the routing baseline assigned {baseline_assigned} of {n}")
        reset_routing(data)
        runs.append(
            RoutingRun(
                mode=mode,
                batch=batch,
                leads=n,
                seconds=timer.seconds,
                assigned=len(assigned),
                unassigned=len(unassigned),
                unmatched=len(unmatched),
                baseline_seconds=baseline_seconds,
                baseline_assigned=baseline_assigned,
                queries_per_batch=len(traced.statements),
                statement_kinds=kinds,
                traced_batch_ms=traced_batch.seconds * 1000,
            )
        )
        log(
            f"queues: {runs[-1].leads_per_second:,.0f} leads/s ({timer.seconds:.1f} s), {len(traced.statements)} queries"
            f" per batch of {batch}; baseline {runs[-1].baseline_leads_per_second:,.0f} leads/s"
        )
    return runs
