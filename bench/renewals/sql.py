"""The SQL that generates the renewals data set (``INSERT ... SELECT FROM generate_series``)
and moves the first run's openings back to the days they would have happened."""

ACCOUNTS_SQL = """
INSERT INTO accounts_account (id, name, domain, industry, country, employees, created_at, prospector_id,
                              account_manager_id, customer_since, churned_at)
SELECT %(base_account)s + a + 1, 'Customer ' || a, 'customer' || a || '.example',
       (%(industries)s::text[])[1 + (a * 17) %% cardinality(%(industries)s::text[])],
       (%(countries)s::text[])[1 + (a * 31) %% cardinality(%(countries)s::text[])],
       CASE WHEN a %% 5 = 0 THEN NULL ELSE 20 + (a * 31) %% 5000 END,
       %(now)s::timestamptz - (1100 + a %% 200) * interval '1 day',
       NULL,
       CASE WHEN a < %(small_accounts)s THEN %(small_am)s
            ELSE (%(big_ams)s::bigint[])[1 + a %% cardinality(%(big_ams)s::bigint[])] END,
       %(now)s::timestamptz - (1000 + a %% 200) * interval '1 day',
       NULL
FROM generate_series(0, %(accounts)s::bigint + %(churned_accounts)s - 1) AS a
"""

# Two people at every account, each a lead that came in years ago: a quarter have no
# engagement left, the others 2, 20 or 80 points today.
LEADS_SQL = """
INSERT INTO leads_lead (
    id, email, first_name, last_name, company, title, seniority, industry, employees, annual_revenue,
    country, phone, source, status, status_reason, hand_raiser, rating, fit_score, fit_grade,
    engagement_key, external_id, external_status, external_created_at, external_system, source_attributes, first_seen_at, captured_at, mql_at,
    status_changed_at, updated_at, campaign_id, owner_id, team_id
)
SELECT %(base_lead)s + k + 1, 'contact' || k || '@customer' || (k / 2) || '.example',
       (ARRAY['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Margaret', 'Donald'])[1 + k %% 8],
       'Customer' || k, 'Customer ' || (k / 2),
       (ARRAY['VP Sales', 'Head of Revenue Operations', 'Sales Ops Manager', 'CRO'])[1 + h %% 4],
       (ARRAY['vp', 'director', 'manager', 'c_level'])[1 + h %% 4],
       (%(industries)s::text[])[1 + ((k / 2) * 17) %% cardinality(%(industries)s::text[])],
       CASE WHEN (k / 2) %% 5 = 0 THEN NULL ELSE 20 + ((k / 2) * 31) %% 5000 END, NULL,
       (%(countries)s::text[])[1 + ((k / 2) * 31) %% cardinality(%(countries)s::text[])],
       '+1-555-' || lpad((k %% 10000)::text, 4, '0'), 'web', 'won', '', false, '', 60, 'B',
       CASE WHEN h %% 4 = 0 THEN %(no_engagement)s
            ELSE %(half_lives)s + ln((ARRAY[2, 20, 80])[h %% 4]) / ln(2) END,
       '', '', NULL, '', '{}'::jsonb, %(now)s::timestamptz - interval '1200 days',
       %(now)s::timestamptz - interval '1200 days', %(now)s::timestamptz - interval '1190 days',
       %(now)s::timestamptz - interval '1000 days', %(now)s::timestamptz - (h %% 200) * interval '1 day',
       NULL, NULL, NULL
FROM (SELECT k, hashint8(k)::bigint + 2147483648 AS h
      FROM generate_series(0::bigint, 2 * (%(accounts)s::bigint + %(churned_accounts)s) - 1) AS k) AS g
"""

CONTACTS_SQL = """
INSERT INTO accounts_contact (id, account_id, lead_id, email, first_name, last_name, title, phone, created_at)
SELECT %(base_contact)s + l.id - %(base_lead)s, %(base_account)s + (l.id - %(base_lead)s - 1) / 2 + 1, l.id,
       l.email, l.first_name, l.last_name, l.title, l.phone, l.status_changed_at
FROM leads_lead l WHERE l.id > %(base_lead)s
"""

# Active contract j (0 to n - 1): its last day j * 730 / n - 1 days from today (yesterday's
# ended: the auto-renewing ones renew at today's run, the others are overdue renewals), its
# account j mod accounts (the first 0.4 n accounts hold two); half of those ending within a
# year renewed a term that ended in the past year.
PLAN_SQL = """
CREATE TEMP TABLE renewal_plan AS
WITH g AS (
    SELECT j, hashint8(j)::bigint + 2147483648 AS h, j %% %(accounts)s AS account,
           (j * 730 / %(n)s)::int - 1 AS days
    FROM generate_series(0::bigint, %(n)s - 1) AS j
), t AS (
    SELECT g.*, %(today)s::date + days AS end_date, CASE WHEN days < 365 THEN 12 ELSE 24 END AS months
    FROM g
)
SELECT t.*, j + 1 AS id, %(base_account)s + account + 1 AS account_id,
       ((end_date + 1) - make_interval(months => months))::date AS start_date,
       days < 365 AND j %% 2 = 0 AS renewal,
       h %% 5 = 0 AS auto_renew,
       (3000 + (h %% 390) * 250)::numeric(14, 2) AS value,
       (%(products)s::text[])[1 + h %% cardinality(%(products)s::text[])] AS products,
       (5 + h %% 200)::int AS seats
FROM t
"""

# The closed terms of the past year: the renewed predecessors and the churned ones, with the
# moments the task and the AM acted on each.
HISTORY_SQL = """
CREATE TEMP TABLE renewal_history AS
WITH renewed AS (
    SELECT %(n)s + p.j + 1 AS id, p.id AS next_id, p.account_id, p.h,
           (p.start_date - interval '12 months')::date AS start_date, p.start_date - 1 AS end_date,
           CASE WHEN p.h %% 10 < 7 THEN 'renewed' WHEN p.h %% 10 < 9 THEN 'expanded' ELSE 'downsized' END
               AS outcome,
           p.value AS new_value, p.auto_renew, p.products, p.seats, '' AS churn_reason
    FROM renewal_plan p WHERE p.renewal
), churned AS (
    SELECT 2 * %(n)s + c + 1 AS id, NULL::bigint AS next_id,
           %(base_account)s + 1 + CASE WHEN c < %(churned_accounts)s THEN %(accounts)s + c
                                       ELSE c %% %(accounts)s END AS account_id,
           h, (e + 1 - interval '12 months')::date AS start_date, e AS end_date, 'churned' AS outcome,
           NULL::numeric AS new_value, false AS auto_renew,
           (%(products)s::text[])[1 + h %% cardinality(%(products)s::text[])] AS products,
           (5 + h %% 200)::int AS seats,
           (%(churn_reasons)s::text[])[1 + h %% cardinality(%(churn_reasons)s::text[])] AS churn_reason
    FROM (SELECT c, hashint8(c + 7919)::bigint + 2147483648 AS h,
                 %(today)s::date - 1 - (c * 365 / %(churned)s)::int AS e
          FROM generate_series(0::bigint, %(churned)s - 1) AS c) AS g
), closed AS (
    SELECT * FROM renewed UNION ALL SELECT * FROM churned
), t AS (
    SELECT closed.*,
           CASE outcome WHEN 'expanded' THEN round(new_value * 0.8, 2) WHEN 'downsized' THEN round(new_value * 1.25, 2)
                        WHEN 'renewed' THEN new_value ELSE (3000 + (h %% 390) * 250)::numeric END AS value,
           CASE WHEN outcome = 'churned' THEN 'churned' ELSE 'renewed' END AS status,
           ((end_date - %(start_days)s) + time '05:30') AT TIME ZONE 'UTC' AS opened_at,
           ((end_date - %(reminder_days)s) + time '05:30') AT TIME ZONE 'UTC' AS reminded_at,
           CASE WHEN outcome = 'churned' THEN h %% 10 < 4 ELSE h %% 10 < 8 END AS talked,
           ((end_date - (h %% 20)::int) + time '15:00') AT TIME ZONE 'UTC' AS closed_at
    FROM closed
), u AS (
    SELECT t.*, CASE WHEN talked THEN opened_at + (2 + h %% 35) * interval '1 day' + interval '4 hours' END
                    AS activity_at
    FROM t
)
SELECT u.*, a.account_manager_id AS am_id, am.team_id,
       CASE WHEN activity_at < reminded_at THEN 'skipped' ELSE 'opened' END AS reminder_result
FROM u JOIN accounts_account a ON a.id = u.account_id JOIN team_user am ON am.id = a.account_manager_id
"""

HISTORY_OPPORTUNITIES_SQL = """
INSERT INTO accounts_opportunity (
    id, name, status, origin, budget, budget_note, authority, authority_note, need, need_note, timing,
    timing_note, asked_for_meeting, proposed_meeting_at, amount, close_date, next_step, handed_off_at,
    accepted_at, rejected_at, reject_reason, reject_note, closed_at, lost_reason, lost_note, early_loss,
    updated_at, account_id, campaign_id, contact_id, lead_id, owner_id, sdr_id, stage_id, kind
)
SELECT %(base_opportunity)s + r.id, left('Renewal: ' || a.name || ' (' || to_char(r.end_date, 'Mon YYYY') || ')', 200),
       CASE WHEN r.status = 'churned' THEN 'lost' ELSE 'won' END, 'inbound',
       'unknown', '', 'unknown', '', 'unknown', '', 'unknown', '', false, NULL,
       COALESCE(r.new_value, r.value), r.end_date, '', r.opened_at, r.opened_at, NULL, '', '', r.closed_at,
       CASE WHEN r.status = 'churned' THEN r.churn_reason ELSE '' END, '', false, r.closed_at, r.account_id,
       NULL, NULL, NULL, r.am_id, NULL,
       CASE WHEN r.status = 'churned' THEN %(lost_stage)s ELSE %(won_stage)s END, 'renewal'
FROM renewal_history r JOIN accounts_account a ON a.id = r.account_id
ORDER BY r.opened_at
"""

HISTORY_OPPORTUNITY_EVENTS_SQL = """
INSERT INTO accounts_opportunityevent (opportunity_id, kind, at, actor_id, from_stage, to_stage, message)
SELECT %(base_opportunity)s + id, 'accepted', opened_at, NULL, '', 'Discovery',
       'Renewal of the contract ending ' || end_date || '.'
FROM renewal_history
UNION ALL
SELECT %(base_opportunity)s + id, CASE WHEN status = 'churned' THEN 'lost' ELSE 'won' END, closed_at, am_id,
       'Discovery', CASE WHEN status = 'churned' THEN 'Lost' ELSE 'Won' END, initcap(outcome) || '.'
FROM renewal_history
ORDER BY 3
"""

CONTRACT_COLUMNS = """id, number, source, start_date, end_date, annual_value, products, seats, auto_renew, status,
    outcome, closed_at, churn_reason, outcome_note, renewal_activity_at, created_at, account_id, created_by_id,
    opportunity_id, renewal_id, renewed_from_id"""

HISTORY_CONTRACTS_SQL = f"""
INSERT INTO renewals_contract ({CONTRACT_COLUMNS})
SELECT id, 'C-' || lpad(id::text, 8, '0'), CASE WHEN h %% 4 = 0 THEN 'import' ELSE 'won' END, start_date,
       end_date, value, products, seats, auto_renew, status, outcome, closed_at, churn_reason,
       CASE WHEN status = 'churned' THEN 'Budget cut; they may come back next year.' ELSE '' END,
       activity_at, (start_date + time '09:00') AT TIME ZONE 'UTC', account_id, NULL, NULL,
       %(base_opportunity)s + id, NULL
FROM renewal_history
ORDER BY start_date, id
"""

ACTIVE_CONTRACTS_SQL = f"""
INSERT INTO renewals_contract ({CONTRACT_COLUMNS})
SELECT p.id, 'C-' || lpad(p.id::text, 8, '0'),
       CASE WHEN p.renewal THEN 'renewal' WHEN p.h %% 4 = 0 THEN 'import' ELSE 'won' END,
       p.start_date, p.end_date, p.value, p.products, p.seats, p.auto_renew, 'active', '', NULL, '', '', NULL,
       COALESCE(r.closed_at, (p.start_date + time '09:00') AT TIME ZONE 'UTC'), p.account_id, NULL, NULL, NULL,
       r.id
FROM renewal_plan p LEFT JOIN renewal_history r ON r.next_id = p.id
ORDER BY 16, 1
"""

HISTORY_STEPS_SQL = """
INSERT INTO renewals_renewalstep (contract_id, step, result, done_at)
SELECT id, 'start', 'opened', opened_at FROM renewal_history
UNION ALL
SELECT id, 'reminder', reminder_result, reminded_at FROM renewal_history
ORDER BY 4
"""

ITEM_COLUMNS = """kind, state, object_id, title, note, created_at, due_at, breached_at, reassign_at, completed_at,
    completed_by_id, content_type_id, owner_id, policy_id, team_id"""

# Done items of the closed terms; one finished after its due time breached (and has a breach).
HISTORY_ITEMS_SQL = f"""
INSERT INTO work_workitem ({ITEM_COLUMNS})
SELECT kind, 'done', i.id, left(title, 200), '', created_at, due_at,
       CASE WHEN completed_at > due_at THEN due_at + interval '1 minute' END, NULL, completed_at, am_id,
       %(ct)s, am_id, policy, team_id
FROM (
    SELECT 'renewal_start' AS kind, r.id, 'Start the renewal conversation: ' || a.name || ' ends ' || r.end_date AS title,
           r.opened_at AS created_at, r.opened_at + interval '7 days' AS due_at,
           COALESCE(r.activity_at, r.closed_at) AS completed_at, %(start_policy)s AS policy, r.am_id, r.team_id
    FROM renewal_history r JOIN accounts_account a ON a.id = r.account_id
    UNION ALL
    SELECT 'renewal_reminder', r.id, 'Renewal in 30 days and no conversation yet: ' || a.name, r.reminded_at,
           r.reminded_at + interval '3 days', COALESCE(r.activity_at, r.closed_at), %(reminder_policy)s,
           r.am_id, r.team_id
    FROM renewal_history r JOIN accounts_account a ON a.id = r.account_id WHERE r.reminder_result = 'opened'
    UNION ALL
    SELECT 'renewal_due', r.id, 'Close the renewal of ' || a.name || ' by ' || r.end_date, r.opened_at,
           (r.end_date + 1)::timestamp AT TIME ZONE 'UTC', r.closed_at, %(due_policy)s, r.am_id, r.team_id
    FROM renewal_history r JOIN accounts_account a ON a.id = r.account_id WHERE NOT r.auto_renew
) AS i
ORDER BY created_at
"""

HISTORY_BREACHES_SQL = """
INSERT INTO work_breach (work_item_id, policy_id, owner_id, team_id, due_at, detected_at, escalation,
                         escalated_at, reassigned_at, acknowledged_at, acknowledged_by_id, note)
SELECT id, policy_id, owner_id, team_id, due_at, breached_at, 'sent', breached_at, NULL,
       breached_at + interval '1 day', NULL, 'Discussed in the weekly review.'
FROM work_workitem WHERE content_type_id = %(ct)s AND breached_at IS NOT NULL
"""

# The timeline: customer and AM at the start, each contract added (renewals say it in their
# predecessor's outcome), and the closed terms' windows, conversations and outcomes.
HISTORY_EVENTS_SQL = """
INSERT INTO renewals_accountevent (kind, at, amount, message, account_id, actor_id, contract_id)
SELECT 'customer', customer_since, NULL::numeric, 'won Customer ' || (id - %(base_account)s - 1), id, NULL::bigint, NULL::bigint
FROM accounts_account WHERE id > %(base_account)s
UNION ALL
SELECT 'am_assigned', customer_since, NULL, 'Assigned by the territory round-robin.', id, NULL, NULL
FROM accounts_account WHERE id > %(base_account)s
UNION ALL
SELECT 'contract', created_at, annual_value,
       to_char(annual_value, 'FM999,999,990.00') || ' a year, ' || start_date || ' to ' || end_date || '.',
       account_id, NULL, id
FROM renewals_contract WHERE source <> 'renewal'
UNION ALL
SELECT 'renewal_opened', opened_at, value, 'Renewal opened: the contract ends ' || end_date || '.', account_id, NULL, id
FROM renewal_history
UNION ALL
SELECT 'reminder', reminded_at, NULL, 'No renewal conversation logged with 30 days left.', account_id, NULL, id
FROM renewal_history WHERE reminder_result = 'opened'
UNION ALL
SELECT 'conversation', activity_at, NULL, 'Walked through usage and next year''s seats.', account_id, am_id, id
FROM renewal_history WHERE talked
UNION ALL
SELECT outcome, closed_at, COALESCE(new_value, 0) - value, initcap(outcome) || '.', account_id, am_id, id
FROM renewal_history
ORDER BY 2
"""

CHURNED_ACCOUNTS_SQL = """
UPDATE accounts_account a SET churned_at = r.closed_at
FROM renewal_history r WHERE r.account_id = a.id AND a.id > %(base_account)s::bigint + %(accounts)s
"""

# After the first run: move each window's opening back to the day the task would have
# opened it, give 60% of the renewals a conversation since, and breach what is past due.
OPENED_SQL = """
CREATE TEMP TABLE renewal_opened AS
WITH o AS (
    SELECT c.id, c.account_id, c.renewal_id, c.end_date, a.account_manager_id AS am_id,
           hashint8(c.id)::bigint + 2147483648 AS h,
           ((c.end_date - %(start_days)s) + time '05:30') AT TIME ZONE 'UTC' AS opened_at,
           ((c.end_date - %(reminder_days)s) + time '05:30') AT TIME ZONE 'UTC' AS reminded_at
    FROM renewals_renewalstep s
    JOIN renewals_contract c ON c.id = s.contract_id
    JOIN accounts_account a ON a.id = c.account_id
    WHERE s.step = 'start' AND s.done_at = %(first_run)s
)
SELECT o.*,
       CASE WHEN o.h %% 10 < 6 AND o.opened_at + (2 + o.h %% 35) * interval '1 day' + interval '4 hours' < %(now)s
            THEN o.opened_at + (2 + o.h %% 35) * interval '1 day' + interval '4 hours' END AS activity_at
FROM o
"""

BACKDATE_SQL = [
    """UPDATE renewals_renewalstep s SET done_at = o.opened_at
       FROM renewal_opened o WHERE s.contract_id = o.id AND s.step = 'start'""",
    """UPDATE renewals_renewalstep s SET done_at = o.reminded_at,
           result = CASE WHEN o.activity_at < o.reminded_at THEN 'skipped' ELSE 'opened' END
       FROM renewal_opened o WHERE s.contract_id = o.id AND s.step = 'reminder' AND s.done_at = %(first_run)s""",
    """UPDATE accounts_opportunity p SET handed_off_at = o.opened_at, accepted_at = o.opened_at,
           updated_at = COALESCE(o.activity_at, o.opened_at)
       FROM renewal_opened o WHERE p.id = o.renewal_id""",
    """UPDATE accounts_opportunityevent e SET at = o.opened_at
       FROM renewal_opened o WHERE e.opportunity_id = o.renewal_id AND e.at = %(first_run)s""",
    """DELETE FROM renewals_accountevent e USING renewal_opened o
       WHERE e.contract_id = o.id AND e.kind = 'reminder' AND o.activity_at < o.reminded_at""",
    """UPDATE renewals_accountevent e
       SET at = CASE e.kind WHEN 'reminder' THEN o.reminded_at ELSE o.opened_at END
       FROM renewal_opened o WHERE e.contract_id = o.id AND e.at = %(first_run)s""",
    """DELETE FROM work_workitem w USING renewal_opened o
       WHERE w.content_type_id = %(ct)s AND w.object_id = o.id AND w.kind = 'renewal_reminder'
         AND o.activity_at < o.reminded_at""",
    """UPDATE work_workitem w
       SET created_at = CASE w.kind WHEN 'renewal_reminder' THEN o.reminded_at ELSE o.opened_at END,
           due_at = CASE w.kind WHEN 'renewal_start' THEN w.due_at + (o.opened_at - %(first_run)s)
                                WHEN 'renewal_reminder' THEN w.due_at + (o.reminded_at - %(first_run)s)
                                ELSE w.due_at END,
           state = CASE WHEN o.activity_at IS NOT NULL AND w.kind <> 'renewal_due' THEN 'done' ELSE w.state END,
           completed_at = CASE WHEN w.kind <> 'renewal_due' THEN o.activity_at END,
           completed_by_id = CASE WHEN o.activity_at IS NOT NULL AND w.kind <> 'renewal_due' THEN w.owner_id END
       FROM renewal_opened o
       WHERE w.content_type_id = %(ct)s AND w.object_id = o.id AND w.created_at = %(first_run)s""",
    """UPDATE renewals_contract c SET renewal_activity_at = o.activity_at
       FROM renewal_opened o WHERE c.id = o.id AND o.activity_at IS NOT NULL""",
    """INSERT INTO renewals_accountevent (kind, at, amount, message, account_id, actor_id, contract_id)
       SELECT 'conversation', activity_at, NULL, 'Walked through usage and next year''s seats.', account_id, am_id, id
       FROM renewal_opened WHERE activity_at IS NOT NULL ORDER BY activity_at""",
    # Late items breach (the sweep would have marked them), with their breach rows.
    """WITH late AS (
           UPDATE work_workitem SET breached_at = due_at + interval '1 minute'
           WHERE content_type_id = %(ct)s AND breached_at IS NULL AND policy_id IS NOT NULL
             AND ((state = 'open' AND due_at < %(now)s) OR (state = 'done' AND completed_at > due_at))
           RETURNING id, policy_id, owner_id, team_id, due_at, breached_at, state
       )
       INSERT INTO work_breach (work_item_id, policy_id, owner_id, team_id, due_at, detected_at, escalation,
                                escalated_at, reassigned_at, acknowledged_at, acknowledged_by_id, note)
       SELECT id, policy_id, owner_id, team_id, due_at, breached_at, 'sent', breached_at, NULL,
              CASE WHEN state = 'done' THEN breached_at + interval '1 day' END, NULL, ''
       FROM late""",
    "DROP TABLE renewal_opened",
]
