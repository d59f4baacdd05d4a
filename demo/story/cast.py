"""The cast and the configuration, before anything happens to them: business calendars in two
time zones, the teams, the people (one password for all), the campaigns with their costs and
runs, the web form, the ideal-customer profile, the SLA policies and routing rules, and the
cadences. Each is made once: a second seed finds them."""

from datetime import time, timedelta
from decimal import Decimal

from leads.models import (
    ActivityKind,
    Campaign,
    Channel,
    FitCriterion,
    FitField,
    IdealCustomerProfile,
    ScoringSettings,
    WebForm,
)
from sdr.models import Cadence, CadenceStep, TerritoryRule
from sdr.services import first_touch_policies
from team.models import BusinessCalendar, Holiday, Role, Team, User, WorkingHours

DEMO_PASSWORD = "refinery-demo"
WEB_FORM = "Website demo request"
CADENCES = [
    (
        "Outbound: 5 touches in 2 weeks",
        "For a new prospect on a target account: alternate calls and emails, end with a break-up email.",
        [
            (
                0,
                "email",
                "Intro email: reference their recent hiring in sales and one relevant customer story.",
            ),
            (
                2,
                "call",
                "Call: ask how they route inbound leads today; leave a short voicemail if no answer.",
            ),
            (4, "social", "Connect on LinkedIn with a one-line note; no pitch."),
            (7, "call", "Call again; offer a 20-minute look at speed-to-lead numbers."),
            (10, "email", "Break-up email: 'shall I close your file?'"),
        ],
    ),
    (
        "Inbound: no answer yet",
        "For an MQL who has not picked up: three more tries over a week.",
        [
            (1, "call", "Call at a different time of day than the first try."),
            (3, "email", "Short email with the content they downloaded and one question."),
            (6, "voicemail", "Last call with a voicemail; then nurture if still silent."),
        ],
    ),
]
PEOPLE = [
    # username, first, last, role, team, staff
    ("maria", "Maria", "Keller", Role.MANAGER, "Inbound EMEA", True),
    ("sam", "Sam", "Okafor", Role.INBOUND_SDR, "Inbound EMEA", False),
    ("lena", "Lena", "Vogt", Role.INBOUND_SDR, "Inbound EMEA", False),
    ("diego", "Diego", "Ramos", Role.INBOUND_SDR, "Inbound Americas", False),
    ("priya", "Priya", "Nair", Role.INBOUND_SDR, "Inbound Americas", False),
    ("tom", "Tom", "Becker", Role.OUTBOUND_SDR, "Outbound", False),
    ("alex", "Alex", "Morgan", Role.AE, "Account Executives", False),
    ("jordan", "Jordan", "Lee", Role.AE, "Account Executives", False),
    ("casey", "Casey", "Brooks", Role.AM, "Account Management", False),
    ("riley", "Riley", "Chen", Role.AM, "Account Management", False),
    ("mo", "Mo", "Haddad", Role.MARKETING, "Marketing", True),
]
TEAMS = [
    ("Inbound EMEA", Team.Kind.INBOUND, "Berlin office"),
    ("Inbound Americas", Team.Kind.INBOUND, "New York office"),
    ("Outbound", Team.Kind.OUTBOUND, "Berlin office"),
    ("Account Executives", Team.Kind.SALES, "New York office"),
    ("Account Management", Team.Kind.ACCOUNT_MANAGEMENT, "New York office"),
    ("Marketing", Team.Kind.MARKETING, "Berlin office"),
]
CALENDARS = {
    "Berlin office": (
        "Europe/Berlin",
        [
            ("2026-12-24", "Christmas Eve"),
            ("2026-12-25", "Christmas Day"),
            ("2026-12-26", "Boxing Day"),
            ("2027-01-01", "New Year"),
        ],
    ),
    "New York office": (
        "America/New_York",
        [("2026-11-26", "Thanksgiving"), ("2026-12-25", "Christmas Day"), ("2027-01-01", "New Year")],
    ),
}
# Each campaign's run, in days from the seed's today (negative: before it): its cost is spread
# over the run (insight.money), so a run must end for the spend to land where it was spent.
# Most still run past today; the SaaStr booth (the show, its outreach before and follow-up
# after) is over; the website's demo form is always on, for the budget year, and costs nothing.
CAMPAIGNS = [
    # name, channel, cost, first day, last day
    ("Website demo requests", Channel.WEB, "0", -120, 245),
    ("Google Ads: pipeline analytics", Channel.PAID_SEARCH, "18500", -110, 70),
    ("Q4 webinar: forecasting", Channel.WEBINAR, "6200", -75, 5),
    ("SaaStr booth", Channel.EVENT, "42000", -64, -22),
    ("Newsletter", Channel.EMAIL, "1200", -80, 100),
    ("LinkedIn sponsored content", Channel.SOCIAL, "9800", -70, 20),
]


def _calendars():
    calendars = {}
    for name, (tz, holidays) in CALENDARS.items():
        cal, created = BusinessCalendar.objects.get_or_create(name=name, defaults={"timezone": tz})
        if created:
            WorkingHours.objects.bulk_create(
                WorkingHours(calendar=cal, weekday=d, opens=time(9), closes=time(17, 30)) for d in range(5)
            )
        for day, label in holidays:
            Holiday.objects.get_or_create(calendar=cal, date=day, defaults={"name": label})
        calendars[name] = cal
    return calendars


def _teams(calendars):
    return {
        name: Team.objects.get_or_create(name=name, defaults={"kind": kind, "calendar": calendars[cal]})[0]
        for name, kind, cal in TEAMS
    }


def _people(teams):
    users = []
    for username, first, last, role, team, staff in PEOPLE:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "role": role,
                "team": teams[team],
                "email": f"{username}@refinery.example",
                "is_staff": staff,
                "is_superuser": staff,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        users.append(user)
    manager = next(u for u in users if u.role == Role.MANAGER)
    Team.objects.filter(manager__isnull=True).update(manager=manager)
    return users


def _campaigns(*, today):
    campaigns = []
    for name, channel, cost, first, last in CAMPAIGNS:
        campaign, _ = Campaign.objects.get_or_create(
            name=name,
            defaults={
                "channel": channel,
                "cost": Decimal(cost),
                "starts_on": today + timedelta(days=first),
                "ends_on": today + timedelta(days=last),
            },
        )
        campaigns.append(campaign)
    WebForm.objects.get_or_create(
        name=WEB_FORM,
        defaults={"campaign": campaigns[0], "activity_kind": ActivityKind.FORM_FILL},
    )
    return campaigns


def _scoring():
    ScoringSettings.load()
    profile, created = IdealCustomerProfile.objects.get_or_create(name="Mid-market tech and finance")
    if created:
        FitCriterion.objects.bulk_create(
            [
                FitCriterion(
                    profile=profile,
                    field=FitField.INDUSTRY,
                    values="Technology, Financial Services, Telecommunications",
                    points=30,
                ),
                FitCriterion(profile=profile, field=FitField.EMPLOYEES, minimum=100, maximum=5000, points=25),
                FitCriterion(
                    profile=profile, field=FitField.SENIORITY, values="c_level, vp, director", points=20
                ),
                FitCriterion(profile=profile, field=FitField.ANNUAL_REVENUE, minimum=10_000_000, points=15),
                FitCriterion(profile=profile, field=FitField.COUNTRY, values="US, DE, GB, CA", points=10),
            ]
        )


def _routing(teams):
    from accounts.services import acceptance_policy
    from renewals.services import renewal_policies

    first_touch_policies()
    acceptance_policy()
    renewal_policies()
    rules = [
        ("EMEA", "Inbound EMEA", ["DE", "AT", "CH", "GB", "FR", "NL", "SE", "ES", "IT", "IE"], 10),
        ("Americas", "Inbound Americas", ["US", "CA", "BR", "MX"], 20),
        ("Everything else", "Inbound EMEA", [], 1000),
    ]
    for name, team, countries, position in rules:
        TerritoryRule.objects.get_or_create(
            name=name, defaults={"team": teams[team], "countries": countries, "position": position}
        )
    # Handoffs go to the AEs, new customers (won deals, imported contracts) to the account
    # managers, each by round-robin.
    TerritoryRule.objects.get_or_create(
        name="All handoffs", defaults={"team": teams["Account Executives"], "position": 10}
    )
    TerritoryRule.objects.get_or_create(
        name="All customers", defaults={"team": teams["Account Management"], "position": 10}
    )


def _cadences():
    for name, description, steps in CADENCES:
        cadence, created = Cadence.objects.get_or_create(name=name, defaults={"description": description})
        if created:
            CadenceStep.objects.bulk_create(
                CadenceStep(cadence=cadence, position=i, day_offset=day, channel=channel, instructions=text)
                for i, (day, channel, text) in enumerate(steps, start=1)
            )


def set_up(*, today) -> tuple[list[User], list[Campaign]]:
    """Everything above, in the order each needs the one before; returns the people and the
    campaigns the storylines use."""
    calendars = _calendars()
    teams = _teams(calendars)
    users = _people(teams)
    campaigns = _campaigns(today=today)
    _scoring()
    _routing(teams)
    _cadences()
    return users, campaigns
