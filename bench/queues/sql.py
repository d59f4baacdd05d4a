"""The SQL that generates the queues data set (``INSERT ... SELECT FROM generate_series``)."""


# Open lead ``i`` (``i % stride == stride - 1``) is open timer number ``seq = i / stride``
# (0 to 9,999), owned by rep ``seq % 200``, its ``seq / 200``-th (0 to 49). Exactly 100 are due
# at the sweep instant, one each for reps 0 to 99 (every team), within the 50 minutes before
# it; the others fall due over the next three days. 5 of each rep's 50 are hand-raisers.


def _open_timer_sql(lead_id: str) -> dict[str, str]:
    seq = f"({lead_id} / %(stride)s)"
    rep, nth = f"({seq} %% %(reps_n)s)", f"({seq} / %(reps_n)s)"
    return {
        "due": f"""CASE WHEN {rep} < %(due)s AND {nth} = {rep} %% %(open_per_rep)s
            THEN %(now)s::timestamptz - (1 + {rep}) * interval '30 seconds'
            ELSE %(now)s::timestamptz + (1 + ({seq} * 7919) %% 259200) * interval '1 second' END""",
        "hand_raiser": f"{nth} %% 10 = 3",
    }


LEADS_SQL = """
WITH g AS (
    SELECT i, i %% %(stride)s AS slot, i / %(stride)s AS seq, (i * 7919) %% 1000 AS spread
    FROM generate_series(1, %(n)s::bigint) AS i
), k AS (
    SELECT g.*,
        CASE
            WHEN slot = %(stride)s - 1 THEN 'open'
            WHEN slot <= 2 THEN 'working'
            WHEN slot < %(closed_until)s
                THEN (ARRAY['handed_off', 'won', 'lost', 'disqualified', 'lost'])[1 + seq %% 5]
            WHEN spread < 30 THEN 'recycled'
            ELSE 'nurture'
        END AS kind,
        1 + seq %% cardinality(%(reps)s::bigint[]) AS rep,
        %(now)s::timestamptz - (1 + i %% 730) * interval '1 day' - (i %% 86400) * interval '1 second'
            AS captured,
        -- an open timer's due time (see _open_timer_sql)
        {due} AS due,
        (i * 13) %% 101 AS fit
    FROM g
)
INSERT INTO leads_lead (
    id, email, first_name, last_name, company, title, seniority, industry, employees,
    annual_revenue, country, phone, source, status, status_reason, hand_raiser, rating,
    fit_score, fit_grade, engagement_key, external_id, external_status, external_created_at, external_system, source_attributes, first_seen_at,
    captured_at, mql_at, status_changed_at, updated_at, campaign_id, owner_id, team_id
)
SELECT
    i,
    'q' || i || '@company' || (i %% 20000) || '.example',
    (ARRAY['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Margaret', 'Donald'])[1 + i %% 8],
    'Lead' || i,
    'Company ' || (i %% 20000),
    (ARRAY['VP Sales', 'CTO', 'Marketing Manager', 'Software Engineer', 'Director of IT', 'CEO'])[1 + i %% 6],
    (ARRAY['vp', 'c_level', 'manager', 'individual', 'director', 'c_level'])[1 + i %% 6],
    (%(industries)s::text[])[1 + (i * 17) %% cardinality(%(industries)s::text[])],
    CASE WHEN i %% 5 = 0 THEN NULL ELSE 1 + (i * 31) %% 10000 END,
    CASE WHEN i %% 4 = 0 THEN NULL ELSE ((i * 17) %% 1000) * 100000 END,
    (%(countries)s::text[])[1 + (i * 31) %% cardinality(%(countries)s::text[])],
    '+1-555-' || lpad((i %% 10000)::text, 4, '0'),
    'web',
    CASE kind WHEN 'open' THEN 'mql' ELSE kind END,
    '',
    kind = 'open' AND {hand_raiser},
    (ARRAY['', '', '', 'A', 'B', 'C'])[1 + i %% 6],
    fit,
    CASE WHEN fit >= 75 THEN 'A' WHEN fit >= 50 THEN 'B' WHEN fit >= 25 THEN 'C' ELSE 'D' END,
    CASE
        WHEN kind IN ('nurture', 'recycled') AND spread < 400 THEN %(no_engagement)s
        WHEN kind IN ('nurture', 'recycled') THEN ln(1 + spread %% 30) / ln(2) + %(half_lives)s
        ELSE ln(15 + spread %% 200) / ln(2) + %(half_lives)s
    END,
    '', '', NULL, '', '{{}}'::jsonb,
    CASE WHEN kind = 'open' THEN LEAST(captured, due - interval '5 hours') ELSE captured END,
    CASE WHEN kind = 'open' THEN LEAST(captured, due - interval '5 hours') ELSE captured END,
    CASE
        -- the open timer started when the lead became an MQL (before the sweep instant)
        WHEN kind = 'open' THEN LEAST(due - CASE WHEN {hand_raiser} THEN interval '15 minutes'
                                                  ELSE interval '4 hours' END,
                                      %(now)s::timestamptz - (seq %% 3600) * interval '1 second')
        WHEN kind IN ('working', 'handed_off', 'won', 'lost', 'disqualified') THEN captured + interval '12 hours'
    END,
    captured,
    %(now)s::timestamptz,
    CASE WHEN i %% 3 = 0 THEN NULL
        ELSE (%(campaigns)s::bigint[])[1 + i %% cardinality(%(campaigns)s::bigint[])] END,
    CASE WHEN kind NOT IN ('nurture', 'recycled') THEN (%(reps)s::bigint[])[rep] END,
    CASE WHEN kind NOT IN ('nurture', 'recycled') THEN (%(rep_teams)s::bigint[])[rep] END
FROM k
""".format(**_open_timer_sql("i"))

OPEN_ITEMS_SQL = """
INSERT INTO work_workitem (kind, state, owner_id, team_id, content_type_id, object_id, title, note,
                           policy_id, created_at, due_at, breached_at, reassign_at, completed_at,
                           completed_by_id)
SELECT 'first_touch', 'open', l.owner_id, l.team_id, %(ct)s, l.id,
       CASE WHEN l.hand_raiser THEN 'Asked for a call' ELSE 'New MQL' END, '',
       CASE WHEN l.hand_raiser THEN %(hand_raiser_policy)s ELSE %(mql_policy)s END,
       l.mql_at,
       {due},
       NULL, NULL, NULL, NULL
FROM leads_lead l WHERE l.status = 'mql' AND l.owner_id IS NOT NULL
""".format(**_open_timer_sql("l.id"))

# Every worked lead had a first-touch item, done: a fifth of them late (breached on time by
# the sweep, with a breach row that was escalated).
DONE_ITEMS_SQL = """
INSERT INTO work_workitem (kind, state, owner_id, team_id, content_type_id, object_id, title, note,
                           policy_id, created_at, due_at, breached_at, reassign_at, completed_at,
                           completed_by_id)
SELECT 'first_touch', 'done', l.owner_id, l.team_id, %(ct)s, l.id, 'New MQL', '', %(mql_policy)s,
       l.mql_at, l.mql_at + interval '4 hours',
       CASE WHEN (l.id * 13) %% 300 > 240 THEN l.mql_at + interval '4 hours 1 minute' END,
       NULL, l.mql_at + ((l.id * 13) %% 300) * interval '1 minute', l.owner_id
FROM leads_lead l
WHERE l.owner_id IS NOT NULL AND l.status <> 'mql'
"""

FOLLOW_UPS_SQL = """
INSERT INTO work_workitem (kind, state, owner_id, team_id, content_type_id, object_id, title, note,
                           policy_id, created_at, due_at, breached_at, reassign_at, completed_at,
                           completed_by_id)
SELECT 'follow_up', 'open', l.owner_id, l.team_id, %(ct)s, l.id, 'Follow up: send the case study', '',
       NULL, %(now)s::timestamptz - interval '2 days',
       %(now)s::timestamptz + (((l.id / %(stride)s) * 13) %% 345600 - 86400) * interval '1 second',
       NULL, NULL, NULL, NULL
FROM leads_lead l
WHERE l.status = 'working' AND l.id %% %(stride)s = 0
  AND (l.id / %(stride)s / %(reps_n)s) %% (%(open_per_rep)s / %(follow_ups_per_rep)s) = 0
"""

HISTORY_BREACHES_SQL = """
INSERT INTO work_breach (work_item_id, policy_id, owner_id, team_id, due_at, detected_at, escalation,
                         escalated_at, note)
SELECT id, policy_id, owner_id, team_id, due_at, breached_at, 'sent', breached_at, ''
FROM work_workitem WHERE breached_at IS NOT NULL
"""

# Web activity before the MQL, touches on worked leads, a visit on a quarter of nurture leads.
ACTIVITIES_SQL = """
INSERT INTO leads_activity (lead_id, kind, occurred_at, points, source, note, outcome, actor_id, campaign_id)
SELECT l.id,
       CASE WHEN l.status IN ('nurture', 'recycled', 'mql')
            THEN (ARRAY['visit', 'form_fill', 'download'])[1 + (l.id + j) %% 3]
            ELSE (ARRAY['call', 'email', 'voicemail'])[1 + (l.id + j) %% 3] END,
       COALESCE(l.mql_at, l.captured_at) + (j - 2) * interval '5 hours',
       CASE WHEN l.status IN ('nurture', 'recycled', 'mql') THEN 5 ELSE 0 END,
       CASE WHEN l.status IN ('nurture', 'recycled', 'mql') THEN 'web_form' ELSE 'manual' END,
       '', '',
       CASE WHEN l.status NOT IN ('nurture', 'recycled', 'mql') THEN l.owner_id END,
       l.campaign_id
FROM leads_lead l,
     generate_series(1, CASE WHEN l.status IN ('nurture', 'recycled') THEN (l.id %% 4 = 0)::int
                             WHEN l.status = 'working' THEN 4 ELSE 2 END) AS j
"""

EVENTS_SQL = """
INSERT INTO leads_leadevent (lead_id, kind, at, via, from_status, to_status, message, actor_id, campaign_id)
SELECT id, 'routed', mql_at, '', '', '', 'Routed by rule', NULL, NULL
FROM leads_lead WHERE owner_id IS NOT NULL
"""
