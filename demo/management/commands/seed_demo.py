"""Demo data: people, teams with business hours in two time zones, campaigns with costs, an
ideal-customer profile, leads with realistic activity, a pipeline, outbound prospects and a
customer base with renewals coming due. Idempotent.

The data has a past: the seed replays it in time order under a moving clock (``demo.history``),
so every event, work item, touch and breach carries the time it would have had, and nothing
happens before what caused it."""

import os
import random
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from demo.history import (
    Replay,
    at,
    at_work,
    last_at_work,
    until_at_work,
    work_delay,
    work_minutes,
    working_day,
)
from leads import services
from leads.cleaning import seniority_from_title
from leads.models import (
    ActivityKind,
    ActivitySource,
    Campaign,
    Channel,
    FitCriterion,
    FitField,
    IdealCustomerProfile,
    Lead,
    ScoringSettings,
    WebForm,
)
from leads.services import IN_SALES
from sdr.models import Cadence, CadenceStep, TerritoryRule
from sdr.services import first_touch_policies, log_touch, route_waiting_leads
from team.models import BusinessCalendar, Holiday, Role, Team, User, WorkingHours
from work.models import WorkItem
from work.services import subject_filter, sweep_breaches


def _at(day):
    """Ten in the morning UTC on ``day``: when an import with nobody at the keyboard ran (a
    person's steps are timed in their working hours, see ``demo.history``)."""
    return datetime.combine(day, time(10), tzinfo=UTC)


DEMO_PASSWORD = "refinery-demo"
TARGETS = [
    ("Initech", "initech.example", "Technology", "US", 1200, [
        ("Bill", "Lumbergh", "VP Sales"), ("Peter", "Gibbons", "Sales Ops Manager"), ("Joanna", "Park", "CRO"),
    ]),
    ("Vandelay Industries", "vandelay.example", "Manufacturing", "DE", 800, [
        ("Art", "Vandelay", "Head of Sales"), ("Kel", "Varnsen", "Director Marketing Ops"),
    ]),
    ("Wayne Fintech", "waynefintech.example", "Financial Services", "GB", 2500, [
        ("Lucius", "Fox", "COO"), ("Selina", "Kyle", "VP Revenue Operations"), ("Harvey", "Dent", "Sales Director"),
    ]),
]  # fmt: skip
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
BUDGET_NOTES = [
    "Budget approved for a new sales tool this fiscal year.",
    "No budget line yet; would come from the marketing ops budget.",
    "Around 40k a year discussed, needs CFO sign-off.",
]
NEED_NOTES = [
    "Inbound leads wait a day for a first call; they lose demo requests to faster competitors.",
    "Five SDRs work from spreadsheets; no SLA, no idea which leads were never called.",
    "Marketing and sales argue about lead quality; they want scoring both sides trust.",
]
TIMING_NOTES = [
    "Wants it live before the Q1 campaign.",
    "Evaluating two tools this quarter.",
    "Contract with the current tool ends in March.",
]
NEXT_STEPS = [
    "Demo with the sales ops team",
    "Send proposal",
    "Security review call",
    "Pricing call with CFO",
]
REJECTIONS = [
    ("Not qualified: not the decision maker", "Talked to an intern; get the head of sales on a call first."),
    ("Timing: not buying this year", "They just signed with a competitor for two years."),
]
# Customers with a contract history: name, domain, industry, country, employees, annual value,
# days until the current term ends, seats.
CUSTOMERS = [
    ("Orchid Travel", "orchid-travel.example", "Travel", "ES", 150, "18000", 6, 25),
    ("Brightpath Logistics", "brightpath.example", "Logistics", "US", 900, "48000", 14, 120),
    ("Cobalt Insurance", "cobalt-insurance.example", "Financial Services", "DE", 2200, "96000", 27, 300),
    ("Evergreen Health", "evergreen-health.example", "Healthcare", "GB", 1300, "60000", 41, 180),
    ("Juniper Software", "juniper-software.example", "Technology", "US", 350, "24000", 52, 60),
    ("Helios Energy", "helios-energy.example", "Energy", "DE", 4100, "120000", 58, 400),
    ("Kestrel Media", "kestrel-media.example", "Media", "FR", 220, "15000", 73, 40),
    ("Lumen Retail", "lumen-retail.example", "Retail", "CA", 2600, "72000", 86, 240),
    ("Meridian Bank", "meridian-bank.example", "Financial Services", "US", 9000, "180000", 140, 600),
    ("Nimbus Telecom", "nimbus-telecom.example", "Telecommunications", "SE", 5200, "84000", 230, 280),
]
# Customers whose one-year term ended in the last four months, in pairs: the two customers of
# a pair are imported together, so the AMs' round-robin gives one to each AM, and both AMs
# have one of each outcome to read in retention. Name, domain, industry, country, employees,
# annual value, days since the term ended; then the outcome and the new value or the reason.
ENDED_PAIRS = [
    (
        ("Quartz Analytics", "quartz-analytics.example", "Technology", "US", 280, "26000", 35),
        ("Riverside Clinics", "riverside-clinics.example", "Healthcare", "GB", 640, "12000", 40),
        "renewed",
        (None, None),
        "Renewed as is after the QBR.",
    ),
    (
        ("Saffron Foods", "saffron-foods.example", "Consumer Goods", "FR", 1100, "22000", 48),
        ("Tidewater Shipping", "tidewater-shipping.example", "Logistics", "US", 1500, "16000", 55),
        "churned",
        ("Chose a competitor", "Price / budget"),
        "They will not renew: told us on the call.",
    ),
    (
        ("Umber Architects", "umber-architects.example", "Construction", "DE", 420, "54000", 70),
        ("Vantage Robotics", "vantage-robotics.example", "Manufacturing", "US", 760, "36000", 78),
        "downsized",
        ("40000", "30000"),
        "Renewed with fewer seats: they cut their SDR team.",
    ),
    (
        ("Willow Education", "willow-education.example", "Education", "CA", 900, "30000", 100),
        ("Yarrow Pharma", "yarrow-pharma.example", "Pharmaceuticals", "CH", 2400, "20000", 112),
        "expanded",
        ("42000", "26000"),
        "Added the outbound team's seats.",
    ),
]
CUSTOMER_CONTACTS = [
    [("Hannah", "Weber", "VP Sales"), ("Jonas", "Fischer", "Sales Ops Manager")],
    [("Olivia", "Martin", "CRO"), ("Ethan", "Clark", "Head of SDRs")],
    [("Sofia", "Rossi", "Director of Revenue Operations")],
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
FIRST = [
    "Anna",
    "Ben",
    "Chloé",
    "David",
    "Elif",
    "Farah",
    "Gustav",
    "Hana",
    "Ivan",
    "Julia",
    "Kenji",
    "Laura",
    "Mateo",
    "Nora",
    "Olivier",
    "Paula",
    "Quentin",
    "Rosa",
    "Stefan",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Yusuf",
]
LAST = [
    "Schmidt",
    "García",
    "Müller",
    "Rossi",
    "Tanaka",
    "Dubois",
    "Novak",
    "Johnson",
    "Silva",
    "Kowalski",
    "Nguyen",
    "O'Brien",
    "Larsen",
    "Cohen",
    "Sato",
    "Fischer",
    "Moreau",
    "Patel",
    "Andersson",
    "Lopez",
]
COMPANIES = [
    ("Northwind", "Technology", 480, "120000000", "DE"),
    ("Globex", "Manufacturing", 12000, "2500000000", "US"),
    ("Initech", "Technology", 120, "15000000", "US"),
    ("Umbrella Health", "Healthcare", 1500, "300000000", "GB"),
    ("Hooli", "Technology", 45, "2000000", "US"),
    ("Stark Retail", "Retail", 5, "250000", "FR"),
    ("Tyrell Finance", "Financial Services", 800, "90000000", "DE"),
    ("Wayne Media", "Media", 60, "8000000", "ES"),
    ("Soylent Foods", "Retail", 3000, "400000000", "CA"),
    ("Cyberdyne", "Technology", 950, "210000000", "JP"),
    ("Acme Telecom", "Telecommunications", 7000, "1200000000", "US"),
    ("Duff Education", "Education", 200, "12000000", "GB"),
]
TITLES = [
    "CEO",
    "CTO",
    "VP of Sales",
    "VP Marketing",
    "Director of IT",
    "Head of Revenue Operations",
    "Sales Manager",
    "Marketing Manager",
    "Software Engineer",
    "Analyst",
    "Procurement Specialist",
    "Founder",
]
ACTIVITY_MIX = (
    [ActivityKind.VISIT] * 6
    + [ActivityKind.EMAIL_OPEN] * 4
    + [ActivityKind.EMAIL_CLICK] * 3
    + [
        ActivityKind.DOWNLOAD,
        ActivityKind.DOWNLOAD,
        ActivityKind.WEBINAR,
        ActivityKind.DEMO_VIEW,
        ActivityKind.FORM_FILL,
    ]
)

# Each deal comes from a company of its own: a won deal makes its company a customer, and a
# later lead from a customer is its AM's expansion lead, not an SDR's MQL.
DEAL_NAMES = ["Blue", "Granite", "Harbor", "Northgate", "Pinecrest", "Silverline", "Summit", "Tidewater"]
DEAL_KINDS = [
    ("Analytics", "Technology"),
    ("Systems", "Technology"),
    ("Networks", "Telecommunications"),
    ("Capital", "Financial Services"),
    ("Health", "Healthcare"),
]


def _deal_company(i: int, rng: random.Random) -> tuple[str, str, int, str, str]:
    kind, industry = DEAL_KINDS[i // len(DEAL_NAMES) % len(DEAL_KINDS)]
    employees = rng.choice([120, 250, 480, 900, 1800, 3500])
    country = rng.choice(["US", "DE", "GB", "CA", "FR"])
    return f"{DEAL_NAMES[i % len(DEAL_NAMES)]} {kind}", industry, employees, str(employees * 150_000), country


# The people and campaigns exist before anything happens to them: before the customers' first
# contracts, two years ago.
SETUP_AGO = timedelta(days=2 * 366 + 30)
# The demo's past mails nobody (breach escalations, renewal reminders): the seed would print
# them all with the console backend, and they are history.
QUIET_EMAIL = "django.core.mail.backends.dummy.EmailBackend"
# Where ``bin/run-embedded`` serves the demo (it honours the same PORT variable).
SITE = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"


def _email(first: str, last: str, tag, company: str) -> str:
    return f"{first}.{last}.{tag}@{company.lower().replace(' ', '')}.example".lower()


def _details(first, last, company, industry, employees, revenue, country, title, **more) -> dict:
    return {
        "first_name": first,
        "last_name": last,
        "company": company,
        "title": title,
        "seniority": seniority_from_title(title),
        "industry": industry,
        "employees": employees,
        "annual_revenue": Decimal(revenue),
        "country": country,
        **more,
    }


def _open_first_touch(lead_id: int) -> WorkItem | None:
    return (
        WorkItem.objects.open()
        .filter(subject_filter(Lead, [lead_id]), kind=WorkItem.Kind.FIRST_TOUCH, owner__isnull=False)
        .first()
    )


def _touch(lead_id: int, kind: str, outcome: str = "") -> bool:
    """The lead's owner logs a touch, if the lead is still in a queue with an owner."""
    lead = Lead.objects.select_related("owner").get(pk=lead_id)
    if lead.status not in IN_SALES or lead.owner is None:
        return False
    log_touch(lead_id=lead.pk, by=lead.owner, kind=kind, outcome=outcome)
    return True


def _owner(lead_id: int) -> User | None:
    return Lead.objects.select_related("owner__team__calendar").get(pk=lead_id).owner


def _owner_at_work(lead_id: int):
    """Inside a storyline (``yield from``): wait until whoever owns the lead now is at work (a
    timer's reassignment may have given it to someone whose day has ended)."""
    while (owner := _owner(lead_id)) is not None and (
        opening := at_work(owner, timezone.now())
    ) > timezone.now():
        yield opening


class Command(BaseCommand):
    help = "Seed demo people, teams, calendars, campaigns, a scoring profile and leads (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=300)

    def handle(self, *args, leads: int, **options):
        now = timezone.now()
        with override_settings(EMAIL_BACKEND=QUIET_EMAIL):
            with at(now - SETUP_AGO), transaction.atomic():
                calendars = self._calendars()
                teams = self._teams(calendars)
                users = self._people(teams)
                campaigns = self._campaigns(today=now.date())
                self._scoring()
                self._routing(teams)
                self._cadences()
            replay = Replay(now=now)
            created = self._leads(replay, leads, campaigns, now)
            self._targets(replay, now)
            self._handoffs(replay, now)
            self._customers(replay, now)
            replay.run()
            # What beat does in its first minute, so that nothing long overdue waits for it
            # (an item days past due shows as breached, not as "at risk").
            services.sweep_engagement_thresholds()
            route_waiting_leads()
            if self._customers_seeded:
                from renewals.services import run_renewals

                run_renewals()
            sweep_breaches()
        # The insight pages read the lead facts: compute them all now, not at the nightly rebuild
        # (said at -v 2: the seed's own summary, where to log in, comes first and stays short).
        call_command(
            "insight_refresh", "--full", verbosity=max(0, options["verbosity"] - 1), stdout=self.stdout
        )
        if options["verbosity"] >= 1:
            self._summary(created, users)

    def _summary(self, created: int, users: list[User]) -> None:
        form = WebForm.objects.filter(name="Website demo request").first()
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready: {created} new leads, {Lead.objects.count()} in all.")
        )
        self.stdout.write(f"\nOpen {SITE}/login/ and sign in as (password {DEMO_PASSWORD}):")
        by_role: dict[str, list[str]] = {}
        for user in users:
            by_role.setdefault(user.get_role_display(), []).append(user.username)
        width = max(len(", ".join(names)) for names in by_role.values())
        for role, names in by_role.items():
            admin = " (admin)" if any(u.is_superuser for u in users if u.username in names) else ""
            self.stdout.write(f"  {', '.join(names):<{width}}  {role}{admin}")
        if form:
            self.stdout.write(f"\nPublic demo web form: {SITE}/f/{form.key}/")

    # --- the cast and the configuration (before anything happens) -----------------------------

    def _calendars(self):
        calendars = {}
        for name, (tz, holidays) in CALENDARS.items():
            cal, created = BusinessCalendar.objects.get_or_create(name=name, defaults={"timezone": tz})
            if created:
                WorkingHours.objects.bulk_create(
                    WorkingHours(calendar=cal, weekday=d, opens=time(9), closes=time(17, 30))
                    for d in range(5)
                )
            for day, label in holidays:
                Holiday.objects.get_or_create(calendar=cal, date=day, defaults={"name": label})
            calendars[name] = cal
        return calendars

    def _teams(self, calendars):
        return {
            name: Team.objects.get_or_create(name=name, defaults={"kind": kind, "calendar": calendars[cal]})[
                0
            ]
            for name, kind, cal in TEAMS
        }

    def _people(self, teams):
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

    def _campaigns(self, *, today):
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
            name="Website demo request",
            defaults={"campaign": campaigns[0], "activity_kind": ActivityKind.FORM_FILL},
        )
        return campaigns

    def _scoring(self):
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
                    FitCriterion(
                        profile=profile, field=FitField.EMPLOYEES, minimum=100, maximum=5000, points=25
                    ),
                    FitCriterion(
                        profile=profile, field=FitField.SENIORITY, values="c_level, vp, director", points=20
                    ),
                    FitCriterion(
                        profile=profile, field=FitField.ANNUAL_REVENUE, minimum=10_000_000, points=15
                    ),
                    FitCriterion(profile=profile, field=FitField.COUNTRY, values="US, DE, GB, CA", points=10),
                ]
            )

    def _routing(self, teams):
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

    def _cadences(self):
        for name, description, steps in CADENCES:
            cadence, created = Cadence.objects.get_or_create(name=name, defaults={"description": description})
            if created:
                CadenceStep.objects.bulk_create(
                    CadenceStep(
                        cadence=cadence, position=i, day_offset=day, channel=channel, instructions=text
                    )
                    for i, (day, channel, text) in enumerate(steps, start=1)
                )

    # --- the storylines (each yields the moment of its next step) ------------------------------

    def _leads(self, replay, count, campaigns, now):
        """Marketing's leads of the last two months: captured by form, webinar or download,
        coming back now and then; those that became MQLs were routed then, and the SDRs
        touched most of the ones older than two days, some within minutes, some too late."""
        existing = set(Lead.objects.filter(email__endswith=".example").values_list("email", flat=True))
        context = services.ScoringContext.load()
        created = 0
        for i in range(count):
            rng = random.Random(i)  # per lead, so a re-run skips exactly the leads it made before
            first, last = rng.choice(FIRST), rng.choice(LAST)
            company, industry, employees, revenue, country = rng.choice(COMPANIES)
            email = _email(first, last, i, company)
            if email in existing:
                continue
            replay.add(
                self._lead_story(
                    rng, now, context, campaigns, email=email,
                    details=_details(
                        first, last, company, industry, employees, revenue, country, rng.choice(TITLES),
                        phone=f"+1 555 01{i:04d}",
                    ),
                )
            )  # fmt: skip
            created += 1
        return created

    def _lead_story(self, rng, now, context, campaigns, *, email, details):
        captured = now - timedelta(days=rng.uniform(0, 60), minutes=rng.randint(0, 600))
        campaign = rng.choice(campaigns)
        kind = rng.choice([ActivityKind.FORM_FILL, ActivityKind.DOWNLOAD, ActivityKind.WEBINAR])
        hand_raiser = rng.random() < 0.04
        hours = max(2.0, (now - captured).total_seconds() / 3600)
        steps = [
            (captured + timedelta(hours=rng.uniform(1, hours)), "activity", rng.choice(ACTIVITY_MIX))
            for _ in range(rng.choice([0, 0, 1, 2, 3, 5, 8]))
        ]
        yield captured
        lead = services.capture_lead(
            email=email, via=ActivitySource.WEB_FORM, campaign=campaign, context=context,
            activity_kind=kind, hand_raiser=hand_raiser, details=details,
        ).lead  # fmt: skip
        planned = False
        while True:
            if not planned and (item := _open_first_touch(lead.pk)):
                # Routed (at capture or when an activity made it an MQL): most leads older than
                # two days got their first touch, within minutes or hours.
                planned = True
                if now - item.created_at > timedelta(days=2) and rng.random() < 0.8:
                    # Counted in the owner's working minutes from the routing, like the timer:
                    # a lead routed at 03:00 is touched the next working morning.
                    took = rng.choice([4, 9, 14, 25, 50, 90, 180, 300, 600])
                    touch = rng.choice(["call", "email", "voicemail"])
                    steps.append((work_minutes(item.owner, item.created_at, took), "touch", touch))
            if not steps:
                return
            steps.sort(key=lambda step: step[0])
            moment, what, kind = steps.pop(0)
            yield moment
            if what == "touch":
                yield from _owner_at_work(lead.pk)
                _touch(lead.pk, kind)
            else:
                services.log_activity(
                    lead_id=lead.pk, kind=kind, via=ActivitySource.API, campaign=campaign, context=context
                )

    def _targets(self, replay, now):
        """Tom, the outbound SDR, has prospected three named accounts since last week; most
        prospects are in a cadence, he did each step on its day, so his queue has today's."""
        from accounts.models import Account

        for n, target in enumerate(TARGETS):
            if Account.objects.filter(domain=target[1]).exists():
                continue
            replay.add(
                self._target_story(target, (now - timedelta(days=9 - n)).date(), random.Random(100 + n))
            )

    def _target_story(self, target, day, rng):
        from accounts.services import add_prospects, create_target_account
        from sdr.models import Enrollment
        from sdr.services.cadences import enroll

        name, domain, industry, country, employees, people = target
        tom = User.objects.select_related("team__calendar").get(username="tom")
        manager = User.objects.select_related("team__calendar").get(username="maria")
        started = working_day(manager, day, hours=1)  # the manager names the account that morning
        yield started
        cadence = Cadence.objects.get(name=CADENCES[0][0])
        account = create_target_account(
            by=manager, name=name, domain=domain, prospector=tom, industry=industry, country=country,
            employees=employees,
        )  # fmt: skip
        rows = [
            {
                "email": f"{first}.{last}@{domain}".lower(),
                "first_name": first,
                "last_name": last,
                "title": title,
            }
            for first, last, title in people
        ]
        yield work_minutes(tom, started, 20)
        result = add_prospects(account_id=account.pk, by=tom, rows=rows, via=ActivitySource.MANUAL)
        enrolled = [added.lead.pk for added in result.created[:-1]]
        yield work_minutes(tom, timezone.now(), 10)
        for lead_id in enrolled:
            enroll(lead_id=lead_id, cadence_id=cadence.pk, by=tom)
        while True:
            steps = list(
                WorkItem.objects.open()
                .filter(subject_filter(Lead, enrolled), kind=WorkItem.Kind.CADENCE_STEP)
                .order_by("due_at")
            )
            if not steps:
                return
            # Tom works the steps due that day in the morning of the day, an hour or so in.
            yield work_minutes(tom, steps[0].due_at, rng.uniform(60, 180))
            channels = dict(
                Enrollment.objects.filter(lead_id__in=enrolled, state=Enrollment.State.ACTIVE).values_list(
                    "lead_id", "step__channel"
                )
            )
            touched = [
                _touch(item.object_id, channels[item.object_id])
                for item in steps
                if item.due_at <= timezone.now() and item.object_id in channels
            ]
            if not any(touched):
                return

    def _handoffs(self, replay, now):
        """A pipeline with a past: prospects asked for a call over the last weeks, the SDRs
        called them and handed off the qualified ones; the AEs accepted most (within hours),
        rejected a few with feedback, moved the accepted ones along the stages, won some and
        lost some (one early). The newest handoffs still wait in the AEs' inboxes."""
        from accounts.models import Opportunity

        if Opportunity.objects.exists():
            return
        campaigns = list(Campaign.objects.order_by("pk"))
        for i in range(40):
            replay.add(self._deal_story(i, random.Random(11 + i), now, campaigns))

    def _deal_story(self, i, rng, now, campaigns):
        from accounts.models import Stage
        from accounts.services import (
            Qualifying,
            accept_handoff,
            hand_off,
            move_stage,
            reject_handoff,
            update_opportunity,
        )

        handed = now - timedelta(days=max(0.2, 30 - i * 0.75), hours=rng.uniform(0, 5))
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company, industry, employees, revenue, country = _deal_company(i, rng)
        title = rng.choice(TITLES)
        yield handed - timedelta(days=2)
        lead = services.capture_lead(
            email=_email(first, last, f"deal{i}", company),
            via=ActivitySource.WEB_FORM,
            hand_raiser=True,
            activity_kind=ActivityKind.MEETING_REQUEST,
            campaign=rng.choice(campaigns),
            details=_details(first, last, company, industry, employees, revenue, country, title),
        ).lead
        # The SDR calls back within minutes of their working time (the prospect may have asked
        # at night: then first thing in the morning); one in ten misses the 15-minute SLA.
        took = rng.choice([3, 4, 5, 6, 8, 9, 11, 12, 14, 35])
        sdr = _owner(lead.pk)
        yield work_minutes(sdr, timezone.now(), took) if sdr else timezone.now() + timedelta(minutes=took)
        yield from _owner_at_work(lead.pk)
        if not _touch(lead.pk, "call", outcome="connected"):
            return  # nobody had room for it: it waits in the team's queue
        settle = rng.uniform(20, 180)
        yield self._handoff_moment(_owner(lead.pk), handed, touched=timezone.now(), now=now, settle=settle)
        yield from _owner_at_work(lead.pk)
        lead.refresh_from_db()
        qualifying = Qualifying(
            budget=rng.choice(["confirmed", "partly", "unknown"]),
            authority=rng.choice(["confirmed", "partly"]),
            need="confirmed",
            timing=rng.choice(["confirmed", "partly", "unknown"]),
            budget_note=rng.choice(BUDGET_NOTES),
            authority_note=f"{lead.title or 'Contact'}; involves their head of sales.",
            need_note=rng.choice(NEED_NOTES),
            timing_note=rng.choice(TIMING_NOTES),
        )
        opportunity = hand_off(
            lead_id=lead.pk,
            by=lead.owner,
            qualifying=qualifying,
            amount=Decimal(rng.choice([12, 18, 24, 36, 48, 60, 90])) * 1000,
        )
        if i >= 34:
            return  # still in the inbox
        ae = opportunity.owner
        # The AE answers within the working day, now and then later than the 8-hour SLA.
        yield work_minutes(ae, timezone.now(), rng.uniform(0.5, 8.5) * 60)
        if i % 9 == 4:
            reason, note = rng.choice(REJECTIONS)
            reject_handoff(opportunity_id=opportunity.pk, by=ae, reason=reason, note=note)
            return
        accept_handoff(opportunity_id=opportunity.pk, by=ae)
        update_opportunity(
            opportunity_id=opportunity.pk,
            by=ae,
            amount=opportunity.amount,
            close_date=(now + timedelta(days=rng.randint(10, 90))).date(),
            next_step=rng.choice(NEXT_STEPS),
        )
        stages = {s.name: s for s in Stage.objects.all()}
        for name in ["Demo", "Proposal", "Negotiation"][: rng.randint(0, 3)]:
            yield work_delay(ae, timezone.now(), timedelta(days=rng.uniform(1, 4)))
            move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stages[name].pk)
        closing = work_delay(ae, timezone.now(), timedelta(days=rng.uniform(1, 5)))
        if i % 5 == 0:
            yield closing
            move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stages["Won"].pk)
        elif i % 7 == 1:
            yield closing
            move_stage(
                opportunity_id=opportunity.pk,
                by=ae,
                stage_id=stages["Lost"].pk,
                lost_reason=rng.choice(["Price", "Chose a competitor", "No decision / went dark"]),
                lost_note="They went with the incumbent after our demo.",
            )

    @staticmethod
    def _handoff_moment(sdr, planned, *, touched, now, settle):
        """When the SDR hands the deal off: at the planned moment if they work then, else
        ``settle`` minutes into their next working time, or their last working moment before
        now when that has not come yet (the newest handoffs must be in the AEs' inboxes today);
        never before the call that qualified it."""
        moment = at_work(sdr, planned)
        if moment != planned:
            moment = work_minutes(sdr, planned, settle)
        if moment > now:
            moment = last_at_work(sdr, planned)
        if moment <= touched:
            moment = work_minutes(sdr, touched, 30)
        return moment

    _customers_seeded = False

    def _customers(self, replay, now):
        """A customer base with a past: each customer signed two years ago and renewed (or
        expanded) a year ago, and the current terms end over the coming months. The daily
        renewal run went every morning of the last two months, as beat would have, so the
        AMs' renewals page has something in every window; some AMs talked to their customers
        soon after a renewal opened, others not yet. Someone at a customer asked for a call
        this morning: an expansion lead for its AM."""
        from renewals.models import Contract

        if Contract.objects.filter(source=Contract.Source.MANUAL).exists():
            return
        self._customers_seeded = True
        today = timezone.localdate(now)
        for i, customer in enumerate(CUSTOMERS):
            replay.add(self._customer_story(i, customer, today, now))
        for i, pair in enumerate(ENDED_PAIRS):
            replay.add(self._ended_pair_story(i, pair, today))
        replay.add(self._renewal_runs(today - timedelta(days=65)))
        replay.add(self._expansion_story(now - timedelta(hours=2)))

    def _customer_story(self, i, customer, today, now):
        from accounts.models import Account, Contact
        from renewals.models import Contract, RenewalSettings
        from renewals.services import Terms, add_contracts, add_months, log_conversation, record_outcome

        name, domain, industry, country, employees, value, days_left, seats = customer
        end = today + timedelta(days=days_left)
        start = add_months(end + timedelta(days=1), -12)
        previous_start = add_months(start, -12)
        value = Decimal(value)
        old_value = value if i % 3 else (value * Decimal("0.8")).quantize(Decimal("1"))
        yield _at(previous_start)
        account, _ = Account.objects.get_or_create(
            domain=domain,
            defaults={"name": name, "industry": industry, "country": country, "employees": employees},
        )
        (previous,) = add_contracts(
            account=account,
            terms=[
                Terms(
                    start_date=previous_start,
                    end_date=start - timedelta(days=1),
                    annual_value=old_value,
                    products="Refinery Team",
                    seats=seats,
                    auto_renew=i == 4,
                    number=f"C-{1000 + i}",
                )
            ],
            by=None,
            source=Contract.Source.MANUAL,
        )
        for first, last, title in CUSTOMER_CONTACTS[i % len(CUSTOMER_CONTACTS)]:
            Contact.objects.get_or_create(
                email=f"{first}.{last}@{domain}".lower(),
                defaults={"account": account, "first_name": first, "last_name": last, "title": title},
            )
        account.refresh_from_db()
        # The AM signed the renewal that morning, in their working hours.
        yield working_day(account.account_manager, start - timedelta(days=20), hours=2)
        account.refresh_from_db()
        am = account.account_manager
        yield from until_at_work(am)
        record_outcome(
            contract_id=previous.pk,
            by=am,
            outcome="renewed" if old_value == value else "expanded",
            annual_value=value,
            note="Signed after the QBR." if old_value == value else "Added the sales team's seats.",
        )
        if i % 3 == 1:
            # This AM called the customer a few days after the renewal opened.
            yield working_day(am, end - timedelta(days=RenewalSettings.load().start_days - 3), hours=1.5)
            note = "Call with their sales lead: happy so far, wants to talk numbers next month."
        elif domain == "cobalt-insurance.example":
            yield last_at_work(am, now - timedelta(hours=1))  # their latest call
            note = "Call with their CFO: happy with the SDR queue, asking about 50 more seats."
        else:
            return
        contract = Contract.objects.active().filter(account=account).first()
        account.refresh_from_db()
        yield from until_at_work(account.account_manager)
        if contract is not None and account.account_manager:
            log_conversation(contract_id=contract.pk, by=account.account_manager, note=note)

    def _ended_pair_story(self, i, pair, today):
        """Two customers imported together, a year-long term each that ended in the last four
        months: the renewal window opened (as the daily run does, before the replayed runs
        begin), the AM called, and recorded the same kind of outcome for both (renewed,
        downsized, expanded or churned with a reason), so retention has churn and NRR/GRR in
        recent months for each AM."""
        from accounts.models import Account, Contact
        from renewals.models import Contract, RenewalSettings
        from renewals.services import (
            Terms,
            add_contracts,
            add_months,
            log_conversation,
            open_windows,
            record_outcome,
        )

        *customers, outcome, values, note = pair
        ends = [today - timedelta(days=customer[6]) for customer in customers]
        starts = [add_months(end + timedelta(days=1), -12) for end in ends]
        yield _at(min(starts) - timedelta(days=14))  # signed two weeks before the first term began
        contracts = []
        for j, (name, domain, industry, country, employees, value, _) in enumerate(customers):
            account, _ = Account.objects.get_or_create(
                domain=domain,
                defaults={"name": name, "industry": industry, "country": country, "employees": employees},
            )
            (contract,) = add_contracts(
                account=account,
                terms=[
                    Terms(
                        start_date=starts[j],
                        end_date=ends[j],
                        annual_value=Decimal(value),
                        products="Refinery Team",
                        seats=employees // 20,
                        number=f"C-{1100 + 2 * i + j}",
                    )
                ],
                by=None,
                source=Contract.Source.MANUAL,
            )
            contracts.append(contract)
            first, last, title = CUSTOMER_CONTACTS[(i + j) % len(CUSTOMER_CONTACTS)][0]
            Contact.objects.get_or_create(
                email=f"{first}.{last}@{domain}".lower(),
                defaults={"account": account, "first_name": first, "last_name": last, "title": title},
            )
        start_days = RenewalSettings.load().start_days
        ams = [Account.objects.get(pk=contract.account_id).account_manager for contract in contracts]
        steps = sorted(
            [
                (datetime.combine(ends[j] - timedelta(days=start_days), time(5, 30), tzinfo=UTC), "open", j)
                for j in (0, 1)
            ]
            # The AM's renewal call ten days into the window, the outcome twelve days before the
            # end, both in the AM's working day.
            + [
                (working_day(ams[j], ends[j] - timedelta(days=start_days - 10), hours=3), "call", j)
                for j in (0, 1)
            ]
            + [(working_day(ams[j], ends[j] - timedelta(days=12), hours=1), "outcome", j) for j in (0, 1)]
        )
        for moment, step, j in steps:
            yield moment
            contract = contracts[j]
            am = Account.objects.get(pk=contract.account_id).account_manager
            if step != "open":
                yield from until_at_work(am)
            if step == "open":
                open_windows(contract_ids=[contract.pk])  # what the daily run does that morning
            elif step == "call":
                log_conversation(contract_id=contract.pk, by=am, note="Renewal call: " + note)
            elif outcome == Contract.Outcome.CHURNED:
                record_outcome(
                    contract_id=contract.pk, by=am, outcome=outcome, churn_reason=values[j], note=note
                )
            else:
                value = Decimal(values[j]) if values[j] else None
                record_outcome(contract_id=contract.pk, by=am, outcome=outcome, annual_value=value, note=note)

    def _renewal_runs(self, first_day):
        from renewals.services import run_renewals

        day = first_day
        while True:
            yield datetime.combine(day, time(5, 30), tzinfo=UTC)  # beat's daily renewal run
            run_renewals()
            day += timedelta(days=1)

    def _expansion_story(self, moment):
        yield moment
        services.capture_lead(
            email="ethan.clark@brightpath.example",
            via=ActivitySource.WEB_FORM,
            hand_raiser=True,
            activity_kind=ActivityKind.MEETING_REQUEST,
            details={
                "first_name": "Ethan",
                "last_name": "Clark",
                "company": "Brightpath Logistics",
                "title": "Head of SDRs",
                "country": "US",
            },
        )
