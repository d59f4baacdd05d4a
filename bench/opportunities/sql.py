"""The SQL that generates the opportunities data set (``INSERT ... SELECT FROM generate_series``)."""


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
    fit_score, fit_grade, engagement_key, external_id, external_status, external_created_at, external_system, source_attributes, first_seen_at,
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
    '', '', NULL, '', '{}'::jsonb, handed_off_at - interval '10 days',
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
