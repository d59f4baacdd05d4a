"""The queues figure's data set: 8 inbound teams of 25 SDRs with calendars and territory
rules, a million leads with their open timers, follow-ups, history and activity, generated in
SQL. The opportunities and insight figures build on it."""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from ..env import connect, create_team, scalar
from ..timing import Timer
from .sql import (
    ACTIVITIES_SQL,
    DONE_ITEMS_SQL,
    EVENTS_SQL,
    FOLLOW_UPS_SQL,
    HISTORY_BREACHES_SQL,
    LEADS_SQL,
    OPEN_ITEMS_SQL,
)

REPS_PER_TEAM = 25
OPEN_TIMERS = 10_000  # open first-touch items, 50 per rep
DUE = 100  # open timers past due at the sweep instant: 1%, one each for 100 of the reps
FOLLOW_UPS_PER_REP = 10  # open follow-ups (untimed) on working leads
REP_CAPACITY = 400  # each rep holds 200 open leads; routing adds at most 100 more

# (team, calendar zone, territory rules: (position, countries, industries, min, max))
# (name, zone, territory rules: (position, countries, industries, min size, max size))
TEAMS: list[tuple[str, str, list[tuple[int, list[str], list[str], int | None, int | None]]]] = [
    ("Inbound DACH", "Europe/Berlin", [(10, ["DE", "AT", "CH"], [], None, None)]),
    ("Inbound UK & Ireland", "Europe/London", [(20, ["GB", "IE"], [], None, None)]),
    (
        "Inbound US Enterprise",
        "America/New_York",
        [
            (30, ["US"], [], 1000, None),
            (31, ["US"], ["Financial Services", "Healthcare"], None, None),
        ],
    ),
    ("Inbound US Commercial", "America/Chicago", [(40, ["US"], [], None, None)]),
    ("Inbound Americas", "America/Sao_Paulo", [(50, ["CA", "BR", "MX"], [], None, None)]),
    ("Inbound Southern Europe", "Europe/Madrid", [(60, ["FR", "ES", "IT", "PT"], [], None, None)]),
    ("Inbound APAC", "Asia/Singapore", [(70, ["JP", "AU", "SG", "IN"], [], None, None)]),
    ("Inbound Rest of World", "UTC", [(1000, [], [], None, None)]),  # the catch-all
]

COUNTRIES = [
    "US",
    "US",
    "US",
    "DE",
    "GB",
    "FR",
    "CA",
    "JP",
    "AT",
    "CH",
    "ES",
    "IE",
    "AU",
    "NL",
    "BR",
    "IN",
    "SG",
    "IT",
    "SE",
    "",
]

INDUSTRIES = ["Technology", "Financial Services", "Healthcare", "Retail", "Manufacturing", "Media", ""]


@dataclass
class DataSet:
    leads: int
    reps: list[int]
    teams: list[int]
    sweep_at: datetime
    lead_ct: int
    policies: dict[str, int]
    campaigns: list[int]
    counts: dict[str, int] = field(default_factory=dict)
    generate_seconds: float = 0.0


def create_people() -> tuple[list[int], list[int], list[int]]:
    """8 business calendars (Mon-Fri 9-17 in 8 zones, with holidays), 8 inbound teams with a
    manager each, 25 SDRs per team, and the territory rules. Returns (reps, rep teams, teams)."""
    from sdr.models import TerritoryRule
    from team.models import Role, Team

    teams, reps = [], []
    for t, (name, zone, rules) in enumerate(TEAMS):
        team, members = create_team(
            t, name, zone, kind=Team.Kind.INBOUND, role=Role.INBOUND_SDR, size=REPS_PER_TEAM, tag="q",
            member_tag="sdr", word="Rep", manager_email=f"manager{t}@refinery.example", manager_joins=False,
            capacity=REP_CAPACITY,
        )  # fmt: skip
        for position, countries, industries, low, high in rules:
            TerritoryRule.objects.create(
                name=f"{name} {position}",
                position=position,
                team=team,
                countries=countries,
                industries=industries,
                min_employees=low,
                max_employees=high,
            )
        teams.append(team.pk)
        reps += [u.pk for u in members]
    # Rep k of the generated leads is reps[k]; interleave the teams so that consecutive
    # leads go to different teams, as routing spreads them.
    reps_by_team = [reps[t * REPS_PER_TEAM : (t + 1) * REPS_PER_TEAM] for t in range(len(TEAMS))]
    ordered = [reps_by_team[t][n] for n in range(REPS_PER_TEAM) for t in range(len(TEAMS))]
    rep_teams = [teams[t] for n in range(REPS_PER_TEAM) for t in range(len(TEAMS))]
    return ordered, rep_teams, teams


def generate(n: int, *, campaigns: list[int]) -> DataSet:
    """Generate the data set with ``n`` leads (``n`` a multiple of 10,000 of at least 100,000:
    one lead in ``n / 10,000`` is an MQL with an open timer, see ``_open_timer_sql``)."""
    from django.contrib.contenttypes.models import ContentType

    from leads.models import NO_ENGAGEMENT, Lead, ScoringSettings
    from leads.scoring import threshold_key
    from sdr.services import first_touch_policies
    from work.models import SlaPolicy

    from ..csv_import import LEAD_TABLES

    stride = n // OPEN_TIMERS
    if stride < 10 or n % OPEN_TIMERS:
        raise ValueError("the queues data set needs a multiple of 10,000 leads, at least 100,000")
    now = timezone.now().replace(microsecond=0)
    reps, rep_teams, teams = create_people()
    policies = {key: p.pk for key, p in first_touch_policies().items()}
    data = DataSet(
        leads=n,
        reps=reps,
        teams=teams,
        sweep_at=now,
        lead_ct=ContentType.objects.get_for_model(Lead).pk,
        policies=policies,
        campaigns=campaigns,
    )
    params = {
        "n": n,
        "stride": stride,
        "closed_until": 3 + stride * 16 // 100,
        "reps_n": len(reps),
        "open_per_rep": OPEN_TIMERS // len(reps),
        "due": DUE,
        "follow_ups_per_rep": FOLLOW_UPS_PER_REP,
        "now": now,
        "reps": reps,
        "rep_teams": rep_teams,
        "campaigns": campaigns,
        "countries": COUNTRIES,
        "industries": INDUSTRIES,
        "no_engagement": NO_ENGAGEMENT,
        "half_lives": threshold_key(1.0, now, ScoringSettings.load().half_life_days),
        "ct": data.lead_ct,
        "mql_policy": policies[SlaPolicy.FIRST_TOUCH_MQL],
        "hand_raiser_policy": policies[SlaPolicy.FIRST_TOUCH_HAND_RAISER],
    }
    with connect() as conn, Timer() as timer:
        conn.execute(f"TRUNCATE {LEAD_TABLES}, work_breach, work_workitem RESTART IDENTITY CASCADE")
        conn.execute("SET maintenance_work_mem = '512MB'")
        # History first, open items last: open items are the newest rows (highest ids), as in
        # production, which matters to plans that walk the primary key.
        for statement in (
            LEADS_SQL,
            DONE_ITEMS_SQL,
            HISTORY_BREACHES_SQL,
            FOLLOW_UPS_SQL,
            OPEN_ITEMS_SQL,
            ACTIVITIES_SQL,
            EVENTS_SQL,
        ):
            conn.execute(statement, params)
        conn.execute("SELECT setval(pg_get_serial_sequence('leads_lead', 'id'), %s)", [n])
        for table in (
            "leads_lead",
            "work_workitem",
            "work_breach",
            "leads_activity",
            "leads_leadevent",
            "team_user",
        ):
            conn.execute(f"VACUUM ANALYZE {table}")
        # Write the generated pages out now, not while the figures are measured.
        conn.execute("CHECKPOINT")
    data.generate_seconds = timer.seconds
    data.counts = count_data(data)
    expected = {
        "open_timers": OPEN_TIMERS,
        "due_at_sweep": DUE,
        "open_follow_ups": FOLLOW_UPS_PER_REP * len(reps),
    }
    if {k: data.counts[k] for k in expected} != expected:
        raise RuntimeError(f"generated {data.counts}, expected {expected}")
    return data


def count_data(data: DataSet) -> dict[str, int]:
    with connect() as conn:

        def one(sql: str, *params) -> int:
            return scalar(conn, sql, params)

        return {
            "leads": one("SELECT count(*) FROM leads_lead"),
            "open_timers": one(
                "SELECT count(*) FROM work_workitem"
                " WHERE state = 'open' AND breached_at IS NULL AND policy_id IS NOT NULL"
            ),
            "due_at_sweep": one(
                "SELECT count(*) FROM work_workitem WHERE state = 'open' AND breached_at IS NULL"
                " AND policy_id IS NOT NULL AND due_at <= %s",
                data.sweep_at,
            ),
            "open_follow_ups": one(
                "SELECT count(*) FROM work_workitem WHERE state = 'open' AND kind = 'follow_up'"
            ),
            "work_items": one("SELECT count(*) FROM work_workitem"),
            "breaches": one("SELECT count(*) FROM work_breach"),
            "activities": one("SELECT count(*) FROM leads_activity"),
            "events": one("SELECT count(*) FROM leads_leadevent"),
            "in_sales_owned": one(
                "SELECT count(*) FROM leads_lead WHERE owner_id IS NOT NULL AND status IN ('mql', 'working')"
            ),
        }
