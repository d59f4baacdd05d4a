"""The opportunities figure's data set: 4 AE teams, accounts, contacts and opportunities in
every stage with their timelines and acceptance items, generated in SQL on the queues data set."""

from dataclasses import dataclass, field

import psycopg
from django.utils import timezone

from ..env import connect, create_team, scalar
from ..timing import Timer
from .sql import (
    ACCOUNTS_SQL,
    BREACHES_SQL,
    CONTACTS_SQL,
    EVENTS_SQL,
    ITEMS_SQL,
    LEADS_SQL,
    OPPORTUNITIES_SQL,
    PLAN_SQL,
)

QUEUE_LEADS = 100_000  # the queues data set under the opportunities, when made for this figure
AES_PER_TEAM = 10
ACCOUNTS = 30_000
SMALL_AE_OPPORTUNITIES = 40  # the new hire: 2 awaiting acceptance, 20 open

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
# (name, zone, territory rules: (position, countries, min size))
AE_TEAMS: list[tuple[str, str, list[tuple[int, list[str], int | None]]]] = [
    (
        "Sales EMEA",
        "Europe/London",
        [(110, ["DE", "AT", "CH", "GB", "IE", "FR", "ES", "IT", "NL", "SE"], None)],
    ),
    ("Sales NA Enterprise", "America/New_York", [(120, ["US", "CA"], 1000)]),
    ("Sales NA Commercial", "America/Chicago", [(130, ["US", "CA"], None)]),
    ("Sales APAC & LatAm", "Asia/Singapore", [(1100, [], None)]),
]


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

    from .. import queues

    reused = queues_data is not None
    with Timer() as queues_timer:
        if queues_data is None:
            queues_data = queues.generate(queue_leads, campaigns=campaigns)
    with connect() as conn:
        base = scalar(conn, "SELECT COALESCE(max(id), 0) FROM leads_lead")
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
            return scalar(conn, sql, params)

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
