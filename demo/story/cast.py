"""The cast and the configuration, before anything happens to them: business calendars in two
time zones, the teams, the people (one password for all), the campaigns with their costs and
runs, the web form, the ideal-customer profile, the SLA policies and routing rules, the
cadences (email steps among them) and marketing's nurture track, and the shared email templates.
Each is made once: a second seed finds them."""

from datetime import time, timedelta
from decimal import Decimal
from typing import Any

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
# Email steps: automatic ones are sent by Refinery when due; manual ones are drafts the SDR
# opens in the composer from the queue.
FIRST_EMAIL = {
    "automatic": True,
    "subject": "{{ lead.company | Your team }} and your demo request",
    "body": "Hi {{ lead.first_name | there }},\n\nThanks for downloading our speed-to-lead study. Teams "
    "like {{ lead.company | yours }} usually ask us how to answer every demo request within five "
    "minutes; here is how one did it: https://refinery.example/stories/northwind\n\n"
    "I will give you a call in a couple of days.\n\n{{ sender.name }}",
}
FOLLOW_UP = {
    "subject": "After our call",
    "body": "Hi {{ lead.first_name | there }},\n\n(One line on what you heard in the call.)\n\n{{ sender.name }}",
}
BREAK_UP = {
    "subject": "Shall I close your file?",
    "body": "Hi {{ lead.first_name | there }},\n\nI have not heard back, so I will stop writing. If speed to "
    "lead becomes a topic at {{ lead.company | your company }}, just reply.\n\n{{ sender.name }}",
}
CADENCES: list[tuple[str, str, list[tuple[Any, ...]]]] = [
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
            (10, "email", "Break-up email: 'shall I close your file?'", BREAK_UP),
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
    (
        "Inbound: email first",
        "For an MQL from a download: Refinery sends the first email itself the day they arrive, the SDR "
        "calls two days later, then writes a personal follow-up.",
        [
            (0, "email", "Sent automatically.", FIRST_EMAIL),
            (
                2,
                "call",
                "Call: did the study answer their question? Offer a 20-minute look at their numbers.",
            ),
            (4, "email", "Personal follow-up: one line on what you heard in the call.", FOLLOW_UP),
        ],
    ),
]
# Marketing's nurture track: leads in nurture hear from Mo every other week or so; their opens,
# clicks and replies raise their engagement until they are sales-ready (which ends the track).
NURTURE_TRACK: tuple[str, str, list[tuple[Any, ...]]] = (
    "Nurture: speed-to-lead insights",
    "For leads in nurture: three emails over six weeks from marketing, each with one thing to read.",
    [
        (
            0,
            "email",
            "",
            {
                "automatic": True,
                "subject": "How fast do you answer a demo request, {{ lead.first_name | there }}?",
                "body": "Hello {{ lead.first_name | there }},\n\nWe measured how fast 400 B2B teams answer a demo "
                "request. The median was 42 hours; the teams under 5 minutes closed twice as often:\n"
                "https://refinery.example/study/speed-to-lead\n\n{{ sender.name }}",
            },
        ),
        (
            10,
            "email",
            "",
            {
                "automatic": True,
                "subject": "The three-question lead score",
                "body": "Hello {{ lead.first_name | there }},\n\nA score your SDRs can explain in one sentence "
                "beats a model nobody trusts. Here is the one we use:\n"
                "https://refinery.example/guides/lead-score\n\n{{ sender.name }}",
            },
        ),
        (
            20,
            "email",
            "",
            {
                "automatic": True,
                "subject": "Webinar: the first five minutes of a lead",
                "body": "Hello {{ lead.first_name | there }},\n\nOn our next webinar two SDR managers show how "
                "they answer every hand-raiser within five minutes:\n"
                "https://refinery.example/webinars/first-five-minutes\n\n{{ sender.name }}",
            },
        ),
    ],
)
# Shared email templates reps start from in the composer.
TEMPLATES = [
    (
        "Intro after a download",
        "{{ lead.company | your team }} and speed to lead",
        "Hi {{ lead.first_name | there }},\n\nThanks for reading our study. How does "
        "{{ lead.company | your team }} route inbound leads today?\n\nWould 20 minutes this week help?\n\n"
        "{{ sender.name }}",
    ),
    (
        "Follow-up after a call",
        "Our call",
        "Hi {{ lead.first_name | there }},\n\nThanks for your time today. As promised, the numbers we "
        "talked about: https://refinery.example/study/speed-to-lead\n\n{{ sender.name }}",
    ),
    (
        "Break-up",
        "Shall I close your file?",
        "Hi {{ lead.first_name | there }},\n\nI have not heard back, so I will stop writing. If speed to "
        "lead becomes a topic at {{ lead.company | your company }}, just reply.\n\n{{ sender.name }}",
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


def _cadences(marketing: User) -> None:
    tracks: list[tuple[str, str, list[tuple[Any, ...]], str, User | None]] = [
        *((name, description, steps, Cadence.Kind.SALES, None) for name, description, steps in CADENCES),
        (*NURTURE_TRACK, Cadence.Kind.NURTURE, marketing),
    ]
    for name, description, steps, kind, sender in tracks:
        cadence, created = Cadence.objects.get_or_create(
            name=name, defaults={"description": description, "kind": kind, "sender": sender}
        )
        if created:
            CadenceStep.objects.bulk_create(
                CadenceStep(
                    cadence=cadence,
                    position=i,
                    day_offset=step[0],
                    channel=step[1],
                    instructions=step[2],
                    **(step[3] if len(step) > 3 else {}),
                )
                for i, step in enumerate(steps, start=1)
            )


def _templates(marketing: User):
    from mail.models import Template

    for name, subject, body in TEMPLATES:
        Template.objects.get_or_create(
            name=name, owner=None, defaults={"subject": subject, "body": body, "created_by": marketing}
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
    marketing = next(u for u in users if u.role == Role.MARKETING)
    _cadences(marketing)
    _templates(marketing)
    return users, campaigns
