"""The insight figure's data set: the queues and opportunities generators' leads and
opportunities, plus campaigns with costs, every lead's events and touches, and contracts with
an AM team, generated in SQL."""

from dataclasses import dataclass, field

from django.utils import timezone

from ..env import connect, create_team, scalar
from ..timing import Timer
from .sql import (
    CAMPAIGNS_SQL,
    CONTRACTS_SQL,
    CUSTOMERS_SQL,
    EVENTS_SQL,
    LEADS_FIX_SQL,
    OPPORTUNITY_TOUCHES_SQL,
    RENEWED_CONTRACTS_SQL,
    TOUCH_DELAY_SQL,
)

CAMPAIGNS = 50
CHANNELS = ("paid_search", "email", "event", "webinar", "social", "partner")

BIG_TABLES = (
    "insight_leadfact",
    "leads_lead",
    "leads_activity",
    "leads_leadevent",
    "accounts_opportunity",
    "renewals_contract",
    "work_workitem",
)

TOUCHES = ("call", "email", "voicemail", "social", "meeting_booked")
AMS = 10
ZONE = "Europe/Berlin"


@dataclass
class DataSet:
    leads: int
    base_leads: int  # the queues generator's leads (ids up to this)
    reps: list[int]
    teams: list[int]
    campaigns: list[int]
    manager: int  # the manager the pages are measured as
    filter_values: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    generate_seconds: float = 0.0


def create_campaigns(n: int = CAMPAIGNS) -> list[int]:
    now = timezone.now()
    with connect() as conn:
        rows = conn.execute(
            CAMPAIGNS_SQL, {"n": n, "channels": list(CHANNELS), "today": now.date(), "now": now}
        ).fetchall()
    return [r[0] for r in rows]


def retire_teams(names: list[str], *, usernames: list[str]) -> int:
    """Rename the teams called ``names`` and their calendars out of the way, deactivate their
    territory rules and the people whose usernames match the ``usernames`` LIKE patterns (so a
    generator can create them again). Returns the teams retired."""
    with connect() as conn:
        teams = [r[0] for r in conn.execute("SELECT id FROM team_team WHERE name = ANY(%s)", [names])]
        if not teams:
            return 0
        conn.execute(
            "UPDATE team_businesscalendar SET name = left(name, 80) || ' (retired ' || id || ')'"
            " WHERE id IN (SELECT calendar_id FROM team_team WHERE id = ANY(%s))",
            [teams],
        )
        conn.execute(
            "UPDATE team_team SET name = left(name, 80) || ' (retired ' || id || ')' WHERE id = ANY(%s)",
            [teams],
        )
        conn.execute(
            "UPDATE team_user SET username = username || '-retired-' || id, is_active = false"
            " WHERE username LIKE ANY(%s) AND username NOT LIKE '%%-retired-%%'",
            [usernames],
        )
        conn.execute("UPDATE sdr_territoryrule SET is_active = false WHERE team_id = ANY(%s)", [teams])
    return len(teams)


def retire_earlier_people() -> int:
    """When the queues or opportunities figure ran earlier in this run, their teams, calendars
    and people still hold the names the generators create: rename them out of the way and
    deactivate them and their territory rules (their leads went with the generators'
    TRUNCATE). Returns the teams retired."""
    from .. import opportunities, queues

    return retire_teams([t[0] for t in (*queues.TEAMS, *opportunities.AE_TEAMS)], usernames=["q-%", "o-%"])


def generate(n: int, log=print) -> DataSet:
    """``n`` leads (a multiple of 100,000): 90% from the queues generator, 10% with an
    opportunity from the opportunities generator, then insight's own additions."""
    from renewals.models import CHURN_REASONS
    from team.models import Role, Team

    from .. import opportunities, queues

    if n % 100_000 or n < 200_000:
        raise ValueError("the insight data set needs a multiple of 100,000 leads, at least 200,000")
    with Timer() as timer:
        if retired := retire_earlier_people():
            log(f"insight: retired {retired} teams of the earlier figures (their names are the generators')")
        campaigns = create_campaigns()
        queue_leads, opportunity_count = n - n // 10, n // 10
        log(f"insight: queues generator, {queue_leads:,} leads, 200 SDRs in 8 teams")
        queues_data = queues.generate(queue_leads, campaigns=campaigns)
        log(f"insight: opportunities generator, {opportunity_count:,} opportunities with their leads")
        opportunities.generate(opportunity_count, campaigns=campaigns, queues_data=queues_data)
        _, ams = create_team(
            0, "Account Management Insight", ZONE, kind=Team.Kind.ACCOUNT_MANAGEMENT, role=Role.AM,
            size=AMS, tag="i", member_tag="am", word="Keeper", manager_email="am.insight@refinery.example",
        )  # fmt: skip
        # The manager the pages are measured as: inbound team 0's, in its calendar's zone.
        manager = Team.objects.get(pk=queues_data.teams[0]).manager
        assert manager is not None  # create_team gives every team its manager
        manager.team_id = queues_data.teams[0]
        manager.save(update_fields=["team"])
        now = timezone.now()
        params = {
            "base": queue_leads,
            "today": now.date(),
            "churn_reasons": list(CHURN_REASONS),
            "ams": [u.pk for u in ams],
        }
        log("insight: sources, touch delays, events, contracts")
        with connect() as conn:
            conn.execute("SET maintenance_work_mem = '512MB'")
            for statement in (
                LEADS_FIX_SQL,
                TOUCH_DELAY_SQL,
                OPPORTUNITY_TOUCHES_SQL,
                EVENTS_SQL,
                CONTRACTS_SQL,
                RENEWED_CONTRACTS_SQL,
                CUSTOMERS_SQL,
            ):
                conn.execute(statement, params)
            for table in (*BIG_TABLES[1:], "accounts_account", "leads_campaign"):
                conn.execute(f"VACUUM ANALYZE {table}")
            conn.execute("CHECKPOINT")
    data = DataSet(
        leads=n,
        base_leads=queue_leads,
        reps=list(queues_data.reps),
        teams=list(queues_data.teams),
        campaigns=campaigns,
        manager=manager.pk,
        generate_seconds=timer.seconds,
    )
    data.counts = count_data()
    data.filter_values = filter_values(data)
    return data


def count_data() -> dict[str, int]:
    with connect() as conn:

        def one(sql: str) -> int:
            return scalar(conn, sql)

        return {
            "leads": one("SELECT count(*) FROM leads_lead"),
            "events": one("SELECT count(*) FROM leads_leadevent"),
            "activities": one("SELECT count(*) FROM leads_activity"),
            "touches": one(
                "SELECT count(*) FROM leads_activity WHERE kind IN ('call', 'email', 'voicemail', 'social',"
                " 'meeting_booked')"
            ),
            "opportunities": one("SELECT count(*) FROM accounts_opportunity"),
            "won": one("SELECT count(*) FROM accounts_opportunity WHERE status = 'won'"),
            "contracts": one("SELECT count(*) FROM renewals_contract"),
            "campaigns": one("SELECT count(*) FROM leads_campaign"),
            "work_items": one("SELECT count(*) FROM work_workitem"),
        }


def filter_values(data: DataSet) -> dict[str, str]:
    """One value per filter, the one that selects the most leads (the slowest case)."""
    with connect() as conn:

        def top(sql: str) -> str:
            return str(scalar(conn, sql))

        return {
            "campaign": top(
                "SELECT campaign_id FROM leads_lead WHERE campaign_id IS NOT NULL"
                " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
            ),
            "channel": top(
                "SELECT c.channel FROM leads_lead l JOIN leads_campaign c ON c.id = l.campaign_id"
                " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
            ),
            "source": top("SELECT source FROM leads_lead GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"),
            "team": str(data.teams[0]),
            "sdr": str(data.reps[0]),
            "origin": "outbound",
            "fit_grade": "A",
        }
