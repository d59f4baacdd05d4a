"""factory_boy factories for the cast and their data."""

from datetime import time
from pathlib import Path

import factory
from django.utils import timezone

from leads.models import Campaign, Channel, FitCriterion, FitField, IdealCustomerProfile, Lead, WebForm
from team.models import BusinessCalendar, Role, Team, User, WorkingHours


class CalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessCalendar
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = "Berlin office"
    timezone = "Europe/Berlin"

    @factory.post_generation
    def weekdays(obj, create, extracted, **kwargs):
        if create and not obj.hours.exists():
            WorkingHours.objects.bulk_create(
                WorkingHours(calendar=obj, weekday=d, opens=time(9), closes=time(17)) for d in range(5)
            )


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = "Inbound EMEA"
    kind = Team.Kind.INBOUND
    calendar = factory.SubFactory(CalendarFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@refinery.example")
    role = Role.INBOUND_SDR
    team = factory.SubFactory(TeamFactory)
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    channel = Channel.PAID_SEARCH
    cost = 1000


class WebFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebForm

    name = "Demo request"
    campaign = factory.SubFactory(CampaignFactory)


class LeadFactory(factory.django.DjangoModelFactory):
    """A lead written directly (no service): for lists and filters. Use the services to test
    behaviour."""

    class Meta:
        model = Lead

    email = factory.Sequence(lambda n: f"person{n}@company{n % 7}.example")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = factory.Faker("company")
    title = "Analyst"
    captured_at = factory.LazyFunction(timezone.now)
    # First seen is the capture unless the lead came from another system (pass it then).
    first_seen_at = factory.SelfAttribute("captured_at")


def make_profile(**points) -> IdealCustomerProfile:
    """The ideal-customer profile the tests score against (100 points in all)."""
    profile = IdealCustomerProfile.objects.create(name="Test ICP")
    FitCriterion.objects.bulk_create(
        [
            FitCriterion(
                profile=profile, field=FitField.INDUSTRY, values="Technology, Financial Services", points=40
            ),
            FitCriterion(profile=profile, field=FitField.EMPLOYEES, minimum=100, maximum=5000, points=30),
            FitCriterion(
                profile=profile, field=FitField.SENIORITY, values="c_level, vp, director", points=20
            ),
            FitCriterion(profile=profile, field=FitField.COUNTRY, values="US, DE", points=10),
        ]
    )
    return profile


# Real-world-shaped Salesforce and HubSpot exports (generated, messy on purpose: see their README).
SAMPLE_DATA = Path(__file__).resolve().parent / "data" / "crm_exports"


def routed_lead(
    owner, *, hand_raiser: bool = False, policy_key: str | None = None, now=None, **fields
) -> Lead:
    """A sales-ready lead in ``owner``'s queue with its first-touch timer, as routing leaves
    it (written directly, so a test controls the time the timer started)."""
    from sdr.services import first_touch_policies
    from work import services as work
    from work.models import SlaPolicy, WorkItem

    now = now or timezone.now()
    lead = LeadFactory(
        status=Lead.Status.MQL,
        mql_at=now,
        owner=owner,
        team=owner.team if owner else fields.pop("team", None),
        hand_raiser=hand_raiser,
        **fields,
    )
    key = policy_key or (SlaPolicy.FIRST_TOUCH_HAND_RAISER if hand_raiser else SlaPolicy.FIRST_TOUCH_MQL)
    work.open_items(
        [
            work.NewItem(
                subject=lead,
                kind=WorkItem.Kind.FIRST_TOUCH,
                title="Asked for a call" if hand_raiser else "New MQL",
                owner_id=owner.pk if owner else None,
                team_id=lead.team_id,
                policy=first_touch_policies().get(key) or SlaPolicy.objects.get(key=key),
            )
        ],
        now=now,
    )
    return lead


def raise_hand(email: str, *, campaign=None, activity_kind=None, **details) -> Lead:
    """Someone asking for a call through the API, with ``details`` (company, country ...); the
    activity is a form fill unless ``activity_kind`` says otherwise."""
    from leads.services import capture_lead

    kind = {"activity_kind": activity_kind} if activity_kind else {}
    return capture_lead(
        email=email, details=details, via="api", campaign=campaign, hand_raiser=True, **kind
    ).lead


def request_a_meeting(email: str, *, campaign=None) -> Lead:
    """Someone at Globex asking for a meeting through the API (a hand-raiser)."""
    from leads.models import ActivityKind

    return raise_hand(email, campaign=campaign, activity_kind=ActivityKind.MEETING_REQUEST, company="Globex")


def qualifying(**changes):
    """A qualification an SDR would hand off: need confirmed, the rest partly known."""
    from accounts.services import Qualifying

    values = {
        "budget": "partly",
        "authority": "confirmed",
        "need": "confirmed",
        "timing": "partly",
        "budget_note": "Budget is being set for Q1.",
        "authority_note": "Head of sales ops, signs off up to 50k.",
        "need_note": "Their SDRs miss hand-raisers; they lose deals to slow follow-up.",
        "timing_note": "Wants a tool live before the spring campaign.",
    }
    values.update(changes)
    return Qualifying(**values)


def handed_off(sdr, ae, *, now=None, **lead_fields):
    """An opportunity ``sdr`` handed to ``ae``, awaiting acceptance (its lead is working in
    the SDR's queue first, as a real handoff starts)."""
    from accounts.services import hand_off

    lead = routed_lead(sdr, now=now, **lead_fields)
    return hand_off(lead_id=lead.pk, by=sdr, qualifying=qualifying(), ae=ae, now=now)


def accepted(sdr, ae, *, now=None, **lead_fields):
    """An opportunity in ``ae``'s pipeline, at the first open stage."""
    from accounts.services import accept_handoff

    opportunity = handed_off(sdr, ae, now=now, **lead_fields)
    return accept_handoff(opportunity_id=opportunity.pk, by=ae, now=now)


def stage(name: str):
    """The pipeline stage called ``name`` (the stages the data migration creates)."""
    from accounts.models import Stage

    return Stage.objects.get(name=name)


def customer(am, *, name: str = "Acme GmbH", domain: str = "acme.example", **account_fields):
    """A customer account managed by ``am`` (no contract yet)."""
    from accounts.models import Account

    return Account.objects.create(
        name=name, domain=domain, account_manager=am, customer_since=timezone.now(), **account_fields
    )


def contract(account, *, end, start=None, value="12000.00", now=None, **fields):
    """A contract term on ``account`` ending ``end`` (a date), created through the service (so
    windows it is already inside open at ``now``)."""
    from datetime import timedelta
    from decimal import Decimal

    from renewals.models import Contract
    from renewals.services import Terms, add_contracts

    terms = Terms(
        start_date=start or end - timedelta(days=364),
        end_date=end,
        annual_value=Decimal(value),
        **fields,
    )
    (made,) = add_contracts(account=account, terms=[terms], by=None, source=Contract.Source.MANUAL, now=now)
    return made


def api_token(user, name: str = "tests") -> str:
    """A new API token for ``user`` (the header is ``Authorization: Token <it>``)."""
    from team.tokens import issue_token

    _, raw = issue_token(user=user, name=name)
    return raw


# --- reading back what the services left --------------------------------------------------------


def first_touch(lead):
    """The lead's first-touch work item (its SLA timer)."""
    from work.models import WorkItem

    return WorkItem.objects.for_subject(lead).get(kind=WorkItem.Kind.FIRST_TOUCH)


def open_steps(lead) -> list:
    """The lead's open cadence-step work items."""
    from work.models import WorkItem

    return list(WorkItem.objects.open().for_subject(lead).filter(kind=WorkItem.Kind.CADENCE_STEP))


def handoff_snapshot(lead) -> dict:
    """Everything a hand-off changes: a refused one must leave all of it as it was."""
    from accounts.models import Account, Contact, Opportunity
    from leads.models import LeadEvent
    from work.models import WorkItem

    lead.refresh_from_db()
    return {
        "opportunities": Opportunity.objects.count(),
        "accounts": Account.objects.count(),
        "contacts": Contact.objects.count(),
        "lead_status": lead.status,
        "items": list(WorkItem.objects.order_by("pk").values_list("pk", "kind", "state", "owner_id")),
        "events": LeadEvent.objects.filter(lead=lead).count(),
    }
