"""A seeded history with known truth, for proving the insight numbers.

``History.generate(seed)`` builds a small company (two inbound SDR teams in Berlin and New
York, an outbound SDR, AEs, AMs, marketing, a manager), campaigns with costs and run dates,
and then replays every lead's life through the REAL services in time order under a moving
clock (``demo.history.Replay``): capture, MQL (a hand-raise at capture, or activities crossing
the threshold later), routing (the ``sales_ready`` hook calls ``sdr.services.route_leads``),
touches, dispositions, hand-off, the AE's accept or reject, won or lost; and customers'
contracts renewed, expanded, downsized or churned.

Each step writes down, in plain Python records of the generator's own, the moment and amount
IT chose, right after the service accepted the step. Those records are the truth: the tests
compute every expected number from them and never read them back from the database.

The history runs from August to November 2026, across the end of summer time in Europe
(25 October) and in America (1 November), and a few leads are captured within an hour of
local midnight at the month edges, so a period cut in UTC instead of the viewer's zone is
caught.

So that no number the tests check is trivially equal, the history also holds: an active
ideal-customer profile and leads whose details spread them over the fit grades A to D (by
index, ``FIT_DETAILS``); a few planned leads whose first-touch SLA breaches in the week before
"today" and in today's week, in different numbers (``SLA_MISSES``); and contracts ending
around "today", inside and beyond the next 30 and 60 days, some silent, some with a renewal
conversation logged and one renewed early (``UPCOMING``).
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.test.utils import override_settings

from demo.history import Replay, at

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SETUP_AT = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
START = datetime(2026, 8, 3, 6, 0, tzinfo=UTC)  # the first capture, at the earliest
NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)  # Monday 10:30 in Berlin: "today" in every test
OPENS, CLOSES = time(9), time(17)  # every calendar's working hours, Monday to Friday
HOLIDAYS = {"Berlin office": [date(2026, 10, 26)], "New York office": [date(2026, 11, 26)]}

# Leads captured at fixed moments near local midnight at the period edges (UTC): 1 October
# starts at 22:00 UTC the day before (summer time); 1 November at 23:00 UTC (winter time).
EDGE_CAPTURES = [
    datetime(2026, 9, 30, 21, 30, tzinfo=UTC),  # 30 Sep 23:30 Berlin: September
    datetime(2026, 9, 30, 22, 30, tzinfo=UTC),  # 1 Oct 00:30 Berlin: October
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 25 Oct 02:30 CEST, half an hour before the change
    datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 25 Oct 02:30 CET, the repeated hour
    datetime(2026, 10, 31, 22, 15, tzinfo=UTC),  # 31 Oct 23:15 Berlin: October (UTC+1 now)
    datetime(2026, 10, 31, 22, 45, tzinfo=UTC),  # 31 Oct 23:45 Berlin: October
    datetime(2026, 10, 31, 23, 20, tzinfo=UTC),  # 1 Nov 00:20 Berlin: November
    datetime(2026, 11, 1, 3, 30, tzinfo=UTC),  # 31 Oct 23:30 New York (UTC-4): October there
    datetime(2026, 11, 1, 4, 30, tzinfo=UTC),  # 1 Nov 00:30 New York (UTC-4 until 06:00 UTC)
    datetime(2026, 11, 22, 23, 30, tzinfo=UTC),  # Mon 23 Nov 00:30 Berlin: the summary's week
    datetime(2026, 11, 29, 22, 40, tzinfo=UTC),  # Sun 29 Nov 23:40 Berlin: still that week
]

# (key, name, channel, cost, starts_on, ends_on)
CAMPAIGNS = [
    ("web", "Website demo requests", "web", "0", date(2026, 8, 1), date(2026, 11, 30)),
    ("ads", "Google Ads: pipeline analytics", "paid_search", "12200", date(2026, 8, 1), date(2026, 11, 30)),
    ("webinar", "Q4 webinar: forecasting", "webinar", "3100", date(2026, 9, 15), date(2026, 10, 15)),
    ("event", "SaaStr booth", "event", "9300", date(2026, 10, 20), date(2026, 10, 22)),
    ("email", "Newsletter", "email", "1830", date(2026, 8, 1), date(2026, 10, 31)),
]
CAMPAIGN_WEIGHTS = [3, 4, 2, 2, 2]
# (username, role, team key)
PEOPLE = [
    ("maria", "manager", "emea"),
    ("sam", "inbound_sdr", "emea"),
    ("diego", "inbound_sdr", "americas"),
    ("tom", "outbound_sdr", "outbound"),
    ("alex", "ae", "aes"),
    ("jordan", "ae", "aes"),
    ("casey", "am", "ams"),
    ("riley", "am", "ams"),
    ("mo", "marketing", "marketing"),
]
# team key -> (name, kind, calendar name, zone)
TEAMS = {
    "emea": ("Inbound EMEA", "inbound", "Berlin office", BERLIN),
    "americas": ("Inbound Americas", "inbound", "New York office", NEW_YORK),
    "outbound": ("Outbound", "outbound", "Berlin office", BERLIN),
    "aes": ("Account Executives", "sales", "New York office", NEW_YORK),
    "ams": ("Account Management", "am", "New York office", NEW_YORK),
    "marketing": ("Marketing", "marketing", "Berlin office", BERLIN),
}
# The SDR each territory routes to (one SDR per team, so routing's choice is known).
TERRITORY = {"DE": ("emea", "sam"), "US": ("americas", "diego")}
# How long an SDR took to touch a new MQL (minutes): one value in each speed-to-lead bucket.
RESPONSE_MINUTES = [2, 4, 12, 25, 45, 150, 600, 1500, 3000]
AMOUNTS = [12_000, 18_000, 24_000, 36_000, 48_000, 60_000, 90_000]
REJECT_REASONS = ["Not qualified: no budget", "Timing: not buying this year", "Not qualified: no real need"]
LOST_REASONS = ["Price", "Chose a competitor", "No decision / went dark"]
NURTURE_REASONS = ["Not ready yet (timing)", "No budget yet", "Early research"]
DISQUALIFY_REASONS = ["Not a fit (size, industry, region)", "Competitor", "Spam or fake details"]
CHURN_REASONS_USED = ["Price / budget", "Chose a competitor", "Champion left"]
# The active ideal-customer profile: (field, accepted values, minimum, maximum, points), 100
# points in all. Every lead's country (DE or US, for routing) matches, so a lead scores 10 at least.
PROFILE = [
    ("industry", "Technology, Financial Services", None, None, 40),
    ("employees", "", 100, 5000, 30),
    ("seniority", "c_level, vp, director", None, None, 20),
    ("country", "US, DE", None, None, 10),
]
# What a lead says about itself, by its index in turn: (industry, employees, title,
# seniority), two for each fit grade (A from 75 points, B from 50, C from 25).
FIT_DETAILS = [
    ("Technology", 500, "VP Sales", "vp"),  # 100: A
    ("Financial Services", 800, "Sales Manager", "manager"),  # 80: A
    ("Technology", 40, "Director of Sales", "director"),  # 70: B
    ("Financial Services", None, "Sales Manager", "manager"),  # 50: B
    ("Retail", 1200, "Sales Manager", "manager"),  # 40: C
    ("Retail", 20, "CEO", "c_level"),  # 30: C
    ("Retail", 20, "Sales Manager", "manager"),  # 10: D
    ("Manufacturing", None, "", ""),  # 10: D
]
# Leads planned to breach their first-touch SLA in the Berlin team around "today" (Monday
# 30 November), so the speed diagnosis's breaches week on week are neither zero nor equal:
# (captured, hand-raiser, MQL (a non-hand-raiser's activities), first touch or None).
# Hand-raisers are due 15 business minutes after capture, MQLs 4 business hours after the MQL
# (Berlin office: 9:00 to 17:00 local, UTC+1 in November).
SLA_MISSES = [
    # Saturday's hand-raiser, due Monday 23 Nov 09:15 Berlin: a breach last week; touched at 11:40 Berlin.
    (datetime(2026, 11, 21, 14, 0, tzinfo=UTC), True, None, datetime(2026, 11, 23, 10, 40, tzinfo=UTC)),
    # Wednesday 11:00 Berlin, due 11:15, touched at 12:30 Berlin: a breach last week.
    (datetime(2026, 11, 25, 10, 0, tzinfo=UTC), True, None, datetime(2026, 11, 25, 11, 30, tzinfo=UTC)),
    # Captured at 07:00 Berlin on Thursday, an MQL at 09:00, due 13:00, never touched: a breach
    # last week.
    (
        datetime(2026, 11, 26, 6, 0, tzinfo=UTC),
        False,
        datetime(2026, 11, 26, 8, 0, tzinfo=UTC),
        None,
    ),
    # Sunday evening's hand-raiser, due Monday 30 Nov 09:15 Berlin (08:15 UTC, before "today"'s
    # 09:30 UTC), not touched yet: a breach this week.
    (datetime(2026, 11, 29, 20, 0, tzinfo=UTC), True, None, None),
]
# Contracts ending around "today" (30 November 2026): (days from today to the term's last day,
# AM, what the AM did before today: "" nothing, "talked" logged a renewal conversation,
# "renewed" recorded the renewal early). The renewals diagnosis counts the silent active ones
# ending within 30 days; the AM's summary the open ones by 30 and 60 days, at risk the silent.
UPCOMING = [
    (0, "riley", ""),  # ends today: still inside
    (6, "casey", ""),
    (11, "riley", "talked"),
    (19, "casey", "talked"),
    (24, "riley", "renewed"),  # in the AM's summary week
    (30, "riley", ""),  # the last day inside 30 days
    (31, "riley", ""),  # the first day beyond
    (44, "casey", ""),
    (58, "riley", "talked"),
    (75, "riley", ""),  # beyond 60 days
]
UPCOMING_VALUES = [12_000, 24_000, 36_000, 60_000]
QUIET_EMAIL = "django.core.mail.backends.dummy.EmailBackend"


@dataclass
class CampaignRecord:
    key: str
    name: str
    channel: str
    cost: Decimal
    starts_on: date
    ends_on: date
    pk: int = 0

    @property
    def run_days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1


@dataclass
class LeadRecord:
    """One lead's life as the generator chose it (UTC moments; None: it did not happen)."""

    index: int
    email: str
    campaign: str | None  # a CampaignRecord key
    channel: str  # the campaign's channel ("" without a campaign)
    source: str  # the lead's source as captured
    team: str  # team key
    sdr: str  # username of the SDR who owns (and works) it
    origin: str  # inbound / outbound
    hand_raiser: bool = False
    pk: int = 0
    fit_grade: str = ""  # the grade the capture service gave (the fit-grade slice's key)
    captured_at: datetime | None = None
    mql_at: datetime | None = None
    routed_at: datetime | None = None
    touches: list[datetime] = field(default_factory=list)
    handed_off_at: datetime | None = None
    ae: str = ""
    amount: Decimal | None = None
    accepted_at: datetime | None = None
    rejected_at: datetime | None = None
    reject_reason: str = ""
    won_at: datetime | None = None
    lost_at: datetime | None = None
    lost_reason: str = ""
    closed_out_at: datetime | None = None
    close_out: str = ""  # "nurture" or "disqualified"
    close_out_reason: str = ""

    @property
    def first_touch_at(self) -> datetime | None:
        return self.touches[0] if self.touches else None

    @property
    def last_touch_at(self) -> datetime | None:
        return self.touches[-1] if self.touches else None

    @property
    def status(self) -> str:
        """The lead's status now, by the lifecycle's rules (for the dropped-on-the-floor truth)."""
        if self.won_at:
            return "won"
        if self.lost_at:
            return "lost"
        if self.closed_out_at:
            return self.close_out
        if self.handed_off_at and not self.rejected_at:
            return "handed_off"
        if self.touches or self.origin == "outbound":
            return "working"
        return "mql" if self.mql_at else "nurture"

    @property
    def early_loss(self) -> bool:
        return bool(self.lost_at and self.lost_at - self.accepted_at <= timedelta(days=14))


@dataclass
class ContractRecord:
    """A customer's term and what its AM recorded at its renewal."""

    index: int
    account: str
    am: str
    start_date: date
    end_date: date
    value: Decimal
    pk: int = 0
    outcome: str = ""  # renewed / expanded / downsized / churned; "" still open
    outcome_at: datetime | None = None
    conversation_at: datetime | None = None  # the AM's renewal conversation, None: none logged
    new_value: Decimal | None = None
    churn_reason: str = ""


@dataclass
class History:
    seed: int
    now: datetime
    campaigns: dict[str, CampaignRecord]
    leads: list[LeadRecord]
    contracts: list[ContractRecord]
    users: dict  # username -> User
    teams: dict  # team key -> Team
    zones: dict[str, ZoneInfo]  # team key -> its calendar's zone
    holidays: dict[str, list[date]]  # team key -> holidays of its calendar

    @classmethod
    def generate(cls, seed: int, leads: int = 150, *, outbound: int = 10, customers: int = 12) -> "History":
        """Write the history into the database (through the services) and return its truth."""
        rng = random.Random(seed)
        with override_settings(EMAIL_BACKEND=QUIET_EMAIL):
            with at(SETUP_AT):
                users, teams, campaigns = _setup()
            history = cls(
                seed=seed,
                now=NOW,
                campaigns=campaigns,
                leads=[],
                contracts=[],
                users=users,
                teams=teams,
                zones={key: zone for key, (_, _, _, zone) in TEAMS.items()},
                holidays={key: HOLIDAYS[cal] for key, (_, _, cal, _) in TEAMS.items()},
            )
            replay = Replay(now=NOW)
            for i in range(leads):
                record = _plan_inbound(i, rng, campaigns)
                history.leads.append(record)
                replay.add(_inbound_story(record, random.Random(rng.random()), history))
            for j in range(outbound):
                record = _plan_outbound(leads + j, rng)
                history.leads.append(record)
                replay.add(_outbound_story(record, random.Random(rng.random()), history))
            # The planned additions draw nothing from ``rng``: the random history stays the same.
            for n, plan in enumerate(SLA_MISSES):
                record = _plan_sla_miss(leads + outbound + n, plan)
                history.leads.append(record)
                replay.add(_sla_miss_story(record, plan, history))
            with at(SETUP_AT):
                for k in range(customers):
                    history.contracts.append(_contract(k, rng, users))
                upcoming = [
                    _upcoming_contract(customers + n, days, am, users)
                    for n, (days, am, _) in enumerate(UPCOMING)
                ]
            for record in history.contracts:
                replay.add(_renewal_story(record, random.Random(rng.random()), history))
            for record, (_, _, done) in zip(upcoming, UPCOMING, strict=True):
                history.contracts.append(record)
                replay.add(_upcoming_story(record, done, history))
            replay.run()
        return history

    # --- views on the records the truth functions use --------------------------------------

    def user(self, username: str):
        return self.users[username]

    def lead_ids(self, records) -> set[int]:
        return {r.pk for r in records}

    def happened(self) -> list[LeadRecord]:
        """The leads that were captured (a lead planned after ``now`` never was)."""
        return [r for r in self.leads if r.captured_at is not None]


def _setup():
    """The cast and the configuration, before anything happens."""
    from leads.models import Campaign
    from sdr.models import TerritoryRule
    from team.models import BusinessCalendar, Holiday, Role, Team, User, WorkingHours

    calendars = {}
    for name, zone in (("Berlin office", BERLIN), ("New York office", NEW_YORK)):
        calendar, _ = BusinessCalendar.objects.get_or_create(name=name, defaults={"timezone": zone.key})
        calendar.timezone = zone.key
        calendar.save()
        calendar.hours.all().delete()
        WorkingHours.objects.bulk_create(
            WorkingHours(calendar=calendar, weekday=d, opens=OPENS, closes=CLOSES) for d in range(5)
        )
        for day in HOLIDAYS[name]:
            Holiday.objects.get_or_create(calendar=calendar, date=day, defaults={"name": "Holiday"})
        calendars[name] = calendar
    teams = {}
    for key, (name, kind, calendar, _) in TEAMS.items():
        teams[key], _ = Team.objects.update_or_create(
            name=name, defaults={"kind": kind, "calendar": calendars[calendar]}
        )
    users = {}
    for username, role, team in PEOPLE:
        user = User.objects.create(
            username=username,
            role=getattr(Role, role.upper()),
            team=teams[team],
            email=f"{username}@refinery.example",
            first_name=username.title(),
            capacity=10_000,
        )
        user.set_password("pw")
        user.save()
        users[username] = user
    # Maria manages every team: she sees every lead's and every contract's numbers.
    Team.objects.filter(pk__in=[team.pk for team in teams.values()]).update(manager=users["maria"])
    for country, (team, _) in TERRITORY.items():
        TerritoryRule.objects.create(
            name=f"Country {country}", team=teams[team], countries=[country], position=10
        )
    _profile()
    TerritoryRule.objects.create(name="All handoffs", team=teams["aes"], position=1000)
    TerritoryRule.objects.create(name="All customers", team=teams["ams"], position=1000)
    campaigns = {}
    for key, name, channel, cost, starts, ends in CAMPAIGNS:
        record = CampaignRecord(key, name, channel, Decimal(cost), starts, ends)
        record.pk = Campaign.objects.create(
            name=name, channel=channel, cost=record.cost, starts_on=starts, ends_on=ends
        ).pk
        campaigns[key] = record
    return users, teams, campaigns


def _profile() -> None:
    """The active ideal-customer profile, saved as the admin saves it: the capture service's
    cached scoring context is told it changed."""
    from leads.models import FitCriterion, IdealCustomerProfile
    from leads.services import scoring_changed

    profile = IdealCustomerProfile.objects.create(name="Truth test ICP", is_active=True)
    FitCriterion.objects.bulk_create(
        FitCriterion(profile=profile, field=name, values=values, minimum=low, maximum=high, points=points)
        for name, values, low, high, points in PROFILE
    )
    scoring_changed()


def _uniform_moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    seconds = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(seconds))


def _plan_inbound(i: int, rng: random.Random, campaigns: dict[str, CampaignRecord]) -> LeadRecord:
    """Who the lead is and where it comes from (the moments are written as they happen)."""
    if i < len(EDGE_CAPTURES):
        captured = EDGE_CAPTURES[i]
    else:
        captured = _uniform_moment(rng, START, NOW - timedelta(hours=2))
    live = [c for c in campaigns.values() if c.starts_on <= captured.date() <= c.ends_on]
    campaign = rng.choices(live, weights=[CAMPAIGN_WEIGHTS[list(campaigns).index(c.key)] for c in live])[0]
    # The New York edge leads belong to New York, the rest mostly to Berlin.
    country = "US" if i in (7, 8) else ("DE" if i < len(EDGE_CAPTURES) else rng.choice(["DE", "DE", "US"]))
    team, sdr = TERRITORY[country]
    record = LeadRecord(
        index=i,
        email=f"lead{i}@company{i}.example",
        campaign=campaign.key,
        channel=campaign.channel,
        source=campaign.channel,
        team=team,
        sdr=sdr,
        origin="inbound",
    )
    record._country = country
    record._captured = captured
    return record


def _plan_outbound(i: int, rng: random.Random) -> LeadRecord:
    record = LeadRecord(
        index=i,
        email=f"prospect{i}@target{i}.example",
        campaign=None,
        channel="",
        source="outbound",
        team="outbound",
        sdr="tom",
        origin="outbound",
    )
    record._captured = _uniform_moment(rng, START, NOW - timedelta(days=3))
    return record


def _details(record: LeadRecord, country: str) -> dict:
    industry, employees, title, seniority = FIT_DETAILS[record.index % len(FIT_DETAILS)]
    return {
        "first_name": f"First{record.index}",
        "last_name": f"Last{record.index}",
        "company": f"Company {record.index}",
        "title": title,
        "seniority": seniority,
        "country": country,
        "industry": industry,
        "employees": employees,
    }


def _inbound_story(record: LeadRecord, rng: random.Random, history: History):
    """One inbound lead's life; each ``yield`` is the moment of its next step."""
    from leads import services
    from leads.models import ActivityKind, ActivitySource, Campaign

    campaign = Campaign.objects.get(pk=history.campaigns[record.campaign].pk)
    hand_raiser = rng.random() < 0.35
    becomes_mql = hand_raiser or rng.random() < 0.75
    captured = record._captured
    yield captured
    lead = services.capture_lead(
        email=record.email,
        via=ActivitySource.WEB_FORM if rng.random() < 0.7 else ActivitySource.API,
        campaign=campaign,
        hand_raiser=hand_raiser,
        activity_kind=ActivityKind.MEETING_REQUEST if hand_raiser else ActivityKind.VISIT,
        details=_details(record, record._country),
    ).lead
    record.pk, record.captured_at, record.fit_grade = lead.pk, captured, lead.fit_grade
    if hand_raiser:
        record.hand_raiser = True
        record.mql_at = record.routed_at = captured
    if not becomes_mql:
        return
    if not hand_raiser:
        # Three activities at one moment cross the MQL threshold (2 + 20 + 15 + 10 >= 40 points).
        mql = captured + timedelta(minutes=rng.randint(30, 8 * 24 * 60))
        yield mql
        for kind in (ActivityKind.FORM_FILL, ActivityKind.DEMO_VIEW, ActivityKind.DOWNLOAD):
            services.log_activity(lead_id=lead.pk, kind=kind, via=ActivitySource.API, campaign=campaign)
        record.mql_at = record.routed_at = mql
    yield from _sdr_work(record, rng, history, touched=rng.random() < 0.85)


def _outbound_story(record: LeadRecord, rng: random.Random, history: History):
    """An outbound prospect: captured into Tom's hands (working, no MQL, not routed)."""
    from leads import services
    from leads.models import ActivityKind, ActivitySource

    yield record._captured
    lead = services.capture_lead(
        email=record.email,
        via=ActivitySource.MANUAL,
        source="outbound",
        activity_kind=ActivityKind.IMPORTED,
        prospector=history.user("tom"),
        details=_details(record, "DE"),
    ).lead
    record.pk, record.captured_at, record.fit_grade = lead.pk, record._captured, lead.fit_grade
    yield from _sdr_work(record, rng, history, touched=True)


def _plan_sla_miss(i: int, plan: tuple) -> LeadRecord:
    """A Berlin lead from the website whose first touch comes late or never (``SLA_MISSES``)."""
    team, sdr = TERRITORY["DE"]
    record = LeadRecord(
        index=i,
        email=f"lead{i}@company{i}.example",
        campaign="web",
        channel="web",
        source="web",
        team=team,
        sdr=sdr,
        origin="inbound",
    )
    record._country = "DE"
    record._captured = plan[0]
    return record


def _sla_miss_story(record: LeadRecord, plan: tuple, history: History):
    """Captured (a hand-raiser is an MQL and routed at once, another lead becomes one by three
    activities at its planned MQL moment), then one touch at the planned moment, or none."""
    from leads import services
    from leads.models import ActivityKind, ActivitySource, Campaign
    from sdr.services import log_touch

    captured, hand_raiser, mql, touch = plan
    campaign = Campaign.objects.get(pk=history.campaigns[record.campaign].pk)
    yield captured
    lead = services.capture_lead(
        email=record.email,
        via=ActivitySource.WEB_FORM,
        campaign=campaign,
        hand_raiser=hand_raiser,
        activity_kind=ActivityKind.MEETING_REQUEST if hand_raiser else ActivityKind.VISIT,
        details=_details(record, record._country),
    ).lead
    record.pk, record.captured_at, record.fit_grade = lead.pk, captured, lead.fit_grade
    if hand_raiser:
        record.hand_raiser = True
        record.mql_at = record.routed_at = captured
    else:
        yield mql
        for kind in (ActivityKind.FORM_FILL, ActivityKind.DEMO_VIEW, ActivityKind.DOWNLOAD):
            services.log_activity(lead_id=lead.pk, kind=kind, via=ActivitySource.API, campaign=campaign)
        record.mql_at = record.routed_at = mql
    if touch is not None:
        yield touch
        log_touch(lead_id=record.pk, by=history.user(record.sdr), kind="call")
        record.touches.append(touch)


def _sdr_work(record: LeadRecord, rng: random.Random, history: History, *, touched: bool):
    """From the queue: the first touch after a chosen delay, a follow-up touch or two, then a
    disposition, a handoff, or nothing (the lead waits: dropped on the floor if long)."""
    from sdr.services import dispose_lead, log_touch

    sdr = history.user(record.sdr)
    if not touched:
        return
    clock_start = record.routed_at or record.captured_at
    moment = clock_start + timedelta(minutes=rng.choice(RESPONSE_MINUTES), seconds=rng.randint(0, 59))
    for n in range(1 + rng.choice([0, 0, 1, 2])):
        if n:
            moment += timedelta(hours=rng.randint(20, 60))
        yield moment
        log_touch(lead_id=record.pk, by=sdr, kind=rng.choice(["call", "email"]))
        record.touches.append(moment)
    roll = rng.random()
    if roll < 0.5:
        yield from _handoff(record, rng, history, moment + timedelta(hours=rng.randint(2, 72)))
    elif roll < 0.7:
        to = rng.choice(["nurture", "disqualified"])
        reason = rng.choice(NURTURE_REASONS if to == "nurture" else DISQUALIFY_REASONS)
        when = moment + timedelta(hours=rng.randint(1, 96))
        yield when
        dispose_lead(lead_id=record.pk, by=sdr, to=to, reason=reason)
        record.closed_out_at, record.close_out, record.close_out_reason = when, to, reason


def _handoff(record: LeadRecord, rng: random.Random, history: History, when: datetime):
    from accounts.models import Stage
    from accounts.services import accept_handoff, hand_off, move_stage, reject_handoff
    from sdr.services import dispose_lead
    from tests.factories import qualifying

    sdr = history.user(record.sdr)
    ae_name = rng.choice(["alex", "jordan"])
    ae = history.user(ae_name)
    amount = Decimal(rng.choice(AMOUNTS))
    yield when
    opportunity = hand_off(lead_id=record.pk, by=sdr, qualifying=qualifying(), ae=ae, amount=amount)
    record.handed_off_at, record.ae, record.amount = when, ae_name, amount
    when += timedelta(minutes=rng.randint(20, 3 * 24 * 60))
    yield when
    if rng.random() < 0.25:
        reason = rng.choice(REJECT_REASONS)
        reject_handoff(opportunity_id=opportunity.pk, by=ae, reason=reason, note="Talk to me first.")
        record.rejected_at, record.reject_reason = when, reason
        if rng.random() < 0.5:
            when += timedelta(hours=rng.randint(2, 72))
            yield when
            dispose_lead(lead_id=record.pk, by=sdr, to="nurture", reason="Not ready yet (timing)")
            record.closed_out_at, record.close_out = when, "nurture"
            record.close_out_reason = "Not ready yet (timing)"
        return
    accept_handoff(opportunity_id=opportunity.pk, by=ae)
    record.accepted_at = when
    roll = rng.random()
    if roll > 0.7:
        return  # still open
    when += timedelta(days=rng.uniform(2, 40))
    yield when
    stages = {s.kind: s for s in Stage.objects.filter(is_active=True).exclude(kind="open")}
    if roll < 0.35:
        move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stages["won"].pk)
        record.won_at = when
    else:
        reason = rng.choice(LOST_REASONS)
        move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stages["lost"].pk, lost_reason=reason)
        record.lost_at, record.lost_reason = when, reason


def _contract(k: int, rng: random.Random, users) -> ContractRecord:
    """A customer whose current term ends during the history (written at setup)."""
    from tests.factories import contract, customer

    am = "casey" if k % 2 == 0 else "riley"
    end = date(2026, 8, 10) + timedelta(days=9 * k + rng.randint(0, 6))
    value = Decimal(rng.choice([12_000, 24_000, 36_000, 60_000]))
    account = customer(users[am], name=f"Customer {k}", domain=f"customer{k}.example")
    made = contract(account, end=end, start=end - timedelta(days=364), value=str(value))
    return ContractRecord(
        index=k,
        account=account.name,
        am=am,
        start_date=made.start_date,
        end_date=end,
        value=value,
        pk=made.pk,
    )


def _renewal_story(record: ContractRecord, rng: random.Random, history: History):
    """The AM records the renewal's outcome some days before the term ends (or never)."""
    from renewals.services import record_outcome

    if record.index % 6 == 5:
        return  # nobody recorded it yet
    outcome = ["renewed", "expanded", "downsized", "churned"][record.index % 4]
    when = datetime.combine(record.end_date - timedelta(days=rng.randint(0, 20)), time(14), tzinfo=UTC)
    yield when
    new_value = {
        "renewed": record.value,
        "expanded": record.value + Decimal(rng.choice([6_000, 12_000])),
        "downsized": record.value - Decimal(rng.choice([3_000, 6_000])),
        "churned": None,
    }[outcome]
    reason = rng.choice(CHURN_REASONS_USED) if outcome == "churned" else ""
    record_outcome(
        contract_id=record.pk,
        by=history.user(record.am),
        outcome=outcome,
        annual_value=new_value,
        churn_reason=reason,
    )
    record.outcome, record.outcome_at, record.new_value, record.churn_reason = (
        outcome,
        when,
        new_value,
        reason,
    )


def _upcoming_contract(k: int, days: int, am: str, users) -> ContractRecord:
    """A customer whose term ends ``days`` after "today" (written at setup, like ``_contract``)."""
    from tests.factories import contract, customer

    end = NOW.date() + timedelta(days=days)
    value = Decimal(UPCOMING_VALUES[k % len(UPCOMING_VALUES)])
    account = customer(users[am], name=f"Customer {k}", domain=f"customer{k}.example")
    made = contract(account, end=end, start=end - timedelta(days=364), value=str(value))
    return ContractRecord(
        index=k,
        account=account.name,
        am=am,
        start_date=made.start_date,
        end_date=end,
        value=value,
        pk=made.pk,
    )


def _upcoming_story(record: ContractRecord, done: str, history: History):
    """What the AM did about an upcoming renewal in the week before "today" (``UPCOMING``)."""
    from renewals.services import log_conversation, record_outcome

    am = history.user(record.am)
    if done == "talked":
        when = datetime.combine(NOW.date() - timedelta(days=4 + record.index % 3), time(15), tzinfo=UTC)
        yield when
        log_conversation(contract_id=record.pk, by=am, note="Talked about next year's seats.")
        record.conversation_at = when
    elif done == "renewed":
        when = datetime.combine(NOW.date() - timedelta(days=5), time(16), tzinfo=UTC)
        yield when
        record_outcome(contract_id=record.pk, by=am, outcome="renewed", annual_value=record.value)
        record.outcome, record.outcome_at, record.new_value = "renewed", when, record.value
