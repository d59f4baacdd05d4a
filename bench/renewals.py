"""Figure 6: the daily renewal task and the renewals page (issue 5), each beside the bare SQL
doing the same work.

1. The daily task, ``renewals.services.run_renewals(now=...)`` in process, at the beat
   schedule's 05:30 UTC, on a real sequence of days (each run's ``now`` one day after the
   last, nothing put back): on a normal day the contracts whose 60-day and 30-day windows
   open that day (~1/730 of the active ones each) get their renewal, items, reminders and
   emails (locmem backend), and the auto-renewing contracts that ended yesterday renew. Its
   time and the statements it sends, day by day (median and p95 over the days). Then: the
   same day again (nothing due), two processes running the next day at once (both finish;
   each window opened once), a run after 7 missed days (the catch-up), and the first run
   over the whole backlog, which is how the data set gets its open windows. Baseline: per
   day, three statements in one transaction (``INSERT ... SELECT`` with data-modifying CTEs):
   the start window's steps, renewal opportunities, items and events; the reminder window's
   steps, items and events; the auto-renewals. No emails, calendars or Python.
2. ``EXPLAIN (ANALYZE, BUFFERS)`` of the statements the task sends that read the contracts on
   a normal day (in a transaction rolled back): the claims must use ``contract_active_end``.
3. The renewals page, ``GET /renewals/`` (URL ``renewals:renewals``) through Django's test
   ``Client``, in process, like the AE pages of figure 5: server time (p50/p95) and queries
   per request, for 39 AMs with ~2,560 active contracts each, a new AM with 30, and the
   managers of the 4 AM teams; baseline, the SELECTs each request sent, via a cursor.

The data set, in SQL (``INSERT ... SELECT FROM generate_series``): 4 AM teams of 10 AMs
(Berlin and New York calendars, a manager each); ``n`` active contracts (100,000) on 0.6 n
customer accounts, their last days spread evenly over two years from yesterday (12-month
terms ending this year, 24-month terms the next), 20% auto-renewing; half of those ending this year
renewed a term that ended in the past year (closed as renewed, expanded or downsized, linked
by ``renewed_from``); n/20 churned terms in the past year (3,000 accounts churned, the others
on current customers). Every closed term has what the task and its AM left: both window
steps, its renewal opportunity won or lost, done work items (late ones with their breach),
the account's timeline. Two contacts per account with a lead each (a quarter with no
engagement left). Then the task's first run, on the day before "today", opens the windows of
the active contracts already inside them, and SQL moves each opening back to the day it would
have happened had the task run every day, gives 60% of the opened renewals a conversation
(their start items done; a reminder skipped when the talk came first) and breaches the items
past due.

Run as a module (``python -m bench.renewals run ISO-DATETIME WARM-UP``) it is one of the two
processes of the concurrent run: it runs the task once for a day already done (a warm
process, as a Celery worker is), says ``ready``, waits for ``go``, runs the task and prints
one JSON line.
"""

import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time as wall
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter_ns as time_ns

import psycopg
from django.utils import timezone

from .env import BASE_DIR, PYTHON, connect, create_team
from .plans import abridge, cut, explain, select_statements, seq_scan
from .timing import (
    PageTimes,
    StatementTimer,
    Timer,
    percentile,
    replay_statements,
    statement_kinds,
    time_requests,
)

AM_TEAMS = [
    ("Account Management DACH", "Europe/Berlin"),
    ("Account Management Europe", "Europe/Berlin"),
    ("Account Management US East", "America/New_York"),
    ("Account Management US West", "America/New_York"),
]
AMS_PER_TEAM = 10
SMALL_AM_ACCOUNTS = 15  # the new AM: 15 accounts, 30 active contracts
RUN_AT = time(5, 30)  # the beat schedule's time (UTC)
IDLE_REPEATS = 5
MISSED_DAYS = 7
BASELINE_DAYS = 5
PAGE_WARMUP = 20
QUERY_COUNT_SAMPLE = 10
SMALL_AM_REQUESTS = 50
MANAGER_REQUESTS = 50
PARALLEL = 2
CLAIM_INDEX = "contract_active_end"
BIG_TABLES = (
    "renewals_contract",
    "renewals_renewalstep",
    "renewals_accountevent",
    "accounts_account",
    "accounts_contact",
    "accounts_opportunity",
    "work_workitem",
    "work_breach",
    "leads_lead",
)
PRODUCTS = [
    "Refinery Core",
    "Refinery Core, Routing",
    "Refinery Core, Scoring",
    "Refinery Enterprise",
    "Refinery Enterprise, API",
]
INDUSTRIES = ["Technology", "Financial Services", "Healthcare", "Retail", "Manufacturing", "Media"]
COUNTRIES = ["DE", "AT", "CH", "GB", "FR", "NL", "US", "US", "CA", "US"]


def at(day: date) -> datetime:
    """The moment the daily task runs on ``day``."""
    return datetime.combine(day, RUN_AT, tzinfo=UTC)


# --- the data set --------------------------------------------------------------------------

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
    engagement_key, external_id, external_status, external_created_at, captured_at, mql_at,
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
       '', '', NULL,
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

# --- baselines -----------------------------------------------------------------------------

# The start window in one statement: claim the steps (as the service's claim does: the same
# scan, order and batch size, which steer the planner to the same plan), then for the claimed
# contracts the renewal opportunity (its id drawn first, to link it), the link, the start item
# and the renewal-due timer (due times on the wall clock, not the AM's calendar), the account
# and opportunity events.
BASELINE_START_SQL = """
WITH claimed AS (
    INSERT INTO renewals_renewalstep (contract_id, step, result, done_at)
    SELECT c.id, 'start', 'opened', %(now)s
    FROM renewals_contract c JOIN accounts_account a ON a.id = c.account_id
    WHERE c.status = 'active' AND c.end_date <= %(start_until)s AND c.end_date >= %(since)s
      AND a.account_manager_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM renewals_renewalstep s WHERE s.contract_id = c.id AND s.step = 'start')
    ORDER BY c.end_date, c.id
    LIMIT %(limit)s
    ON CONFLICT (contract_id, step) DO NOTHING
    RETURNING contract_id
), c AS MATERIALIZED (
    SELECT c.id, c.account_id, c.end_date, c.annual_value, c.auto_renew, a.name, a.account_manager_id AS am_id,
           am.team_id, nextval(pg_get_serial_sequence('accounts_opportunity', 'id')) AS opportunity_id
    FROM claimed
    JOIN renewals_contract c ON c.id = claimed.contract_id
    JOIN accounts_account a ON a.id = c.account_id
    JOIN team_user am ON am.id = a.account_manager_id
), opportunities AS (
    INSERT INTO accounts_opportunity (
        id, name, status, origin, budget, budget_note, authority, authority_note, need, need_note, timing,
        timing_note, asked_for_meeting, proposed_meeting_at, amount, close_date, next_step, handed_off_at,
        accepted_at, rejected_at, reject_reason, reject_note, closed_at, lost_reason, lost_note, early_loss,
        updated_at, account_id, campaign_id, contact_id, lead_id, owner_id, sdr_id, stage_id, kind)
    SELECT opportunity_id, left('Renewal: ' || name || ' (' || to_char(end_date, 'Mon YYYY') || ')', 200),
           'open', 'inbound', 'unknown', '', 'unknown', '', 'unknown', '', 'unknown', '', false, NULL,
           annual_value, end_date, '', %(now)s, %(now)s, NULL, '', '', NULL, '', '', false, %(now)s, account_id,
           NULL, NULL, NULL, am_id, NULL, %(stage)s, 'renewal'
    FROM c
), linked AS (
    UPDATE renewals_contract SET renewal_id = c.opportunity_id FROM c WHERE renewals_contract.id = c.id
), items AS (
    INSERT INTO work_workitem (kind, state, object_id, title, note, created_at, due_at, breached_at, reassign_at,
                               completed_at, completed_by_id, content_type_id, owner_id, policy_id, team_id)
    SELECT 'renewal_start', 'open', id,
           left('Start the renewal conversation: ' || name || ' ends ' || end_date, 200), '', %(now)s,
           %(now)s + interval '7 days', NULL::timestamptz, NULL::timestamptz, NULL::timestamptz,
           NULL::bigint, %(ct)s, am_id, %(start_policy)s, team_id
    FROM c
    UNION ALL
    SELECT 'renewal_due', 'open', id, left('Close the renewal of ' || name || ' by ' || end_date, 200), '',
           %(now)s, (end_date + 1)::timestamp AT TIME ZONE 'UTC', NULL, NULL, NULL, NULL, %(ct)s, am_id,
           %(due_policy)s, team_id
    FROM c WHERE NOT auto_renew
), events AS (
    INSERT INTO renewals_accountevent (kind, at, amount, message, account_id, actor_id, contract_id)
    SELECT 'renewal_opened', %(now)s, annual_value, left('Renewal opened: the contract ends ' || end_date, 500),
           account_id, NULL, id
    FROM c
), opportunity_events AS (
    INSERT INTO accounts_opportunityevent (opportunity_id, kind, at, actor_id, from_stage, to_stage, message)
    SELECT opportunity_id, 'accepted', %(now)s, NULL, '', 'Discovery', 'Renewal of the contract ending ' || end_date
    FROM c
)
SELECT count(*) FROM c
"""

# The reminder window: the step says at once whether a conversation made it unnecessary;
# the silent contracts get a reminder item and an event. No emails.
BASELINE_REMINDER_SQL = """
WITH claimed AS (
    INSERT INTO renewals_renewalstep (contract_id, step, result, done_at)
    SELECT c.id, 'reminder', CASE WHEN c.renewal_activity_at IS NULL THEN 'opened' ELSE 'skipped' END, %(now)s
    FROM renewals_contract c JOIN accounts_account a ON a.id = c.account_id
    WHERE c.status = 'active' AND c.end_date <= %(reminder_until)s AND c.end_date >= %(since)s
      AND a.account_manager_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM renewals_renewalstep s WHERE s.contract_id = c.id AND s.step = 'reminder')
      AND EXISTS (SELECT 1 FROM renewals_renewalstep o WHERE o.contract_id = c.id AND o.step = 'start')
    ORDER BY c.end_date, c.id
    LIMIT %(limit)s
    ON CONFLICT (contract_id, step) DO NOTHING
    RETURNING contract_id, result
), c AS MATERIALIZED (
    SELECT c.id, c.account_id, c.end_date, a.name, a.account_manager_id AS am_id, am.team_id
    FROM claimed
    JOIN renewals_contract c ON c.id = claimed.contract_id
    JOIN accounts_account a ON a.id = c.account_id
    JOIN team_user am ON am.id = a.account_manager_id
    WHERE claimed.result = 'opened'
), items AS (
    INSERT INTO work_workitem (kind, state, object_id, title, note, created_at, due_at, breached_at, reassign_at,
                               completed_at, completed_by_id, content_type_id, owner_id, policy_id, team_id)
    SELECT 'renewal_reminder', 'open', id,
           left('Renewal in ' || (end_date - %(today)s) || ' days and no conversation yet: ' || name, 200), '',
           %(now)s, %(now)s + interval '3 days', NULL, NULL, NULL, NULL, %(ct)s, am_id, %(reminder_policy)s, team_id
    FROM c
), events AS (
    INSERT INTO renewals_accountevent (kind, at, amount, message, account_id, actor_id, contract_id)
    SELECT 'reminder', %(now)s, NULL, 'No renewal conversation logged with ' || (end_date - %(today)s) || ' days left.',
           account_id, NULL, id
    FROM c
)
SELECT (SELECT count(*) FROM claimed), (SELECT count(*) FROM c)
"""

# Auto-renewals: close the ended terms, start their next terms (as long again), win their
# renewal opportunities, finish their open items, and write the events.
BASELINE_AUTO_RENEW_SQL = """
WITH ended AS (
    UPDATE renewals_contract c
    SET status = 'renewed', outcome = 'renewed', closed_at = %(now)s,
        outcome_note = 'Renewed automatically on the same terms (auto-renew).'
    WHERE c.status = 'active' AND c.auto_renew AND c.end_date < %(today)s
    RETURNING c.id, c.account_id, c.start_date, c.end_date, c.annual_value, c.products, c.seats, c.renewal_id,
              (extract(year FROM age(c.end_date + 1, c.start_date)) * 12
               + extract(month FROM age(c.end_date + 1, c.start_date)))::int AS months
), new_terms AS (
    INSERT INTO renewals_contract (number, source, start_date, end_date, annual_value, products, seats, auto_renew,
        status, outcome, closed_at, churn_reason, outcome_note, renewal_activity_at, created_at, account_id,
        created_by_id, opportunity_id, renewal_id, renewed_from_id)
    SELECT '', 'renewal', end_date + 1, (end_date + 1 + make_interval(months => months))::date - 1, annual_value,
           products, seats, true, 'active', '', NULL, '', '', NULL, %(now)s, account_id, NULL, NULL, NULL, id
    FROM ended
), won AS (
    UPDATE accounts_opportunity o
    SET status = 'won', stage_id = %(won_stage)s, closed_at = %(now)s, amount = e.annual_value, updated_at = %(now)s
    FROM ended e WHERE o.id = e.renewal_id AND o.status = 'open'
    RETURNING o.id
), won_events AS (
    INSERT INTO accounts_opportunityevent (opportunity_id, kind, at, actor_id, from_stage, to_stage, message)
    SELECT id, 'won', %(now)s, NULL, 'Discovery', 'Won', 'Renewed.' FROM won
), done AS (
    UPDATE work_workitem w SET state = 'done', completed_at = %(now)s
    FROM ended e
    WHERE w.content_type_id = %(ct)s AND w.object_id = e.id AND w.state = 'open'
      AND w.kind IN ('renewal_start', 'renewal_reminder', 'renewal_due')
), events AS (
    INSERT INTO renewals_accountevent (kind, at, amount, message, account_id, actor_id, contract_id)
    SELECT 'renewed', %(now)s, 0,
           'Renewed: ' || annual_value || ' a year from ' || (end_date + 1) || '. Renewed automatically.',
           account_id, NULL, id
    FROM ended
)
SELECT count(*) FROM ended
"""

# What a run on ``today`` must have done: nothing left unclaimed in either window, no
# auto-renewing contract left past its end.
LEFT_OVER_SQL = """
SELECT
  (SELECT count(*) FROM renewals_contract c JOIN accounts_account a ON a.id = c.account_id
   WHERE c.status = 'active' AND c.end_date BETWEEN %(since)s AND %(start_until)s
     AND a.account_manager_id IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM renewals_renewalstep s WHERE s.contract_id = c.id AND s.step = 'start')),
  (SELECT count(*) FROM renewals_contract c JOIN accounts_account a ON a.id = c.account_id
   WHERE c.status = 'active' AND c.end_date BETWEEN %(since)s AND %(reminder_until)s
     AND a.account_manager_id IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM renewals_renewalstep s WHERE s.contract_id = c.id AND s.step = 'reminder')),
  (SELECT count(*) FROM renewals_contract WHERE status = 'active' AND auto_renew AND end_date < %(today)s)
"""

# --- results -------------------------------------------------------------------------------


@dataclass
class DataSet:
    contracts: int  # active contracts
    accounts: int  # customer accounts (churned ones besides)
    churned_accounts: int
    today: date
    ams: list[int]
    am_teams: list[int]
    big_ams: list[int]
    small_am: int
    managers: list[int]
    contract_ct: int
    policies: dict[str, int]
    stages: dict[str, int]
    windows: tuple[int, int]  # (start_days, reminder_days)
    catch_up_days: int
    counts: dict[str, int] = field(default_factory=dict)
    loads: dict[str, int] = field(default_factory=dict)  # active contracts: "big", "small", "manager"
    generate_seconds: float = 0.0
    backdate_seconds: float = 0.0


@dataclass
class TaskRun:
    """One run of ``run_renewals``: what it did, its time and its statements."""

    label: str
    day: date
    seconds: float
    statements: int
    opened: int
    reminded: int
    skipped: int
    auto_renewed: int
    emails: int
    kinds: dict[str, list] = field(default_factory=dict)  # statement kind -> [count, ms]

    @property
    def ms(self) -> float:
        return self.seconds * 1000

    @property
    def windows(self) -> int:
        return self.opened + self.reminded + self.skipped


@dataclass
class BaselineRun:
    day: date
    seconds: float
    opened: int
    reminded: int
    skipped: int
    auto_renewed: int

    @property
    def ms(self) -> float:
        return self.seconds * 1000


@dataclass
class Concurrent:
    day: date
    seconds: float  # wall time from the first start to the last end
    runs: list[dict]  # each process: seconds, counts, statements
    expected: dict[str, int]  # what one run had to do (counted before)
    steps: dict[str, int]  # steps written at that instant, by window
    items: dict[str, int]  # items created at that instant, by kind
    duplicates: int  # (contract, kind) pairs with more than one item created at that instant

    @property
    def totals(self) -> dict[str, int]:
        keys = ("opened", "reminded", "skipped", "auto_renewed", "emails")
        return {k: sum(r["counts"][k] for r in self.runs) for k in keys}

    @property
    def exactly_once(self) -> bool:
        t = self.totals
        return (
            self.duplicates == 0
            and t["opened"] == self.expected["start"] == self.steps.get("start", 0)
            and t["reminded"] + t["skipped"] == self.expected["reminder"] == self.steps.get("reminder", 0)
            and t["auto_renewed"] == self.expected["auto_renew"]
            and self.items.get("renewal_start", 0) == t["opened"]
            and self.items.get("renewal_reminder", 0) == t["reminded"]
        )


@dataclass
class Page(PageTimes):
    name: str
    url: str
    measured: bool
    note: str = ""
    ms: list[float] = field(default_factory=list)  # big-book AMs, in turn
    small_ms: list[float] = field(default_factory=list)
    manager_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)  # baseline, same order as ms
    manager_sql_ms: list[float] = field(default_factory=list)  # baseline, same order as manager_ms
    queries: list[int] = field(default_factory=list)
    small_queries: list[int] = field(default_factory=list)
    manager_queries: list[int] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    manager_statements: list[str] = field(default_factory=list)
    kib: float = 0.0
    small_kib: float = 0.0
    manager_kib: float = 0.0
    plans: dict[str, str] = field(default_factory=dict)
    manager_plans: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass
class RenewalsFigures:
    data: DataSet
    first_run: TaskRun
    days: list[TaskRun]
    idle: list[TaskRun]
    concurrent: Concurrent
    catch_up: TaskRun
    baseline_days: list[BaselineRun]
    baseline_idle: list[BaselineRun]
    baseline_catch_up: BaselineRun
    plans: dict[str, str]
    plan_problems: list[str]
    pages: list[Page]

    @property
    def day_median_ms(self) -> float:
        return statistics.median(d.ms for d in self.days)

    @property
    def day_p95_ms(self) -> float:
        return percentile([d.ms for d in self.days], 95)

    @property
    def baseline_median_ms(self) -> float:
        return statistics.median(b.ms for b in self.baseline_days)

    @property
    def idle_median_ms(self) -> float:
        return statistics.median(r.ms for r in self.idle)

    @property
    def baseline_idle_median_ms(self) -> float:
        return statistics.median(b.ms for b in self.baseline_idle)

    @property
    def median_day(self) -> TaskRun:
        return sorted(self.days, key=lambda d: d.seconds)[len(self.days) // 2]


# --- data ----------------------------------------------------------------------------------


def create_am_teams() -> tuple[list[int], list[int], list[int]]:
    """4 AM teams with a manager and a business calendar (Mon-Fri 9-17, Christmas), 10 AMs
    each. Returns (AMs, their teams, the managers), team by team."""
    from team.models import Role, Team

    ams, am_teams, managers = [], [], []
    for t, (name, zone) in enumerate(AM_TEAMS):
        team, members = create_team(
            t, name, zone, kind=Team.Kind.ACCOUNT_MANAGEMENT, role=Role.AM, size=AMS_PER_TEAM, tag="r",
            member_tag="am", word="Keeper", manager_email=f"am-lead{t}@refinery.example",
            holiday_years=range(2025, 2031),
        )  # fmt: skip
        ams += [u.pk for u in members]
        am_teams += [team.pk] * len(members)
        managers.append(team.manager_id)
    return ams, am_teams, managers


def _max_id(conn, table: str) -> int:
    return conn.execute(f"SELECT COALESCE(max(id), 0) FROM {table}").fetchone()[0]


def generate(n: int) -> DataSet:
    """The AM teams and ``n`` active contracts with their history (the module docstring);
    their ids follow whatever other figures left in the shared tables."""
    from django.contrib.contenttypes.models import ContentType

    from accounts.models import Stage
    from accounts.services import first_stage
    from leads.models import NO_ENGAGEMENT, ScoringSettings
    from leads.scoring import threshold_key
    from renewals.models import CHURN_REASONS, Contract, RenewalSettings
    from renewals.services import CATCH_UP_DAYS, renewal_policies
    from work.models import SlaPolicy

    today = timezone.localdate()
    now = at(today)
    accounts = n * 3 // 5
    churned_accounts = accounts // 20
    ams, am_teams, managers = create_am_teams()
    big_ams, small_am = ams[:-1], ams[-1]  # the new hire is the last team's last AM
    windows = RenewalSettings.load()
    policies = {key: p.pk for key, p in renewal_policies().items()}
    closed = {s.kind: s.pk for s in Stage.objects.filter(is_active=True, kind__in=["won", "lost"])}
    stages = {"first": first_stage().pk, **closed}
    data = DataSet(
        contracts=n,
        accounts=accounts,
        churned_accounts=churned_accounts,
        today=today,
        ams=ams,
        am_teams=am_teams,
        big_ams=big_ams,
        small_am=small_am,
        managers=managers,
        contract_ct=ContentType.objects.get_for_model(Contract).pk,
        policies=policies,
        stages=stages,
        windows=(windows.start_days, windows.reminder_days),
        catch_up_days=CATCH_UP_DAYS,
    )
    with connect() as conn, Timer() as timer:
        if _max_id(conn, "renewals_contract"):
            raise RuntimeError("renewals_contract is not empty: the renewals figure needs a fresh database")
        params = {
            "n": n,
            "accounts": accounts,
            "churned_accounts": churned_accounts,
            "churned": n // 20,
            "today": today,
            "now": now,
            "base_account": _max_id(conn, "accounts_account"),
            "base_lead": _max_id(conn, "leads_lead"),
            "base_contact": _max_id(conn, "accounts_contact"),
            "base_opportunity": _max_id(conn, "accounts_opportunity"),
            "big_ams": big_ams,
            "small_am": small_am,
            "small_accounts": SMALL_AM_ACCOUNTS,
            "industries": INDUSTRIES,
            "countries": COUNTRIES,
            "products": PRODUCTS,
            "churn_reasons": list(CHURN_REASONS),
            "no_engagement": NO_ENGAGEMENT,
            "half_lives": threshold_key(1.0, now, ScoringSettings.load().half_life_days),
            "start_days": windows.start_days,
            "reminder_days": windows.reminder_days,
            "ct": data.contract_ct,
            "start_policy": policies[SlaPolicy.RENEWAL_START],
            "reminder_policy": policies[SlaPolicy.RENEWAL_REMINDER],
            "due_policy": policies[SlaPolicy.RENEWAL_DUE],
            "won_stage": stages["won"],
            "lost_stage": stages["lost"],
        }
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute(ACCOUNTS_SQL, params)
        conn.execute(LEADS_SQL, params)
        conn.execute(CONTACTS_SQL, params)
        # CREATE TABLE AS takes no bound parameters: these are bound client-side.
        psycopg.ClientCursor(conn).execute(PLAN_SQL, params)
        psycopg.ClientCursor(conn).execute(HISTORY_SQL, params)
        for statement in (
            HISTORY_OPPORTUNITIES_SQL,
            HISTORY_OPPORTUNITY_EVENTS_SQL,
            HISTORY_CONTRACTS_SQL,
            ACTIVE_CONTRACTS_SQL,
            HISTORY_STEPS_SQL,
            HISTORY_ITEMS_SQL,
            HISTORY_BREACHES_SQL,
            HISTORY_EVENTS_SQL,
            CHURNED_ACCOUNTS_SQL,
        ):
            conn.execute(statement, params)
        conn.execute("DROP TABLE renewal_plan")
        conn.execute("DROP TABLE renewal_history")
        for table in (
            "accounts_account",
            "leads_lead",
            "accounts_contact",
            "accounts_opportunity",
            "renewals_contract",
        ):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        vacuum(conn)
    data.generate_seconds = timer.seconds
    return data


def vacuum(conn) -> None:
    for table in (*BIG_TABLES, "accounts_opportunityevent", "team_user"):
        conn.execute(f"VACUUM ANALYZE {table}")
    conn.execute("CHECKPOINT")


def backdate(data: DataSet, first_run: datetime) -> None:
    """After the first run: each window as if it had opened on its own day, conversations
    since, and breaches of what is past due at today's run."""
    windows = {"start_days": data.windows[0], "reminder_days": data.windows[1]}
    params = {"first_run": first_run, "now": at(data.today), "ct": data.contract_ct, **windows}
    with connect() as conn, Timer() as timer:
        psycopg.ClientCursor(conn).execute(OPENED_SQL, params)
        for statement in BACKDATE_SQL:
            conn.execute(statement, params)
        vacuum(conn)
    data.backdate_seconds = timer.seconds


def count_data(data: DataSet) -> None:
    with connect() as conn:

        def one(sql: str, *params) -> int:
            return conn.execute(sql, params).fetchone()[0]

        ct = data.contract_ct
        counts = {
            "accounts": one("SELECT count(*) FROM accounts_account WHERE customer_since IS NOT NULL"),
            "churned_accounts": one("SELECT count(*) FROM accounts_account WHERE churned_at IS NOT NULL"),
            "contacts": one(
                "SELECT count(*) FROM accounts_contact t JOIN accounts_account a ON a.id = t.account_id"
                " WHERE a.customer_since IS NOT NULL"
            ),
            "contracts": one("SELECT count(*) FROM renewals_contract"),
            "renewed_from": one("SELECT count(*) FROM renewals_contract WHERE renewed_from_id IS NOT NULL"),
            "auto_renew": one(
                "SELECT count(*) FROM renewals_contract WHERE status = 'active' AND auto_renew"
            ),
            "steps": one("SELECT count(*) FROM renewals_renewalstep"),
            "skipped_steps": one("SELECT count(*) FROM renewals_renewalstep WHERE result = 'skipped'"),
            "renewal_opportunities": one("SELECT count(*) FROM accounts_opportunity WHERE kind = 'renewal'"),
            "open_renewals": one(
                "SELECT count(*) FROM accounts_opportunity WHERE kind = 'renewal' AND status = 'open'"
            ),
            "talked": one(
                "SELECT count(*) FROM renewals_contract WHERE status = 'active' AND renewal_activity_at IS NOT NULL"
            ),
            "items": one("SELECT count(*) FROM work_workitem WHERE content_type_id = %s", ct),
            "open_items": one(
                "SELECT count(*) FROM work_workitem WHERE content_type_id = %s AND state = 'open'", ct
            ),
            "open_breached": one(
                "SELECT count(*) FROM work_workitem WHERE content_type_id = %s AND state = 'open'"
                " AND breached_at IS NOT NULL",
                ct,
            ),
            "breaches": one(
                "SELECT count(*) FROM work_breach b JOIN work_workitem w ON w.id = b.work_item_id"
                " WHERE w.content_type_id = %s",
                ct,
            ),
            "events": one("SELECT count(*) FROM renewals_accountevent"),
            "work_items_all": one("SELECT count(*) FROM work_workitem"),
            "opportunities_all": one("SELECT count(*) FROM accounts_opportunity"),
        }
        for status, k in conn.execute("SELECT status, count(*) FROM renewals_contract GROUP BY status"):
            counts[status] = k

        def load(sql: str, *params) -> int:
            return one(
                "SELECT count(*) FROM renewals_contract c JOIN accounts_account a ON a.id = c.account_id"
                f" WHERE c.status = 'active' AND {sql}",
                *params,
            )

        data.counts = counts
        data.loads = {
            "big": load("a.account_manager_id = %s", data.big_ams[0]),
            "small": load("a.account_manager_id = %s", data.small_am),
            "manager": load(
                "a.account_manager_id IN (SELECT id FROM team_user WHERE team_id = %s)", data.am_teams[0]
            ),
        }


# --- 1. the daily task -----------------------------------------------------------------------


def run_task(label: str, day: date) -> TaskRun:
    """``run_renewals`` at ``day``'s run time, timed, its statements counted (an execute
    wrapper: a clock read and a list append per statement), emails to locmem."""
    from django.core import mail
    from django.test.utils import override_settings

    from renewals.services import run_renewals

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        mail.outbox = []
        gc.collect()
        with StatementTimer() as traced, Timer() as timer:
            run = run_renewals(now=at(day))
        emails = len(mail.outbox)
        mail.outbox = []
    if emails != run.emails:
        raise RuntimeError(f"the run on {day} said {run.emails} emails, the outbox holds {emails}")
    return TaskRun(
        label=label,
        day=day,
        seconds=timer.seconds,
        statements=len(traced.statements),
        opened=len(run.opened),
        reminded=len(run.reminded),
        skipped=len(run.skipped),
        auto_renewed=len(run.auto_renewed),
        emails=run.emails,
        kinds=statement_kinds(traced.statements),
    )


def _window_params(data: DataSet, day: date) -> dict:
    start_days, reminder_days = data.windows
    return {
        "today": day,
        "now": at(day),
        "since": day - timedelta(days=data.catch_up_days),
        "start_until": day + timedelta(days=start_days),
        "reminder_until": day + timedelta(days=reminder_days),
    }


def check_done(data: DataSet, day: date) -> None:
    """Nothing the run on ``day`` had to do is left undone."""
    with connect() as conn:
        left = conn.execute(LEFT_OVER_SQL, _window_params(data, day)).fetchone()
    if any(left):
        raise RuntimeError(
            f"after the run on {day}: {left[0]} renewals not opened, {left[1]} reminders not handled,"
            f" {left[2]} auto-renewing contracts not renewed"
        )


def due_on(data: DataSet, day: date) -> dict[str, int]:
    """What a run on ``day`` has to do (counted before it runs)."""
    with connect() as conn:
        row = conn.execute(LEFT_OVER_SQL, _window_params(data, day)).fetchone()
    return {"start": row[0], "reminder": row[1], "auto_renew": row[2]}


def measure_days(data: DataSet, days: int, log=print) -> list[TaskRun]:
    runs = []
    for k in range(days):
        day = data.today + timedelta(days=k)
        run = run_task(f"day {k + 1}", day)
        check_done(data, day)
        runs.append(run)
        log(
            f"renewals: {day} {run.ms:,.0f} ms, {run.statements} statements: opened {run.opened},"
            f" reminded {run.reminded}, skipped {run.skipped}, auto-renewed {run.auto_renewed}, {run.emails} emails"
        )
    return runs


def measure_idle(day: date) -> list[TaskRun]:
    runs = [run_task("nothing due", day) for _ in range(IDLE_REPEATS)]
    if any(r.windows or r.auto_renewed for r in runs):
        raise RuntimeError(f"re-running {day} did work: {[r.windows for r in runs]}")
    return runs


def measure_concurrent(data: DataSet, day: date) -> Concurrent:
    """``PARALLEL`` processes run the task for ``day`` at once, started together once all are
    ready; then what was written at that instant is counted."""
    expected = due_on(data, day)
    env = os.environ | {"EMAIL_URL": "memorymail://"}
    workers = [
        subprocess.Popen(
            [
                PYTHON,
                "-m",
                "bench.renewals",
                "run",
                at(day).isoformat(),
                at(day - timedelta(days=1)).isoformat(),
            ],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(PARALLEL)
    ]
    for worker in workers:
        if worker.stdout.readline().strip() != "ready":
            raise RuntimeError("a renewals worker did not start")
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    outputs = []
    for worker in workers:
        out, _ = worker.communicate()
        if worker.returncode:
            raise RuntimeError(f"a renewals worker failed ({worker.returncode})")
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    check_done(data, day)
    with connect() as conn:
        steps = dict(
            conn.execute(
                "SELECT step, count(*) FROM renewals_renewalstep WHERE done_at = %s GROUP BY step", [at(day)]
            ).fetchall()
        )
        items = dict(
            conn.execute(
                "SELECT kind, count(*) FROM work_workitem WHERE content_type_id = %s AND created_at = %s"
                " GROUP BY kind",
                [data.contract_ct, at(day)],
            ).fetchall()
        )
        duplicates = conn.execute(
            """SELECT count(*) FROM (SELECT object_id, kind FROM work_workitem
               WHERE content_type_id = %s AND created_at = %s GROUP BY object_id, kind HAVING count(*) > 1) d""",
            [data.contract_ct, at(day)],
        ).fetchone()[0]
    return Concurrent(
        day=day,
        seconds=max(o["end"] for o in outputs) - min(o["start"] for o in outputs),
        runs=outputs,
        expected=expected,
        steps=steps,
        items=items,
        duplicates=duplicates,
    )


def baseline_runs(data: DataSet, days: list[date]) -> list[BaselineRun]:
    """Each day's work in bare SQL, three statements in one transaction, on one connection
    whose catalog caches were warmed by planning the statements once (the task's own
    connection is warm too)."""
    from renewals.services import BATCH
    from work.models import SlaPolicy

    statements = (BASELINE_START_SQL, BASELINE_REMINDER_SQL, BASELINE_AUTO_RENEW_SQL)
    fixed = {
        "limit": BATCH,
        "ct": data.contract_ct,
        "stage": data.stages["first"],
        "won_stage": data.stages["won"],
        "start_policy": data.policies[SlaPolicy.RENEWAL_START],
        "reminder_policy": data.policies[SlaPolicy.RENEWAL_REMINDER],
        "due_policy": data.policies[SlaPolicy.RENEWAL_DUE],
    }
    runs = []
    with connect() as conn:
        for sql in statements:
            conn.execute(f"EXPLAIN {sql}", _window_params(data, days[0]) | fixed)
        for day in days:
            params = _window_params(data, day) | fixed
            gc.collect()
            with Timer() as timer, conn.transaction():
                opened = conn.execute(BASELINE_START_SQL, params).fetchone()[0]
                claimed, reminded = conn.execute(BASELINE_REMINDER_SQL, params).fetchone()
                renewed = conn.execute(BASELINE_AUTO_RENEW_SQL, params).fetchone()[0]
            runs.append(BaselineRun(day, timer.seconds, opened, reminded, claimed - reminded, renewed))
            check_done(data, day)
    return runs


# --- 2. plans ------------------------------------------------------------------------------


def plans(day: date) -> tuple[dict[str, str], list[str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the statements a run on ``day`` sends that read the
    contracts by end date (both claims and the auto-renewal batch): the run is captured in a
    transaction rolled back, then each statement explained in another, rolled back too."""
    from django.core import mail
    from django.db import connection, transaction
    from django.test.utils import override_settings

    from renewals.services import run_renewals

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        with transaction.atomic(), StatementTimer() as captured:
            run_renewals(now=at(day))
            transaction.set_rollback(True)
        mail.outbox = []
    wanted, seen = [], set()
    for sql, params, _ in captured.statements:
        text = " ".join(sql.split())
        if "renewals_contract" not in text or "end_date" not in text:
            continue
        if text.startswith("INSERT INTO renewals_renewalstep"):
            name = "claim, " + ("reminder window" if "'start')" in text else "start window")
        elif text.startswith("SELECT") and "SKIP LOCKED" in text and '"auto_renew"' in text:
            name = "auto-renewal batch (SELECT ... FOR UPDATE SKIP LOCKED)"
        else:
            continue
        if name not in seen:
            seen.add(name)
            wanted.append((name, sql, params))
    out, problems = {}, []
    for name, sql, params in wanted:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n".join(cut(row[0]) for row in cursor.fetchall())
            transaction.set_rollback(True)
        out[f"{name}: {abridge(sql, 150)}"] = plan
        if CLAIM_INDEX not in plan:
            problems.append(f"{name} does not use {CLAIM_INDEX}")
        for table in BIG_TABLES:
            if seq_scan(plan, table):
                problems.append(f"{name} reads {table} with a sequential scan")
    if not any(name.startswith("claim") for name, _, _ in wanted):
        problems.append("no claim statement was captured")
    return out, problems


# --- 3. the renewals page --------------------------------------------------------------------


def measure_page(data: DataSet, requests: int, log=print) -> list[Page]:
    """``GET /renewals/`` as the AMs, the new AM and the managers; not measured (and said so)
    while the page is missing or failing."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse

    try:
        url = reverse("renewals:renewals")
    except NoReverseMatch:
        log("renewals: no URL named renewals:renewals yet; page not measured")
        return [
            Page(
                name="renewals",
                url="renewals:renewals",
                measured=False,
                note="no URL named renewals:renewals",
            )
        ]

    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=[*data.ams, *data.managers])}
    big = [users[pk] for pk in data.big_ams]
    small = users[data.small_am]
    managers = [users[pk] for pk in data.managers]
    rng = random.Random(6)
    order = [big[k % len(big)] for k in range(requests)]
    rng.shuffle(order)

    call_command("collectstatic", interactive=False, verbosity=0)
    sessions = {}
    for user in [*big, small, *managers]:
        login = Client()
        login.force_login(user)
        sessions[user.pk] = login.cookies[settings.SESSION_COOKIE_NAME].value
    client = Client(HTTP_HOST="127.0.0.1")

    def get(user) -> int:
        client.cookies[settings.SESSION_COOKIE_NAME] = sessions[user.pk]
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code} for {user}")
        return len(response.content)

    try:
        get(big[0])
    except Exception as exc:  # the page is being built: say so
        reason = f"{type(exc).__name__}: {exc}"[:300]
        log(f"renewals: WARNING: GET {url} failed ({reason}); page not measured")
        return [Page(name="renewals", url=url, measured=False, note=f"GET failed: {reason}")]

    page = Page(name="renewals", url=url, measured=True)
    log(f"renewals: GET {url}, {requests} requests across {len(big)} AMs, then the new AM and the managers")
    for user in big[:PAGE_WARMUP]:
        get(user)
    page.ms = time_requests(get, order)
    page.small_ms = time_requests(get, [small] * SMALL_AM_REQUESTS)
    manager_order = [managers[k % len(managers)] for k in range(MANAGER_REQUESTS)]
    page.manager_ms = time_requests(get, manager_order)

    compiled = {}
    for user in [*big[:QUERY_COUNT_SAMPLE], small, *managers]:
        with CaptureQueriesContext(connection) as captured:
            size = get(user)
        compiled[user.pk] = select_statements(captured)
        statements = [abridge(q["sql"]) for q in captured]
        if user is small:
            page.small_queries.append(len(captured))
            page.small_kib = size / 1024
        elif user in managers:
            page.manager_queries.append(len(captured))
            page.manager_statements = page.manager_statements or statements
            page.manager_kib = page.manager_kib or size / 1024
        else:
            page.queries.append(len(captured))
            page.statements = page.statements or statements
            page.kib = page.kib or size / 1024
    for user in big[QUERY_COUNT_SAMPLE:]:
        with CaptureQueriesContext(connection) as captured:
            get(user)
        compiled[user.pk] = select_statements(captured)
    page.sql_ms = replay_statements(compiled, order, warmup=PAGE_WARMUP)
    page.manager_sql_ms = replay_statements(compiled, manager_order, warmup=PAGE_WARMUP)
    page.plans, page.problems = explain(compiled[big[0].pk], BIG_TABLES)
    page.manager_plans, manager_problems = explain(compiled[managers[0].pk], BIG_TABLES)
    page.problems += [f"manager: {p}" for p in manager_problems]
    if not page.fixed_queries:
        page.problems.insert(
            0,
            f"queries per request differ: {sorted(set(page.queries))} for AMs with {data.loads['big']:,}"
            f" active contracts, {sorted(set(page.small_queries))} for the AM with {data.loads['small']}",
        )
    log(
        f"renewals: page p50 {page.p50_ms:.1f} ms, p95 {page.p95_ms:.1f} ms, {_span(page.queries)} queries"
        f" (new AM {_span(page.small_queries)}, manager {_span(page.manager_queries)} queries,"
        f" p95 {percentile(page.manager_ms, 95):.1f} ms); bare SQL p95 {page.sql_p95_ms:.2f} ms"
    )
    for problem in page.problems:
        log(f"renewals: WARNING: page: {problem}")
    return [page]


def _span(values: list[int]) -> str:
    return f"{min(values)}" if min(values) == max(values) else f"{min(values)} to {max(values)}"


# --- the whole figure ----------------------------------------------------------------------


def measure(n: int, days: int, requests: int, log=print) -> RenewalsFigures:
    log(
        f"renewals: generating {n:,} active contracts on {n * 3 // 5:,} accounts, 4 AM teams of {AMS_PER_TEAM},"
        " a year of closed terms with their steps, opportunities, items and timelines"
    )
    data = generate(n)
    log(f"renewals: generated in {data.generate_seconds:.1f} s")

    first_day = data.today - timedelta(days=1)
    log(f"renewals: first run over the backlog ({first_day}: every active contract already inside a window)")
    first = run_task("first run", first_day)
    check_done(data, first_day)
    log(
        f"renewals: first run {first.seconds:.1f} s, {first.statements:,} statements: opened {first.opened:,},"
        f" reminded {first.reminded:,}, {first.emails} emails"
    )
    backdate(data, at(first_day))
    count_data(data)
    log(f"renewals: backdated in {data.backdate_seconds:.1f} s: {data.counts}; loads {data.loads}")

    pages = measure_page(data, requests, log=log)

    log(f"renewals: {days} consecutive days from {data.today}")
    day_runs = measure_days(data, days, log=log)
    last = day_runs[-1].day
    idle = measure_idle(last)
    log(
        f"renewals: nothing due ({last} again): median {statistics.median(r.ms for r in idle):.1f} ms,"
        f" {idle[0].statements} statements"
    )

    concurrent_day = last + timedelta(days=1)
    log(f"renewals: {PARALLEL} processes at once on {concurrent_day}")
    concurrent = measure_concurrent(data, concurrent_day)
    log(
        f"renewals: {concurrent.seconds * 1000:,.0f} ms wall; totals {concurrent.totals}, expected"
        f" {concurrent.expected}, steps {concurrent.steps}, items {concurrent.items},"
        f" {concurrent.duplicates} duplicates: exactly once {concurrent.exactly_once}"
    )

    catch_up_day = concurrent_day + timedelta(days=MISSED_DAYS + 1)
    log(f"renewals: catch-up on {catch_up_day} after {MISSED_DAYS} missed days")
    catch_up = run_task(f"after {MISSED_DAYS} missed days", catch_up_day)
    check_done(data, catch_up_day)
    log(
        f"renewals: catch-up {catch_up.ms:,.0f} ms, {catch_up.statements:,} statements: opened {catch_up.opened},"
        f" reminded {catch_up.reminded}, skipped {catch_up.skipped}, auto-renewed {catch_up.auto_renewed}"
    )

    first_baseline = catch_up_day + timedelta(days=1)
    days_ = [first_baseline + timedelta(days=k) for k in range(BASELINE_DAYS)]
    runs = baseline_runs(data, days_ + [days_[-1]] * IDLE_REPEATS)
    baselines, baseline_idle = runs[:BASELINE_DAYS], runs[BASELINE_DAYS:]
    if any(b.opened or b.reminded or b.skipped or b.auto_renewed for b in baseline_idle):
        raise RuntimeError("the baseline did work on a day it had done")
    baseline_last = days_[-1]
    log(
        "renewals: baseline "
        + ", ".join(
            f"{b.ms:.1f} ms ({b.opened}+{b.reminded}+{b.skipped}+{b.auto_renewed})" for b in baselines
        )
        + f"; nothing due {statistics.median(b.ms for b in baseline_idle):.2f} ms"
    )

    plan_day = baseline_last + timedelta(days=1)
    log(f"renewals: EXPLAIN (ANALYZE, BUFFERS) of the run's contract reads on {plan_day} (rolled back)")
    found, problems = plans(plan_day)
    for problem in problems:
        log(f"renewals: WARNING: {problem}")

    (baseline_catch_up,) = baseline_runs(data, [plan_day + timedelta(days=MISSED_DAYS)])
    log(f"renewals: baseline catch-up {baseline_catch_up.ms:.1f} ms")
    with connect() as conn:
        vacuum(conn)
    return RenewalsFigures(
        data=data,
        first_run=first,
        days=day_runs,
        idle=idle,
        concurrent=concurrent,
        catch_up=catch_up,
        baseline_days=baselines,
        baseline_idle=baseline_idle,
        baseline_catch_up=baseline_catch_up,
        plans=found,
        plan_problems=problems,
        pages=pages,
    )


# --- the concurrent run's worker -----------------------------------------------------------


def worker_main(when: str, warm: str) -> None:
    """One of the concurrent processes: warm up as a long-lived Celery worker would be (the
    task run for ``warm``, a day already done: it must find nothing), "ready", wait for "go",
    run the task for ``when``, one JSON line."""
    import django

    django.setup()
    from renewals.services import run_renewals

    now = datetime.fromisoformat(when)
    idle = run_renewals(now=datetime.fromisoformat(warm)).as_dict()
    if any(idle.values()):
        sys.exit(f"the warm-up run on {warm} did work: {idle}")
    print("ready", flush=True)
    sys.stdin.readline()
    start = wall.time()
    t = time_ns()
    with StatementTimer() as traced:
        run = run_renewals(now=now)
    seconds = (time_ns() - t) / 1e9
    print(
        json.dumps(
            {
                "start": start,
                "end": wall.time(),
                "seconds": seconds,
                "counts": run.as_dict(),
                "statements": len(traced.statements),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    if sys.argv[1:2] != ["run"] or len(sys.argv) != 4:
        sys.exit("usage: python -m bench.renewals run ISO-DATETIME WARM-UP-ISO-DATETIME")
    worker_main(sys.argv[2], sys.argv[3])
