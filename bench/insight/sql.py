"""The SQL that completes the insight data set (``INSERT ... SELECT``)."""

CAMPAIGNS_SQL = """
INSERT INTO leads_campaign (name, channel, cost, starts_on, ends_on, is_active, created_at, updated_at)
SELECT 'Insight campaign ' || c,
       (%(channels)s::text[])[1 + c %% cardinality(%(channels)s::text[])],
       2000 + (c * 7919) %% 48000,
       %(today)s::date - 730 + (c * 14),
       %(today)s::date - 730 + (c * 14) + 30 + (c * 31) %% 150,
       true, %(now)s::timestamptz - interval '2 years', %(now)s::timestamptz - interval '2 years'
FROM generate_series(0, %(n)s - 1) AS c
RETURNING id
"""

# The queues generator's closed leads include handed-off, won and lost ones without an
# opportunity: here they were disqualified by their SDR (the opportunities come from the
# opportunities generator); and a lead's source is its campaign's channel, else web,
# referral or outbound prospecting (the opportunities' leads keep theirs: web or outbound,
# which their opportunity's origin follows).
LEADS_FIX_SQL = """
UPDATE leads_lead l
SET status = CASE WHEN l.id <= %(base)s AND l.status IN ('handed_off', 'won', 'lost') THEN 'disqualified'
                  ELSE l.status END,
    status_reason = CASE WHEN l.id <= %(base)s AND l.status IN ('handed_off', 'won', 'lost')
                         THEN 'No budget' ELSE l.status_reason END,
    source = CASE WHEN l.id > %(base)s THEN l.source  -- the opportunity's origin follows it
                  ELSE COALESCE(c.channel, (ARRAY['web', 'web', 'referral', 'outbound'])[1 + (l.id * 13) %% 4]) END
FROM leads_lead x LEFT JOIN leads_campaign c ON c.id = x.campaign_id
WHERE x.id = l.id
"""

# Touches happen after the MQL, 0 to 5 hours later (the done first-touch items' completion).
TOUCH_DELAY_SQL = """
UPDATE leads_activity
SET occurred_at = occurred_at + interval '5 hours' + ((lead_id * 13) %% 300) * interval '1 minute'
WHERE source = 'manual' AND lead_id <= %(base)s
"""

# The opportunities' leads were worked: two touches by their SDR before the handoff.
OPPORTUNITY_TOUCHES_SQL = """
INSERT INTO leads_activity (lead_id, kind, occurred_at, points, source, note, outcome, actor_id, campaign_id)
SELECT l.id, (ARRAY['call', 'email'])[j], l.mql_at + ((l.id * 13) %% 300) * interval '1 minute'
       + (j - 1) * interval '1 day', 0, 'manual', '', '', l.owner_id, l.campaign_id
FROM leads_lead l, generate_series(1, 2) AS j
WHERE l.id > %(base)s
"""

# The timeline insight reads: captured (every lead), routed (the opportunities' leads; the
# queues generator wrote the others'), status: to MQL, to working at the first touch, to the
# lead's final status.
EVENTS_SQL = """
INSERT INTO leads_leadevent (lead_id, kind, at, via, from_status, to_status, message, actor_id, campaign_id)
SELECT id, 'captured', captured_at, 'web_form', '',
       CASE WHEN mql_at IS NOT NULL AND mql_at <= captured_at THEN 'mql' ELSE 'nurture' END,
       CASE WHEN hand_raiser THEN 'Asked for a call.' ELSE '' END, NULL::bigint, campaign_id
FROM leads_lead
UNION ALL
SELECT id, 'routed', mql_at, '', '', '', 'Routed by rule', NULL::bigint, NULL::bigint
FROM leads_lead WHERE id > %(base)s
UNION ALL
SELECT id, 'status', mql_at, 'web_form', 'nurture', 'mql', 'Engagement crossed the MQL threshold', NULL, NULL
FROM leads_lead WHERE mql_at IS NOT NULL AND mql_at > captured_at
UNION ALL
SELECT l.id, 'status', l.mql_at + ((l.id * 13) %% 300) * interval '1 minute', 'manual', 'mql', 'working',
       'First touch', l.owner_id, NULL
FROM leads_lead l WHERE l.mql_at IS NOT NULL AND l.owner_id IS NOT NULL AND l.status <> 'mql'
UNION ALL
SELECT l.id, 'status', l.mql_at + interval '3 days', 'manual', 'working', l.status, l.status_reason,
       l.owner_id, NULL
FROM leads_lead l WHERE l.id <= %(base)s AND l.status IN ('disqualified', 'recycled') AND l.mql_at IS NOT NULL
UNION ALL
SELECT o.lead_id, 'status', o.handed_off_at, 'manual', 'working', 'handed_off', 'Handed off', o.sdr_id, NULL
FROM accounts_opportunity o
UNION ALL
SELECT o.lead_id, 'status', o.closed_at, '', 'handed_off', o.status, o.lost_reason, o.owner_id, NULL
FROM accounts_opportunity o WHERE o.status IN ('won', 'lost')
"""

# A contract per won opportunity: a year from the close; when the year is over, renewed
# (a third expanded by 20%) or, one in seven, churned. The account becomes a customer of an AM.
CONTRACTS_SQL = """
INSERT INTO renewals_contract (number, source, opportunity_id, renewed_from_id, renewal_id, start_date,
    end_date, annual_value, products, seats, auto_renew, status, outcome, closed_at, churn_reason,
    outcome_note, renewal_activity_at, created_at, created_by_id, account_id)
SELECT '', 'won', o.id, NULL, NULL, s.start, s.start + 364, o.amount, 'Refinery Growth', 10 + o.id %% 90,
       o.id %% 5 = 0,
       CASE WHEN s.start + 364 >= %(today)s::date THEN 'active' WHEN o.id %% 7 = 0 THEN 'churned'
            ELSE 'renewed' END,
       CASE WHEN s.start + 364 >= %(today)s::date THEN '' WHEN o.id %% 7 = 0 THEN 'churned'
            WHEN o.id %% 3 = 0 THEN 'expanded' ELSE 'renewed' END,
       CASE WHEN s.start + 364 < %(today)s::date THEN (s.start + 365)::timestamptz END,
       CASE WHEN s.start + 364 < %(today)s::date AND o.id %% 7 = 0
            THEN (%(churn_reasons)s::text[])[1 + o.id %% cardinality(%(churn_reasons)s::text[])] ELSE '' END,
       '', NULL, o.closed_at, NULL, o.account_id
FROM accounts_opportunity o, LATERAL (SELECT (o.closed_at AT TIME ZONE 'UTC')::date AS start) s
WHERE o.status = 'won' AND o.amount IS NOT NULL
"""

RENEWED_CONTRACTS_SQL = """
INSERT INTO renewals_contract (number, source, opportunity_id, renewed_from_id, renewal_id, start_date,
    end_date, annual_value, products, seats, auto_renew, status, outcome, closed_at, churn_reason,
    outcome_note, renewal_activity_at, created_at, created_by_id, account_id)
SELECT '', 'renewal', NULL, c.id, NULL, c.end_date + 1, c.end_date + 365,
       CASE WHEN c.outcome = 'expanded' THEN c.annual_value * 1.2 ELSE c.annual_value END,
       c.products, c.seats, c.auto_renew, 'active', '', NULL, '', '', c.closed_at, c.closed_at, NULL, c.account_id
FROM renewals_contract c WHERE c.status = 'renewed'
"""

CUSTOMERS_SQL = """
UPDATE accounts_account a
SET account_manager_id = (%(ams)s::bigint[])[1 + a.id %% cardinality(%(ams)s::bigint[])],
    customer_since = w.since,
    churned_at = CASE WHEN w.active = 0 THEN w.last_closed END
FROM (SELECT account_id, min(created_at) AS since, max(closed_at) AS last_closed,
             count(*) FILTER (WHERE status = 'active') AS active
      FROM renewals_contract GROUP BY account_id) w
WHERE w.account_id = a.id
"""
