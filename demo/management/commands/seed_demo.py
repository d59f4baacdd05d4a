"""Demo data: people, teams with business hours in two time zones, campaigns with costs, an
ideal-customer profile, and a few hundred leads with realistic activity. Idempotent."""

import random
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

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
from sdr.models import Cadence, CadenceStep, TerritoryRule
from sdr.services import first_touch_policies, log_touch
from team.models import BusinessCalendar, Holiday, Role, Team, User, WorkingHours
from work.models import WorkItem
from work.services import Schedules, due_times, sweep_breaches


def _at(day):
    """Ten in the morning UTC on ``day``: when the demo's past events happened."""
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
CAMPAIGNS = [
    ("Website demo requests", Channel.WEB, "0"),
    ("Google Ads: pipeline analytics", Channel.PAID_SEARCH, "18500"),
    ("Q4 webinar: forecasting", Channel.WEBINAR, "6200"),
    ("SaaStr booth", Channel.EVENT, "42000"),
    ("Newsletter", Channel.EMAIL, "1200"),
    ("LinkedIn sponsored content", Channel.SOCIAL, "9800"),
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


class Command(BaseCommand):
    help = "Seed demo people, teams, calendars, campaigns, a scoring profile and leads (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=300)

    def handle(self, *args, leads: int, **options):
        with transaction.atomic():
            calendars = self._calendars()
            teams = self._teams(calendars)
            users = self._people(teams)
            campaigns = self._campaigns()
            self._scoring()
            self._routing(teams)
        started = timezone.now()
        created = self._leads(leads, campaigns)
        self._history(since=started)
        self._cadences()
        self._targets()
        self._handoffs(teams)
        self._customers()
        form = WebForm.objects.filter(name="Website demo request").first()
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready: {created} new leads, {Lead.objects.count()} in all.")
        )
        self.stdout.write(
            f"Logins (password '{DEMO_PASSWORD}'): "
            + ", ".join(f"{u.username} ({u.get_role_display()})" for u in users)
        )
        if form:
            self.stdout.write(f"Public demo form: /f/{form.key}/")

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

    def _campaigns(self):
        today = timezone.now().date()
        campaigns = []
        for i, (name, channel, cost) in enumerate(CAMPAIGNS):
            campaign, _ = Campaign.objects.get_or_create(
                name=name,
                defaults={
                    "channel": channel,
                    "cost": Decimal(cost),
                    "starts_on": today - timedelta(days=120 - 10 * i),
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
        first_touch_policies()
        rules = [
            ("EMEA", "Inbound EMEA", ["DE", "AT", "CH", "GB", "FR", "NL", "SE", "ES", "IT", "IE"], 10),
            ("Americas", "Inbound Americas", ["US", "CA", "BR", "MX"], 20),
            ("Everything else", "Inbound EMEA", [], 1000),
        ]
        for name, team, countries, position in rules:
            TerritoryRule.objects.get_or_create(
                name=name, defaults={"team": teams[team], "countries": countries, "position": position}
            )
        # New customers (won deals, imported contracts) go to the account managers by round-robin.
        TerritoryRule.objects.get_or_create(
            name="All customers", defaults={"team": teams["Account Management"], "position": 10}
        )

    def _history(self, *, since):
        """Leads captured "days ago" were routed just now, at seed time. Give their timers the
        past they would have had: started when the lead became an MQL, most touched within
        minutes or hours, some not at all (breaches for the manager's review), the newest
        still running."""
        now = timezone.now()
        items = list(
            WorkItem.objects.filter(kind=WorkItem.Kind.FIRST_TOUCH, created_at__gte=since)
            .select_related("policy")
            .order_by("id")
        )
        leads = Lead.objects.in_bulk([i.object_id for i in items])
        schedules = Schedules().load({i.team_id for i in items})
        for item in items:
            lead = leads[item.object_id]
            start = min(lead.mql_at or now, now)
            item.created_at = start
            item.due_at, item.reassign_at = due_times(item.policy, start, schedules.for_team(item.team_id))
            item.reassign_at = None
        WorkItem.objects.bulk_update(items, ["created_at", "due_at", "reassign_at"])
        rng = random.Random(7)
        for item in items:
            lead = leads[item.object_id]
            age = now - item.created_at
            if item.owner_id and age > timedelta(days=2) and rng.random() < 0.8:
                log_touch(lead_id=lead.pk, by=item.owner, kind=rng.choice(["call", "email", "voicemail"]))
                took = timedelta(minutes=rng.choice([4, 9, 14, 25, 50, 90, 180, 300, 600]))
                WorkItem.objects.filter(pk=item.pk).update(completed_at=min(item.created_at + took, now))
        # The demo's past breaches were not mailed to anyone; only new ones are.
        from django.test.utils import override_settings

        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            sweep_breaches()

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

    def _targets(self):
        """Tom, the outbound SDR, prospects three named accounts; most prospects are in a
        cadence, so his queue has today's steps."""
        from accounts.models import Account
        from accounts.prospecting import add_prospects, create_target_account
        from sdr.cadences import enroll

        tom = User.objects.get(username="tom")
        manager = User.objects.get(username="maria")
        cadence = Cadence.objects.get(name=CADENCES[0][0])
        for name, domain, industry, country, employees, people in TARGETS:
            if Account.objects.filter(domain=domain).exists():
                continue
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
            result = add_prospects(account_id=account.pk, by=tom, rows=rows, via=ActivitySource.MANUAL)
            for added in result.created[:-1]:
                enroll(lead_id=added.lead.pk, cadence_id=cadence.pk, by=tom)

    def _handoffs(self, teams):
        """A pipeline with a past: SDRs handed off their best working leads over the last weeks;
        the AEs accepted most (within hours), rejected a few with feedback, moved the accepted
        ones along the stages, won some and lost some (one early). The newest handoffs still
        wait in the AEs' inboxes."""
        from accounts.models import Opportunity, Stage
        from accounts.services import (
            Qualifying,
            accept_handoff,
            acceptance_policy,
            hand_off,
            move_stage,
            reject_handoff,
            update_opportunity,
        )

        acceptance_policy()
        TerritoryRule.objects.get_or_create(
            name="All handoffs", defaults={"team": teams["Account Executives"], "position": 10}
        )
        if Opportunity.objects.exists():
            return
        now = timezone.now()
        rng = random.Random(11)
        stages = {s.name: s for s in Stage.objects.all()}
        leads = []
        for i in range(40):
            # Prospects who asked for a call weeks ago, were called and qualified.
            when = now - timedelta(days=max(0.2, 30 - i * 0.75), hours=rng.uniform(0, 5))
            first, last = rng.choice(FIRST), rng.choice(LAST)
            company, industry, employees, revenue, country = rng.choice(COMPANIES)
            title = rng.choice(TITLES)
            lead = services.capture_lead(
                email=f"{first}.{last}.deal{i}@{company.lower().replace(' ', '')}.example".lower(),
                via=ActivitySource.WEB_FORM,
                at=when - timedelta(days=2),
                hand_raiser=True,
                activity_kind=ActivityKind.MEETING_REQUEST,
                campaign=rng.choice(list(Campaign.objects.all())),
                details={
                    "first_name": first,
                    "last_name": last,
                    "company": company,
                    "title": title,
                    "seniority": seniority_from_title(title),
                    "industry": industry,
                    "employees": employees,
                    "annual_revenue": Decimal(revenue),
                    "country": country,
                },
            ).lead
            lead.refresh_from_db()
            if lead.owner is None:
                continue
            log_touch(
                lead_id=lead.pk, by=lead.owner, kind="call", outcome="connected", now=when - timedelta(days=2)
            )
            leads.append(lead)
        for i, lead in enumerate(leads):
            when = now - timedelta(days=max(0.2, 30 - i * 0.75), hours=rng.uniform(0, 5))
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
                now=when,
            )
            if i >= 34:
                continue  # still in the inbox
            answered = when + timedelta(hours=rng.uniform(0.5, 20))
            if i % 9 == 4:
                reason, note = rng.choice(REJECTIONS)
                reject_handoff(
                    opportunity_id=opportunity.pk,
                    by=opportunity.owner,
                    reason=reason,
                    note=note,
                    now=answered,
                )
                continue
            accept_handoff(opportunity_id=opportunity.pk, by=opportunity.owner, now=answered)
            ae = opportunity.owner
            update_opportunity(
                opportunity_id=opportunity.pk,
                by=ae,
                amount=opportunity.amount,
                close_date=(now + timedelta(days=rng.randint(10, 90))).date(),
                next_step=rng.choice(NEXT_STEPS),
                now=answered,
            )
            path = ["Demo", "Proposal", "Negotiation"][: rng.randint(0, 3)]
            moment = answered
            for name in path:
                moment += timedelta(days=rng.uniform(1, 4))
                if moment >= now:
                    break
                move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stages[name].pk, now=moment)
            end = moment + timedelta(days=rng.uniform(1, 5))
            if i % 5 == 0 and end < now:
                move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stages["Won"].pk, now=end)
            elif i % 7 == 1 and end < now:
                move_stage(
                    opportunity_id=opportunity.pk,
                    by=ae,
                    stage_id=stages["Lost"].pk,
                    lost_reason=rng.choice(["Price", "Chose a competitor", "No decision / went dark"]),
                    lost_note="They went with the incumbent after our demo.",
                    now=end,
                )

    def _customers(self):
        """A customer base with a past: each customer renewed (or expanded) its contract a year
        ago, and the current terms end over the coming months, so the AMs' renewals page has
        something in every window. The daily renewal task then runs once, as beat would."""
        from accounts.models import Account, Contact
        from renewals.models import Contract
        from renewals.services import (
            Terms,
            add_contracts,
            add_months,
            log_conversation,
            record_outcome,
            run_renewals,
        )

        if Contract.objects.filter(source=Contract.Source.MANUAL).exists():
            return
        now = timezone.now()
        today = timezone.localdate(now)
        for i, (name, domain, industry, country, employees, value, days_left, seats) in enumerate(CUSTOMERS):
            account, _ = Account.objects.get_or_create(
                domain=domain,
                defaults={"name": name, "industry": industry, "country": country, "employees": employees},
            )
            end = today + timedelta(days=days_left)
            start = add_months(end + timedelta(days=1), -12)
            previous_start = add_months(start, -12)
            value = Decimal(value)
            old_value = value if i % 3 else (value * Decimal("0.8")).quantize(Decimal("1"))
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
                now=_at(previous_start),
            )
            account.refresh_from_db()
            am = account.account_manager
            renewed_at = _at(start - timedelta(days=20))
            record_outcome(
                contract_id=previous.pk,
                by=am,
                outcome="renewed" if old_value == value else "expanded",
                annual_value=value,
                note="Signed after the QBR." if old_value == value else "Added the sales team's seats.",
                now=renewed_at,
            )
            for first, last, title in CUSTOMER_CONTACTS[i % len(CUSTOMER_CONTACTS)]:
                Contact.objects.get_or_create(
                    email=f"{first}.{last}@{domain}".lower(),
                    defaults={"account": account, "first_name": first, "last_name": last, "title": title},
                )
        run_renewals(now=now)
        # Someone at a customer asks for a call: an expansion lead for the account's AM.
        services.capture_lead(
            email="ethan.clark@brightpath.example",
            via=ActivitySource.WEB_FORM,
            at=now - timedelta(hours=2),
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
        talked = Contract.objects.active().filter(account__domain="cobalt-insurance.example").first()
        if talked is not None and talked.account.account_manager:
            log_conversation(
                contract_id=talked.pk,
                by=talked.account.account_manager,
                note="Call with their CFO: happy with the SDR queue, asking about 50 more seats.",
                now=now,
            )

    def _leads(self, count, campaigns):
        now = timezone.now()
        existing = set(Lead.objects.filter(email__endswith=".example").values_list("email", flat=True))
        context = services.ScoringContext.load()
        created = 0
        for i in range(count):
            rng = random.Random(i)  # per lead, so a re-run skips exactly the leads it made before
            first, last = rng.choice(FIRST), rng.choice(LAST)
            company, industry, employees, revenue, country = rng.choice(COMPANIES)
            email = f"{first}.{last}.{i}@{company.lower().replace(' ', '')}.example".lower()
            if email in existing:
                continue
            title = rng.choice(TITLES)
            captured = now - timedelta(days=rng.uniform(0, 60), minutes=rng.randint(0, 600))
            campaign = rng.choice(campaigns)
            result = services.capture_lead(
                email=email,
                via=ActivitySource.WEB_FORM,
                campaign=campaign,
                at=captured,
                context=context,
                activity_kind=rng.choice(
                    [ActivityKind.FORM_FILL, ActivityKind.DOWNLOAD, ActivityKind.WEBINAR]
                ),
                hand_raiser=rng.random() < 0.04,
                details={
                    "first_name": first,
                    "last_name": last,
                    "company": company,
                    "title": title,
                    "seniority": seniority_from_title(title),
                    "industry": industry,
                    "employees": employees,
                    "annual_revenue": Decimal(revenue),
                    "country": country,
                    "phone": f"+1 555 01{i:04d}",
                },
            )
            for _ in range(rng.choice([0, 0, 1, 2, 3, 5, 8])):
                when = captured + timedelta(
                    hours=rng.uniform(1, max(2.0, (now - captured).total_seconds() / 3600))
                )
                services.log_activity(
                    lead_id=result.lead.pk,
                    kind=rng.choice(ACTIVITY_MIX),
                    occurred_at=min(when, now),
                    via=ActivitySource.API,
                    campaign=campaign,
                    context=context,
                )
            created += 1
        services.sweep_engagement_thresholds()
        return created
