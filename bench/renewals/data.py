"""The renewals figure's data set: the AM teams, the contracts and their history generated in
SQL, completed by the task's first run and moved back in time; what is due on a day and
whether a day's run left nothing undone."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import psycopg
from django.utils import timezone

from ..env import connect, create_team, one_row, scalar
from ..timing import Timer
from .sql import (
    ACCOUNTS_SQL,
    ACTIVE_CONTRACTS_SQL,
    BACKDATE_SQL,
    CHURNED_ACCOUNTS_SQL,
    CONTACTS_SQL,
    HISTORY_BREACHES_SQL,
    HISTORY_CONTRACTS_SQL,
    HISTORY_EVENTS_SQL,
    HISTORY_ITEMS_SQL,
    HISTORY_OPPORTUNITIES_SQL,
    HISTORY_OPPORTUNITY_EVENTS_SQL,
    HISTORY_SQL,
    HISTORY_STEPS_SQL,
    LEADS_SQL,
    OPENED_SQL,
    PLAN_SQL,
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
    return scalar(conn, f"SELECT COALESCE(max(id), 0) FROM {table}")


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
            return scalar(conn, sql, params)

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


def window_params(data: DataSet, day: date) -> dict:
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
        left = one_row(conn, LEFT_OVER_SQL, window_params(data, day))
    if any(left):
        raise RuntimeError(
            f"after the run on {day}: {left[0]} renewals not opened, {left[1]} reminders not handled,"
            f" {left[2]} auto-renewing contracts not renewed"
        )


def due_on(data: DataSet, day: date) -> dict[str, int]:
    """What a run on ``day`` has to do (counted before it runs)."""
    with connect() as conn:
        row = one_row(conn, LEFT_OVER_SQL, window_params(data, day))
    return {"start": row[0], "reminder": row[1], "auto_renew": row[2]}
