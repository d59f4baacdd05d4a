"""The daily task's baseline: three set-based statements per day (the start window, the
reminder window, the auto-renewals) in one transaction, no emails, calendars or Python."""

import gc
from dataclasses import dataclass
from datetime import date

from ..env import connect, one_row, scalar
from ..timing import Timer
from .data import DataSet, check_done, window_params

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
            conn.execute(f"EXPLAIN {sql}", window_params(data, days[0]) | fixed)
        for day in days:
            params = window_params(data, day) | fixed
            gc.collect()
            with Timer() as timer, conn.transaction():
                opened = scalar(conn, BASELINE_START_SQL, params)
                claimed, reminded = one_row(conn, BASELINE_REMINDER_SQL, params)
                renewed = scalar(conn, BASELINE_AUTO_RENEW_SQL, params)
            runs.append(BaselineRun(day, timer.seconds, opened, reminded, claimed - reminded, renewed))
            check_done(data, day)
    return runs
