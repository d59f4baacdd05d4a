"""Figure 5: the AE's inbox and pipeline, and handoff and accept throughput (issue 4), each
beside the bare SQL doing the same work.

1. The pages: server time per request (p50/p95) and queries per request of ``GET /inbox/``
   (URL ``accounts:inbox``), ``GET /pipeline/`` (``accounts:pipeline``, the board) and
   ``GET /pipeline/?view=list`` through Django's test ``Client``, in process: one client, like
   one server process, each request carrying the session of one of 39 AEs who own about
   2,560 opportunities each (about 128 awaiting acceptance, 1,280 open in the pipeline). The
   same pages for an AE who owns 40 (a new hire): the query count must be the same. Baseline:
   the statements one request sent (its SELECTs, exactly as sent), run again through a
   cursor. A page whose URL does not resolve yet is reported as not measured.
2. Handoff and accept throughput: ``accounts.services.hand_off`` on working leads, each by
   the SDR who owns it, the AE picked by the AE teams' territory rules and round-robin (so
   the round-robin row lock is included), then ``accept_handoff`` of each by its AE. One at
   a time in this process (the sequential figure; queries per operation counted on the first
   few, which are not timed), then two processes at once on other leads. Baseline: one
   statement per handoff (the lead's status, the contact at the account found by domain, the
   opportunity, its event, the lead's work items closed, the acceptance item) and one per
   accept, through a cursor, each its own transaction.

The data set, in SQL (``INSERT ... SELECT FROM generate_series``): the queues figure's leads
and 200 SDRs (``bench.queues.generate``; the queues figure's own data set when it ran in the
same run), 4 AE teams of 10 AEs with a manager, business calendars and territory rules,
30,000 accounts, and 100,000 opportunities with their leads (one each: the live ones must be
distinct), contacts, timelines and acceptance work items: 5% awaiting acceptance (a third
past their due time, breached), 10% rejected, 50% open across the four open stages, 20% won,
15% lost (about a third of them early losses).

Run as a module (``python -m bench.opportunities hand_off|accept``) it is the worker of the
parallel measurement: it reads its (subject, actor) pairs as JSON on stdin, says ``ready``,
waits for ``go``, works and prints one JSON line.
"""

import gc
import json
import random
import statistics
import subprocess
import sys
import time as wall
from dataclasses import dataclass, field
from time import perf_counter_ns as time_ns

import psycopg
from django.utils import timezone

from .env import BASE_DIR, PYTHON, connect, create_team
from .markdown import span
from .plans import abridge, explain, select_statements
from .timing import (
    PageTimes,
    StatementTimer,
    Timer,
    percentile,
    replay_statements,
    statement_kinds,
    time_requests,
)

QUEUE_LEADS = 100_000  # the queues data set under the opportunities, when made for this figure
AES_PER_TEAM = 10
ACCOUNTS = 30_000
SMALL_AE_OPPORTUNITIES = 40  # the new hire: 2 awaiting acceptance, 20 open
PAGE_WARMUP = 20
QUERY_COUNT_SAMPLE = 10  # big-load AEs whose requests are counted (and the small one)
SMALL_AE_REQUESTS = 50
TRACED_OPERATIONS = 20  # handoffs / accepts counted with CaptureQueriesContext, not timed
PARALLEL = 2
BIG_TABLES = (
    "accounts_opportunity",
    "accounts_opportunityevent",
    "accounts_contact",
    "accounts_account",
    "work_workitem",
    "leads_lead",
    "leads_leadevent",
    "leads_activity",
)

# (team, calendar zone, territory rules: (position, countries, min employees)). Handoffs use
# only rules naming a team of AEs; the last is the catch-all.
AE_TEAMS = [
    (
        "Sales EMEA",
        "Europe/London",
        [(110, ["DE", "AT", "CH", "GB", "IE", "FR", "ES", "IT", "NL", "SE"], None)],
    ),
    ("Sales NA Enterprise", "America/New_York", [(120, ["US", "CA"], 1000)]),
    ("Sales NA Commercial", "America/Chicago", [(130, ["US", "CA"], None)]),
    ("Sales APAC & LatAm", "Asia/Singapore", [(1100, [], None)]),
]
PAGES = (
    ("inbox", "accounts:inbox", ""),
    ("pipeline board", "accounts:pipeline", ""),
    ("pipeline list", "accounts:pipeline", "?view=list"),
)
QUALIFYING = {  # as tests/factories.qualifying()
    "budget": "partly",
    "authority": "confirmed",
    "need": "confirmed",
    "timing": "partly",
    "budget_note": "Budget is being set for Q1.",
    "authority_note": "Head of sales ops, signs off up to 50k.",
    "need_note": "Their SDRs miss hand-raisers; they lose deals to slow follow-up.",
    "timing_note": "Wants a tool live before the spring campaign.",
}

# --- the data set --------------------------------------------------------------------------

# One row per opportunity j (0 to n - 1): its opportunity, contact and lead ids, status, AE,
# SDR and moments. j % 20 decides the status (0: awaiting acceptance, 1-2 rejected, 3-12 open,
# 13-16 won, 17-19 lost); blocks of 20 go to one AE in turn, so each AE has the same mix.
PLAN_SQL = """
CREATE TEMP TABLE bench_plan AS
WITH g AS (
    SELECT j, j %% 20 AS slot, hashint8(j)::bigint + 2147483648 AS h,  -- a spread, 0 to 2^32
           (%(reps)s::bigint[])[1 + j %% cardinality(%(reps)s::bigint[])] AS sdr_id,
           (%(rep_teams)s::bigint[])[1 + j %% cardinality(%(reps)s::bigint[])] AS sdr_team_id,
           1 + (j / 20) %% cardinality(%(big_aes)s::bigint[]) AS ae
    FROM generate_series(0::bigint, %(n)s - 1) AS j
), s AS (
    SELECT g.*,
        CASE WHEN slot = 0 THEN 'handed_off' WHEN slot <= 2 THEN 'rejected' WHEN slot <= 12 THEN 'open'
             WHEN slot <= 16 THEN 'won' ELSE 'lost' END AS status,
        CASE WHEN j < %(small_n)s THEN %(small_ae)s ELSE (%(big_aes)s::bigint[])[ae] END AS owner_id,
        CASE WHEN j < %(small_n)s THEN %(small_ae_team)s ELSE (%(big_ae_teams)s::bigint[])[ae] END AS owner_team_id
    FROM g
), t AS (
    SELECT s.*,
        CASE status
            -- awaiting acceptance: handed off in the last 36 hours (due 24 hours later)
            WHEN 'handed_off' THEN %(now)s::timestamptz - (h %% 2160) * interval '1 minute'
            WHEN 'open' THEN %(now)s::timestamptz - (2 + h %% 180) * interval '1 day' - (h %% 86400) * interval '1 second'
            ELSE %(now)s::timestamptz - (3 + h %% 727) * interval '1 day' - (h %% 86400) * interval '1 second'
        END AS handed_off_at
    FROM s
), u AS (
    SELECT t.*,
        CASE WHEN status IN ('open', 'won', 'lost') THEN handed_off_at + (1 + h %% 26) * interval '1 hour' END
            AS accepted_at,
        CASE WHEN status = 'rejected' THEN handed_off_at + (1 + h %% 26) * interval '1 hour' END AS rejected_at
    FROM t
)
SELECT u.*,
    %(base)s + j + 1 AS lead_id,
    j + 1 AS id,
    j %% %(accounts)s AS account,
    CASE status
        WHEN 'won' THEN LEAST(accepted_at + (20 + h %% 150) * interval '1 day', %(now)s::timestamptz - interval '1 hour')
        WHEN 'lost' THEN LEAST(accepted_at + CASE WHEN h %% 10 < 3 THEN (1 + h %% 13) ELSE 15 + h %% 150 END
                                             * interval '1 day', %(now)s::timestamptz - interval '1 hour')
    END AS closed_at,
    CASE status
        WHEN 'open' THEN (%(open_stages)s::bigint[])[CASE WHEN h %% 100 < 35 THEN 1 WHEN h %% 100 < 65 THEN 2
                                                          WHEN h %% 100 < 85 THEN 3 ELSE 4 END]
        WHEN 'won' THEN %(won_stage)s
        WHEN 'lost' THEN %(lost_stage)s
    END AS stage_id
FROM u
"""

ACCOUNTS_SQL = """
INSERT INTO accounts_account (id, name, domain, industry, country, employees, prospector_id, created_at)
SELECT a + 1, 'Company ' || a, 'company' || a || '.example',
       (%(industries)s::text[])[1 + (a * 17) %% cardinality(%(industries)s::text[])],
       (%(countries)s::text[])[1 + (a * 31) %% cardinality(%(countries)s::text[])],
       CASE WHEN a %% 5 = 0 THEN NULL ELSE 1 + (a * 31) %% 10000 END,
       NULL, %(now)s::timestamptz - (a %% 900) * interval '1 day'
FROM generate_series(0, %(accounts)s - 1) AS a
"""

# The opportunities' leads: handed off (awaiting acceptance or open), won or lost with their
# opportunity, or back in the SDR's hands (working) after a rejection.
LEADS_SQL = """
INSERT INTO leads_lead (
    id, email, first_name, last_name, company, title, seniority, industry, employees,
    annual_revenue, country, phone, source, status, status_reason, hand_raiser, rating,
    fit_score, fit_grade, engagement_key, external_id, external_status, external_created_at,
    captured_at, mql_at, status_changed_at, updated_at, campaign_id, owner_id, team_id
)
SELECT
    lead_id,
    'o' || j || '@company' || account || '.example',
    (ARRAY['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Margaret', 'Donald'])[1 + j %% 8],
    'Buyer' || j,
    'Company ' || account,
    (ARRAY['VP Sales', 'CTO', 'Head of Revenue Operations', 'Director of IT', 'CEO'])[1 + h %% 5],
    (ARRAY['vp', 'c_level', 'director', 'director', 'c_level'])[1 + h %% 5],
    (%(industries)s::text[])[1 + (account * 17) %% cardinality(%(industries)s::text[])],
    CASE WHEN account %% 5 = 0 THEN NULL ELSE 1 + (account * 31) %% 10000 END,
    NULL,
    (%(countries)s::text[])[1 + (account * 31) %% cardinality(%(countries)s::text[])],
    '+1-555-' || lpad((j %% 10000)::text, 4, '0'),
    CASE WHEN h %% 5 = 0 THEN 'outbound' ELSE 'web' END,
    CASE status WHEN 'rejected' THEN 'working' WHEN 'won' THEN 'won' WHEN 'lost' THEN 'lost'
                ELSE 'handed_off' END,
    '', h %% 7 = 0, '', 40 + h %% 60,
    CASE WHEN 40 + h %% 60 >= 75 THEN 'A' ELSE 'B' END,
    ln(15 + h %% 200) / ln(2) + %(half_lives)s,
    '', '', NULL,
    handed_off_at - interval '10 days', handed_off_at - interval '9 days',
    COALESCE(closed_at, rejected_at, handed_off_at), COALESCE(closed_at, rejected_at, handed_off_at),
    CASE WHEN h %% 3 = 0 THEN NULL ELSE (%(campaigns)s::bigint[])[1 + h %% cardinality(%(campaigns)s::bigint[])] END,
    sdr_id, sdr_team_id
FROM bench_plan
"""

CONTACTS_SQL = """
INSERT INTO accounts_contact (id, account_id, lead_id, email, first_name, last_name, title, phone, created_at)
SELECT p.id, p.account + 1, p.lead_id, l.email, l.first_name, l.last_name, l.title, l.phone, p.handed_off_at
FROM bench_plan p JOIN leads_lead l ON l.id = p.lead_id
"""

OPPORTUNITIES_SQL = """
INSERT INTO accounts_opportunity (
    id, name, status, origin, budget, budget_note, authority, authority_note, need, need_note, timing,
    timing_note, asked_for_meeting, proposed_meeting_at, amount, close_date, next_step, handed_off_at,
    accepted_at, rejected_at, reject_reason, reject_note, closed_at, lost_reason, lost_note, early_loss,
    updated_at, account_id, campaign_id, contact_id, lead_id, owner_id, sdr_id, stage_id
)
SELECT
    p.id, 'Company ' || p.account || ': ' || l.first_name || ' ' || l.last_name, p.status,
    CASE WHEN l.source = 'outbound' THEN 'outbound' ELSE 'inbound' END,
    (ARRAY['confirmed', 'partly', 'unknown'])[1 + p.h %% 3], 'Budget approved for this fiscal year.',
    (ARRAY['confirmed', 'partly'])[1 + p.h %% 2], 'Reports to the CRO, who signs.',
    (ARRAY['confirmed', 'partly'])[1 + (p.h / 2) %% 2], 'Their SDRs miss hand-raisers; slow follow-up loses deals.',
    (ARRAY['confirmed', 'partly', 'unknown'])[1 + (p.h / 3) %% 3], 'Wants it live before the spring campaign.',
    p.h %% 4 = 0,
    CASE WHEN p.h %% 2 = 0 THEN p.handed_off_at + interval '3 days' END,
    CASE WHEN p.status = 'rejected' OR (p.status = 'handed_off' AND p.h %% 2 = 0) THEN NULL
         ELSE 5000 + (p.h %% 290) * 500 END,
    CASE WHEN p.status = 'open' THEN (%(now)s::timestamptz + (p.h %% 130 - 10) * interval '1 day')::date
         WHEN p.status IN ('won', 'lost') THEN p.closed_at::date END,
    CASE WHEN p.status = 'open' THEN (ARRAY['Demo with the sales ops team', 'Send the proposal',
        'Security review call', 'Pricing call with the CFO', 'Trial kick-off'])[1 + p.h %% 5] ELSE '' END,
    p.handed_off_at, p.accepted_at, p.rejected_at,
    CASE WHEN p.status = 'rejected' THEN (%(reject_reasons)s::text[])[1 + p.h %% cardinality(%(reject_reasons)s::text[])]
         ELSE '' END,
    CASE WHEN p.status = 'rejected' THEN 'No project this year; came for the webinar.' ELSE '' END,
    p.closed_at,
    CASE WHEN p.status = 'lost' THEN (%(lost_reasons)s::text[])[1 + p.h %% cardinality(%(lost_reasons)s::text[])]
         ELSE '' END,
    '',
    p.status = 'lost' AND p.closed_at - p.accepted_at <= %(early_loss_days)s * interval '1 day',
    COALESCE(p.closed_at, p.rejected_at, p.accepted_at, p.handed_off_at),
    p.account + 1, l.campaign_id, p.id, p.lead_id, p.owner_id, p.sdr_id, p.stage_id
FROM bench_plan p JOIN leads_lead l ON l.id = p.lead_id
"""

# The timeline: handed off; accepted or rejected; one stage move for an opportunity past
# Discovery; won or lost.
EVENTS_SQL = """
INSERT INTO accounts_opportunityevent (opportunity_id, kind, at, actor_id, from_stage, to_stage, message)
SELECT p.id, 'handed_off', p.handed_off_at, p.sdr_id, '', '', 'Handed off by the SDR.' FROM bench_plan p
UNION ALL
SELECT p.id, 'accepted', p.accepted_at, p.owner_id, '', 'Discovery', 'Accepted.'
FROM bench_plan p WHERE p.accepted_at IS NOT NULL
UNION ALL
SELECT p.id, 'rejected', p.rejected_at, p.owner_id, '', '', 'Handoff rejected: no project this year.'
FROM bench_plan p WHERE p.rejected_at IS NOT NULL
UNION ALL
SELECT p.id, 'stage', p.accepted_at + (p.h %% 20 + 1) * interval '1 day', p.owner_id, 'Discovery', s.name, ''
FROM bench_plan p JOIN accounts_stage s ON s.id = p.stage_id
WHERE p.status = 'open' AND s.position > 10
UNION ALL
SELECT p.id, p.status, p.closed_at, p.owner_id, 'Negotiation', s.name, initcap(p.status) || '.'
FROM bench_plan p JOIN accounts_stage s ON s.id = p.stage_id
WHERE p.status IN ('won', 'lost')
"""

# Every opportunity had an acceptance timer: open for those awaiting acceptance (due a day
# after the handoff; breached when that is past), done for the others (late when answered
# after a day, with their breach).
ITEMS_SQL = """
INSERT INTO work_workitem (kind, state, owner_id, team_id, content_type_id, object_id, title, note,
                           policy_id, created_at, due_at, breached_at, reassign_at, completed_at,
                           completed_by_id)
SELECT 'accept_handoff',
       CASE WHEN p.status = 'handed_off' THEN 'open' ELSE 'done' END,
       p.owner_id, p.owner_team_id, %(ct)s, p.id,
       'Accept or reject: Company ' || p.account, '', %(policy)s,
       p.handed_off_at, p.handed_off_at + interval '1 day',
       CASE WHEN COALESCE(p.accepted_at, p.rejected_at, %(now)s::timestamptz) > p.handed_off_at + interval '1 day'
            THEN p.handed_off_at + interval '1 day 1 minute' END,
       NULL,
       COALESCE(p.accepted_at, p.rejected_at),
       CASE WHEN p.status <> 'handed_off' THEN p.owner_id END
FROM bench_plan p
ORDER BY p.status = 'handed_off', p.id
"""

BREACHES_SQL = """
INSERT INTO work_breach (work_item_id, policy_id, owner_id, team_id, due_at, detected_at, escalation,
                         escalated_at, note)
SELECT id, policy_id, owner_id, team_id, due_at, breached_at, 'sent', breached_at, ''
FROM work_workitem WHERE kind = 'accept_handoff' AND breached_at IS NOT NULL
"""

# --- baselines -----------------------------------------------------------------------------

# One handoff in one statement: the lead handed off, its contact at the account of its
# email's domain, the opportunity and its event, the lead's event, its open work items
# closed (the first touch done, the rest cancelled), the AE's acceptance item (due a day
# later, on the wall clock). No territory rule, round-robin lock, cadence or calendar.
HANDOFF_BASELINE_SQL = """
WITH lead AS (
    UPDATE leads_lead SET status = 'handed_off', status_changed_at = %(now)s, updated_at = %(now)s
    WHERE id = %(lead)s AND status IN ('mql', 'working')
    RETURNING id, email, first_name, last_name, title, phone, company, campaign_id, owner_id, source
), contact AS (
    INSERT INTO accounts_contact (account_id, lead_id, email, first_name, last_name, title, phone, created_at)
    SELECT (SELECT a.id FROM accounts_account a WHERE a.domain = split_part(lead.email, '@', 2)),
           lead.id, lead.email, lead.first_name, lead.last_name, lead.title, lead.phone, %(now)s
    FROM lead
    RETURNING id, account_id
), opportunity AS (
    INSERT INTO accounts_opportunity (
        name, status, origin, budget, budget_note, authority, authority_note, need, need_note, timing,
        timing_note, asked_for_meeting, proposed_meeting_at, amount, close_date, next_step, handed_off_at,
        accepted_at, rejected_at, reject_reason, reject_note, closed_at, lost_reason, lost_note, early_loss,
        updated_at, account_id, campaign_id, contact_id, lead_id, owner_id, sdr_id, stage_id)
    SELECT lead.company || ': ' || lead.first_name || ' ' || lead.last_name, 'handed_off',
           CASE WHEN lead.source = 'outbound' THEN 'outbound' ELSE 'inbound' END,
           %(budget)s, %(budget_note)s, %(authority)s, %(authority_note)s, %(need)s, %(need_note)s,
           %(timing)s, %(timing_note)s, false, NULL, NULL, NULL, '', %(now)s, NULL, NULL, '', '', NULL,
           '', '', false, %(now)s, contact.account_id, lead.campaign_id, contact.id, lead.id, %(ae)s,
           lead.owner_id, NULL
    FROM lead, contact
    RETURNING id, name
), event AS (
    INSERT INTO accounts_opportunityevent (opportunity_id, kind, at, actor_id, from_stage, to_stage, message)
    SELECT id, 'handed_off', %(now)s, %(by)s, '', '', 'Handed off.' FROM opportunity
), lead_event AS (
    INSERT INTO leads_leadevent (lead_id, kind, at, via, from_status, to_status, message, actor_id, campaign_id)
    SELECT id, 'status', %(now)s, 'manual', 'working', 'handed_off', 'Handed off', %(by)s, campaign_id FROM lead
), closed AS (
    UPDATE work_workitem
    SET state = CASE WHEN kind = 'first_touch' THEN 'done' ELSE 'cancelled' END, completed_at = %(now)s
    WHERE content_type_id = %(lead_ct)s AND object_id = %(lead)s AND state = 'open'
)
INSERT INTO work_workitem (kind, state, owner_id, team_id, content_type_id, object_id, title, note,
                           policy_id, created_at, due_at)
SELECT 'accept_handoff', 'open', %(ae)s, %(ae_team)s, %(opportunity_ct)s, id, 'Accept or reject: ' || name, '',
       %(policy)s, %(now)s, %(now)s + interval '1 day'
FROM opportunity
RETURNING object_id
"""

ACCEPT_BASELINE_SQL = """
WITH opportunity AS (
    UPDATE accounts_opportunity
    SET status = 'open', stage_id = %(stage)s, accepted_at = %(now)s, updated_at = %(now)s
    WHERE id = %(opportunity)s AND status = 'handed_off'
    RETURNING id, owner_id, lead_id
), done AS (
    UPDATE work_workitem w SET state = 'done', completed_at = %(now)s, completed_by_id = o.owner_id
    FROM opportunity o
    WHERE w.content_type_id = %(opportunity_ct)s AND w.object_id = o.id AND w.kind = 'accept_handoff'
      AND w.state = 'open'
), event AS (
    INSERT INTO accounts_opportunityevent (opportunity_id, kind, at, actor_id, from_stage, to_stage, message)
    SELECT id, 'accepted', %(now)s, owner_id, '', 'Discovery', 'Accepted.' FROM opportunity
)
INSERT INTO leads_leadevent (lead_id, kind, at, via, from_status, to_status, message, actor_id, campaign_id)
SELECT lead_id, 'handoff', %(now)s, '', '', '', 'Accepted.', owner_id, NULL FROM opportunity
WHERE lead_id IS NOT NULL
RETURNING lead_id
"""

# --- results -------------------------------------------------------------------------------


@dataclass
class DataSet:
    opportunities: int
    leads: int  # all leads in the table
    base_leads: int  # the queues data set's leads (ids up to this); the opportunities' follow
    aes: list[int]  # every AE, by team
    ae_teams: list[int]
    big_aes: list[int]  # the 39 AEs with the realistic load
    small_ae: int
    reps: list[int]  # the SDRs
    opportunity_ct: int
    lead_ct: int
    policy: int
    open_stages: list[int]
    counts: dict[str, int] = field(default_factory=dict)
    loads: dict[str, dict[str, int]] = field(default_factory=dict)  # "big" / "small" -> status -> n
    generate_seconds: float = 0.0
    queues_seconds: float = 0.0  # generating the queues data set (0 when reused)
    reused_queues: bool = False


@dataclass
class Page(PageTimes):
    name: str
    url: str
    measured: bool
    note: str = ""  # why it was not measured, or a warning
    ms: list[float] = field(default_factory=list)  # big-load AEs, in turn
    small_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)  # baseline, same order as ms
    queries: list[int] = field(default_factory=list)  # big-load AEs (a sample)
    small_queries: list[int] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)  # one big-load request's, abridged
    small_statements: list[str] = field(default_factory=list)
    kib: float = 0.0  # response size, big-load AE
    small_kib: float = 0.0
    plans: dict[str, str] = field(default_factory=dict)  # statement -> EXPLAIN (ANALYZE, BUFFERS)
    problems: list[str] = field(default_factory=list)


@dataclass
class Throughput:
    operation: str  # "hand_off" or "accept_handoff"
    mode: str  # "sequential" or "2 processes"
    operations: int
    seconds: float
    ms: list[float]  # per operation
    queries: list[int] = field(default_factory=list)  # per traced operation
    statement_kinds: dict[str, list] = field(default_factory=dict)  # kind -> [count, ms]
    baseline_seconds: float = 0.0
    baseline_operations: int = 0
    teams: dict[str, int] = field(default_factory=dict)  # handoffs by the AE team they went to

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds

    @property
    def median_ms(self) -> float:
        return statistics.median(self.ms)

    @property
    def p95_ms(self) -> float:
        return percentile(self.ms, 95)

    @property
    def baseline_per_second(self) -> float:
        return self.baseline_operations / self.baseline_seconds if self.baseline_seconds else 0.0

    @property
    def ratio(self) -> float:
        return self.per_second / self.baseline_per_second if self.baseline_seconds else 0.0


@dataclass
class OpportunitiesFigures:
    data: DataSet
    pages: list[Page]
    throughput: list[Throughput]


# --- data ----------------------------------------------------------------------------------


def create_sales_teams() -> tuple[list[int], list[int]]:
    """4 AE teams (kind sales) with a manager, a business calendar (Mon-Fri 9-17, Christmas)
    and territory rules, 10 AEs each. Returns (AEs, their teams), team by team."""
    from sdr.models import TerritoryRule
    from team.models import Role, Team

    aes, ae_teams = [], []
    for t, (name, zone, rules) in enumerate(AE_TEAMS):
        team, members = create_team(
            t, name, zone, kind=Team.Kind.SALES, role=Role.AE, size=AES_PER_TEAM, tag="o", member_tag="ae",
            word="Closer", manager_email=f"sales{t}@refinery.example",
        )  # fmt: skip
        for position, countries, low in rules:
            TerritoryRule.objects.create(
                name=f"{name} {position}",
                position=position,
                team=team,
                countries=countries,
                min_employees=low,
            )
        aes += [u.pk for u in members]
        ae_teams += [team.pk] * len(members)
    return aes, ae_teams


def generate(n: int, *, campaigns: list[int], queues_data=None, queue_leads: int = QUEUE_LEADS) -> DataSet:
    """The AE teams and ``n`` opportunities on top of the queues data set (``queues_data``
    when the queues figure made it in this run, else generated with ``queue_leads`` leads)."""
    from django.contrib.contenttypes.models import ContentType

    from accounts.models import EARLY_LOSS_DAYS, LOST_REASONS, REJECT_REASONS, Opportunity, Stage
    from accounts.services import acceptance_policy
    from leads.models import Lead, ScoringSettings
    from leads.scoring import threshold_key
    from team.models import User

    from . import queues

    reused = queues_data is not None
    with Timer() as queues_timer:
        if queues_data is None:
            queues_data = queues.generate(queue_leads, campaigns=campaigns)
    with connect() as conn:
        base = conn.execute("SELECT COALESCE(max(id), 0) FROM leads_lead").fetchone()[0]
    aes, ae_teams = create_sales_teams()
    big_aes, small_ae = aes[:-1], aes[-1]  # the new hire is the last team's last AE
    reps = list(queues_data.reps)
    rep_team = dict(User.objects.filter(pk__in=reps).values_list("pk", "team_id"))
    stages = {s.name: s.pk for s in Stage.objects.all()}
    open_stages = list(
        Stage.objects.filter(kind=Stage.Kind.OPEN, is_active=True)
        .order_by("position")
        .values_list("pk", flat=True)
    )
    if len(open_stages) != 4:
        raise RuntimeError(f"expected the migration's 4 open stages, found {len(open_stages)}")
    now = timezone.now().replace(microsecond=0)
    data = DataSet(
        opportunities=n,
        leads=0,
        base_leads=base,
        aes=aes,
        ae_teams=ae_teams,
        big_aes=big_aes,
        small_ae=small_ae,
        reps=reps,
        opportunity_ct=ContentType.objects.get_for_model(Opportunity).pk,
        lead_ct=ContentType.objects.get_for_model(Lead).pk,
        policy=acceptance_policy().pk,
        open_stages=open_stages,
        reused_queues=reused,
        queues_seconds=0.0 if reused else queues_timer.seconds,
    )
    params = {
        "n": n,
        "base": base,
        "now": now,
        "accounts": ACCOUNTS,
        "reps": reps,
        "rep_teams": [rep_team[r] for r in reps],
        "big_aes": big_aes,
        "big_ae_teams": ae_teams[:-1],
        "small_ae": small_ae,
        "small_ae_team": ae_teams[-1],
        "small_n": SMALL_AE_OPPORTUNITIES,
        "open_stages": open_stages,
        "won_stage": stages["Won"],
        "lost_stage": stages["Lost"],
        "campaigns": campaigns,
        "countries": queues.COUNTRIES,
        "industries": queues.INDUSTRIES,
        "half_lives": threshold_key(1.0, now, ScoringSettings.load().half_life_days),
        "reject_reasons": list(REJECT_REASONS),
        "lost_reasons": list(LOST_REASONS),
        "early_loss_days": EARLY_LOSS_DAYS,
        "ct": data.opportunity_ct,
        "policy": data.policy,
    }
    with connect() as conn, Timer() as timer:
        conn.execute(
            "TRUNCATE accounts_opportunityevent, accounts_opportunity, accounts_contact, accounts_account"
            " RESTART IDENTITY CASCADE"
        )
        conn.execute("SET maintenance_work_mem = '512MB'")
        # CREATE TABLE AS takes no bound parameters: this one statement is bound client-side.
        psycopg.ClientCursor(conn).execute(PLAN_SQL, params)
        for statement in (
            ACCOUNTS_SQL,
            LEADS_SQL,
            CONTACTS_SQL,
            OPPORTUNITIES_SQL,
            EVENTS_SQL,
            ITEMS_SQL,
            BREACHES_SQL,
        ):
            conn.execute(statement, params)
        conn.execute("DROP TABLE bench_plan")
        for table, column in (
            ("leads_lead", "id"),
            ("accounts_account", "id"),
            ("accounts_contact", "id"),
            ("accounts_opportunity", "id"),
        ):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), (SELECT max({column}) FROM {table}))"
            )
        for table in (*BIG_TABLES, "work_breach", "team_user"):
            conn.execute(f"VACUUM ANALYZE {table}")
        conn.execute("CHECKPOINT")
    data.generate_seconds = timer.seconds
    data.counts, data.loads = count_data(data)
    if data.counts["opportunities"] != n or data.loads["small"].get("total") != SMALL_AE_OPPORTUNITIES:
        raise RuntimeError(f"generated {data.counts} {data.loads}")
    data.leads = data.counts["leads"]
    return data


def count_data(data: DataSet) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    with connect() as conn:

        def one(sql: str, *params) -> int:
            return conn.execute(sql, params).fetchone()[0]

        counts = {
            "leads": one("SELECT count(*) FROM leads_lead"),
            "accounts": one("SELECT count(*) FROM accounts_account"),
            "contacts": one("SELECT count(*) FROM accounts_contact"),
            "opportunities": one("SELECT count(*) FROM accounts_opportunity"),
            "events": one("SELECT count(*) FROM accounts_opportunityevent"),
            "work_items": one("SELECT count(*) FROM work_workitem"),
            "accept_items_open": one(
                "SELECT count(*) FROM work_workitem WHERE kind = 'accept_handoff' AND state = 'open'"
            ),
            "accept_breaches": one(
                "SELECT count(*) FROM work_workitem WHERE kind = 'accept_handoff' AND breached_at IS NOT NULL"
            ),
            "early_losses": one("SELECT count(*) FROM accounts_opportunity WHERE early_loss"),
        }
        for status, k in conn.execute("SELECT status, count(*) FROM accounts_opportunity GROUP BY status"):
            counts[status] = k

        def load(owner: int) -> dict[str, int]:
            rows = conn.execute(
                "SELECT status, count(*) FROM accounts_opportunity WHERE owner_id = %s GROUP BY status",
                [owner],
            ).fetchall()
            return dict(rows) | {"total": sum(k for _, k in rows)}

        return counts, {"big": load(data.big_aes[0]), "small": load(data.small_ae)}


# --- 1. the pages --------------------------------------------------------------------------


def page_url(name: str, query: str) -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name) + query
    except NoReverseMatch:
        return None


def measure_pages(data: DataSet, requests: int, log=print) -> list[Page]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=data.aes)}
    big = [users[pk] for pk in data.big_aes]
    small = users[data.small_ae]
    rng = random.Random(5)
    order = [big[k % len(big)] for k in range(requests)]
    rng.shuffle(order)

    # As at a deployment: the pages' {% static %} tags need the manifest (DEBUG is off).
    call_command("collectstatic", interactive=False, verbosity=0)
    sessions = {}
    for ae in [*big, small]:
        login = Client()
        login.force_login(ae)
        sessions[ae.pk] = login.cookies[settings.SESSION_COOKIE_NAME].value
    # One client, like one server process, each request with the session of the AE it is for.
    client = Client(HTTP_HOST="127.0.0.1")

    pages = []
    for name, url_name, query in PAGES:
        url = page_url(url_name, query)
        if url is None:
            log(f"opportunities: {name}: no URL named {url_name} yet; not measured")
            pages.append(
                Page(name=name, url=f"{url_name}{query}", measured=False, note=f"no URL named {url_name}")
            )
            continue

        def get(ae, url=url) -> int:
            client.cookies[settings.SESSION_COOKIE_NAME] = sessions[ae.pk]
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code} for {ae}")
            return len(response.content)

        try:
            get(big[0])
        except Exception as exc:  # the page is being built: say so, measure the others
            reason = f"{type(exc).__name__}: {exc}"[:300]
            log(f"opportunities: WARNING: GET {url} failed ({reason}); not measured")
            pages.append(Page(name=name, url=url, measured=False, note=f"GET failed: {reason}"))
            continue
        page = Page(name=name, url=url, measured=True)
        log(f"opportunities: {name}: GET {url}, {requests} requests across {len(big)} AEs, then the small AE")
        for ae in big[:PAGE_WARMUP]:
            get(ae)
        page.ms = time_requests(get, order)
        page.small_ms = time_requests(get, [small] * SMALL_AE_REQUESTS)

        # Queries counted on a sample of big-load AEs and the small one; the SELECTs of each
        # request kept, to run again as the baseline.
        compiled = {}
        for ae in [*big[:QUERY_COUNT_SAMPLE], small]:
            with CaptureQueriesContext(connection) as captured:
                size = get(ae)
            compiled[ae.pk] = select_statements(captured)
            if ae is small:
                page.small_queries.append(len(captured))
                page.small_statements = [abridge(q["sql"]) for q in captured]
                page.small_kib = size / 1024
            else:
                page.queries.append(len(captured))
                page.statements = page.statements or [abridge(q["sql"]) for q in captured]
                page.kib = page.kib or size / 1024
        for ae in big[QUERY_COUNT_SAMPLE:]:
            with CaptureQueriesContext(connection) as captured:
                get(ae)
            compiled[ae.pk] = select_statements(captured)
        page.sql_ms = replay_statements(compiled, order, warmup=PAGE_WARMUP)
        page.plans, page.problems = explain(compiled[big[0].pk], BIG_TABLES)
        if not page.fixed_queries:
            page.problems.insert(
                0,
                f"queries per request differ: {sorted(set(page.queries))} for AEs with"
                f" {data.loads['big']['total']:,} opportunities, {sorted(set(page.small_queries))} for the AE"
                f" with {data.loads['small']['total']}",
            )
        log(
            f"opportunities: {name}: p50 {page.p50_ms:.1f} ms, p95 {page.p95_ms:.1f} ms,"
            f" {span(page.queries)} queries (small AE: {span(page.small_queries)}, p95"
            f" {percentile(page.small_ms, 95):.1f} ms); bare SQL p95 {page.sql_p95_ms:.2f} ms; {page.kib:.0f} KiB"
        )
        for problem in page.problems:
            log(f"opportunities: WARNING: {name}: {problem}")
        pages.append(page)
    return pages


# --- 2. handoff and accept throughput -------------------------------------------------------


def working_leads(data: DataSet, count: int) -> list[tuple[int, int]]:
    """``count`` working leads of the queues data set, spread over the SDRs: (lead, SDR)."""
    with connect() as conn:
        rows = conn.execute(
            """SELECT id, owner_id FROM leads_lead
               WHERE id <= %s AND status = 'working' AND owner_id = ANY(%s)
               ORDER BY hashint8(id), id LIMIT %s""",
            [data.base_leads, data.reps, count],
        ).fetchall()
    if len(rows) != count:
        raise RuntimeError(f"{len(rows)} working leads, expected {count}")
    return [tuple(r) for r in rows]


def _qualifying():
    from accounts.services import Qualifying

    return Qualifying(**QUALIFYING)


def _hand_off_one(lead_id: int, by) -> tuple[int, int]:
    from accounts.services import hand_off

    opportunity = hand_off(lead_id=lead_id, by=by, qualifying=_qualifying())
    return opportunity.pk, opportunity.owner_id


def _accept_one(opportunity_id: int, by) -> tuple[int, int]:
    from accounts.services import accept_handoff

    opportunity = accept_handoff(opportunity_id=opportunity_id, by=by)
    return opportunity.pk, opportunity.owner_id


OPERATIONS = {"hand_off": _hand_off_one, "accept": _accept_one}


def _run(
    operation: str, pairs: list[tuple[int, int]], users
) -> tuple[list[float], list[tuple[int, int]], float]:
    """Each (subject, actor) in turn, timed one by one: (ms, results, wall seconds)."""
    work = OPERATIONS[operation]
    ms, results = [], []
    gc.collect()
    start = time_ns()
    for subject, actor in pairs:
        t = time_ns()
        results.append(work(subject, users[actor]))
        ms.append((time_ns() - t) / 1e6)
    return ms, results, (time_ns() - start) / 1e9


def _traced(operation: str, pairs, users) -> tuple[list[int], dict[str, list], list[tuple[int, int]]]:
    """The first operations, each with its statements counted; the last one's statements by
    kind, with their execute() time (the first ones warm the caches)."""
    work = OPERATIONS[operation]
    queries, kinds, results = [], {}, []
    for subject, actor in pairs:
        with StatementTimer() as traced:
            results.append(work(subject, users[actor]))
        queries.append(len(traced.statements))
        kinds = statement_kinds(traced.statements)
    return queries, kinds, results


def _users(data: DataSet) -> dict:
    from team.models import User

    return {u.pk: u for u in User.objects.filter(pk__in=[*data.reps, *data.aes]).select_related("team")}


def measure_throughput(data: DataSet, n: int, log=print) -> list[Throughput]:
    users = _users(data)
    leads = working_leads(data, 3 * n)
    sequential, parallel, baseline = leads[:n], leads[n : 2 * n], leads[2 * n :]
    runs = []

    log(f"opportunities: hand_off of {n:,} working leads, one at a time ({TRACED_OPERATIONS} traced first)")
    queries, kinds, created = _traced("hand_off", sequential[:TRACED_OPERATIONS], users)
    ms, more, seconds = _run("hand_off", sequential[TRACED_OPERATIONS:], users)
    created += more
    hand_off = Throughput("hand_off", "sequential", len(ms), seconds, ms, queries, kinds)
    hand_off.teams = _teams(created)
    runs.append(hand_off)
    log(
        f"opportunities: hand_off {hand_off.per_second:,.1f}/s, median {hand_off.median_ms:.1f} ms,"
        f" {span(queries)} queries each"
    )

    log(f"opportunities: accept_handoff of those {len(created):,}, one at a time")
    queries, kinds, _ = _traced("accept", created[:TRACED_OPERATIONS], users)
    ms, _, seconds = _run("accept", created[TRACED_OPERATIONS:], users)
    accept = Throughput("accept_handoff", "sequential", len(ms), seconds, ms, queries, kinds)
    runs.append(accept)
    log(
        f"opportunities: accept {accept.per_second:,.1f}/s, median {accept.median_ms:.1f} ms,"
        f" {span(queries)} queries each"
    )

    log(f"opportunities: baseline, one statement per handoff and per accept, {len(baseline):,} leads")
    hand_off.baseline_seconds, accepted_ids = _handoff_baseline(data, baseline)
    hand_off.baseline_operations = len(accepted_ids)
    accept.baseline_seconds, accept.baseline_operations = _accept_baseline(data, accepted_ids)
    log(
        f"opportunities: baseline {hand_off.baseline_per_second:,.0f} handoffs/s,"
        f" {accept.baseline_per_second:,.0f} accepts/s"
    )

    log(
        f"opportunities: {PARALLEL} processes at once: hand_off of {len(parallel):,} other leads, then accept"
    )
    seconds, ms, created = _parallel("hand_off", parallel)
    runs.append(
        Throughput("hand_off", f"{PARALLEL} processes", len(ms), seconds, ms,
                   baseline_seconds=hand_off.baseline_seconds, baseline_operations=hand_off.baseline_operations)
    )  # fmt: skip
    seconds, ms, _ = _parallel("accept", created)
    runs.append(
        Throughput("accept_handoff", f"{PARALLEL} processes", len(ms), seconds, ms,
                   baseline_seconds=accept.baseline_seconds, baseline_operations=accept.baseline_operations)
    )  # fmt: skip
    for run in runs[-2:]:
        log(
            f"opportunities: {run.operation} x{PARALLEL}: {run.per_second:,.1f}/s, median {run.median_ms:.1f} ms"
        )
    with connect() as conn:
        for table in BIG_TABLES:
            conn.execute(f"VACUUM ANALYZE {table}")
    return runs


def _teams(created: list[tuple[int, int]]) -> dict[str, int]:
    from django.db.models import Count

    from accounts.models import Opportunity

    return dict(
        Opportunity.objects.filter(pk__in=[pk for pk, _ in created])
        .values_list("owner__team__name")
        .annotate(n=Count("*"))
        .order_by("-n")
    )


def _handoff_baseline(data: DataSet, pairs: list[tuple[int, int]]) -> tuple[float, list[tuple[int, int]]]:
    """The baseline handoffs, AEs dealt in turn: (seconds, [(opportunity, AE)])."""
    params = {
        **QUALIFYING,
        "lead_ct": data.lead_ct,
        "opportunity_ct": data.opportunity_ct,
        "policy": data.policy,
    }
    created = []
    with connect() as conn, Timer() as timer:
        for k, (lead, sdr) in enumerate(pairs):
            ae = k % len(data.aes)
            row = conn.execute(
                HANDOFF_BASELINE_SQL,
                params
                | {
                    "lead": lead,
                    "by": sdr,
                    "ae": data.aes[ae],
                    "ae_team": data.ae_teams[ae],
                    "now": timezone.now(),
                },
            ).fetchone()
            if row is None:
                raise RuntimeError(f"the baseline did not hand off lead {lead}")
            created.append((row[0], data.aes[ae]))
    return timer.seconds, created


def _accept_baseline(data: DataSet, created: list[tuple[int, int]]) -> tuple[float, int]:
    accepted = 0
    with connect() as conn, Timer() as timer:
        for opportunity, _ in created:
            params = {
                "opportunity": opportunity,
                "stage": data.open_stages[0],
                "now": timezone.now(),
                "opportunity_ct": data.opportunity_ct,
            }
            accepted += conn.execute(ACCEPT_BASELINE_SQL, params).rowcount
    if accepted != len(created):
        raise RuntimeError(f"the baseline accepted {accepted} of {len(created)}")
    return timer.seconds, accepted


def _parallel(
    operation: str, pairs: list[tuple[int, int]]
) -> tuple[float, list[float], list[tuple[int, int]]]:
    """``PARALLEL`` worker processes, each with its share of ``pairs``, started together once
    all are ready: (wall seconds from the first start to the last end, ms, results)."""
    shares = [pairs[k::PARALLEL] for k in range(PARALLEL)]
    workers = [
        subprocess.Popen(
            [PYTHON, "-m", "bench.opportunities", operation],
            cwd=BASE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in shares
    ]
    for worker, share in zip(workers, shares, strict=True):
        worker.stdin.write(json.dumps(share) + "\n")
        worker.stdin.flush()
    for worker in workers:
        if worker.stdout.readline().strip() != "ready":
            raise RuntimeError(f"a {operation} worker did not start")
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    outputs = []
    for worker in workers:
        out, _ = worker.communicate()
        if worker.returncode:
            raise RuntimeError(f"a {operation} worker failed ({worker.returncode})")
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    seconds = max(o["end"] for o in outputs) - min(o["start"] for o in outputs)
    return seconds, [ms for o in outputs for ms in o["ms"]], [tuple(r) for o in outputs for r in o["results"]]


def worker_main(operation: str) -> None:
    """One parallel worker: pairs on stdin, "ready", wait for "go", work, one JSON line."""
    import django

    django.setup()
    from django.db import connection

    pairs = [tuple(p) for p in json.loads(sys.stdin.readline())]
    from team.models import User

    users = {u.pk: u for u in User.objects.filter(pk__in={a for _, a in pairs}).select_related("team")}
    connection.ensure_connection()
    print("ready", flush=True)
    sys.stdin.readline()
    start = wall.time()
    ms, results, _ = _run(operation, pairs, users)
    print(json.dumps({"start": start, "end": wall.time(), "ms": ms, "results": results}), flush=True)


if __name__ == "__main__":
    worker_main(sys.argv[1])
