"""What the demo's storylines share: the names, companies and titles leads are made of, a lead's
email and details, and the steps a person takes on a lead in their queue (a touch, waiting until
whoever owns the lead now is at work)."""

from datetime import UTC, datetime, time
from decimal import Decimal

from django.utils import timezone

from demo.history import at_work
from leads.cleaning import seniority_from_title
from leads.models import Lead
from leads.services import IN_SALES
from sdr.services import log_touch
from team.models import User
from work.models import WorkItem
from work.services import subject_filter


def at_ten(day):
    """Ten in the morning UTC on ``day``: when an import with nobody at the keyboard ran (a
    person's steps are timed in their working hours, see ``demo.history``)."""
    return datetime.combine(day, time(10), tzinfo=UTC)


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


def email_for(first: str, last: str, tag, company: str) -> str:
    return f"{first}.{last}.{tag}@{company.lower().replace(' ', '')}.example".lower()


def lead_details(first, last, company, industry, employees, revenue, country, title, **more) -> dict:
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


def open_first_touch(lead_id: int) -> WorkItem | None:
    return (
        WorkItem.objects.open()
        .filter(subject_filter(Lead, [lead_id]), kind=WorkItem.Kind.FIRST_TOUCH, owner__isnull=False)
        .first()
    )


def touch_as_owner(lead_id: int, kind: str, outcome: str = "") -> bool:
    """The lead's owner logs a touch, if the lead is still in a queue with an owner."""
    lead = Lead.objects.select_related("owner").get(pk=lead_id)
    if lead.status not in IN_SALES or lead.owner is None:
        return False
    log_touch(lead_id=lead.pk, by=lead.owner, kind=kind, outcome=outcome)
    return True


def owner_of(lead_id: int) -> User | None:
    return Lead.objects.select_related("owner__team__calendar").get(pk=lead_id).owner


def owner_at_work(lead_id: int):
    """Inside a storyline (``yield from``): wait until whoever owns the lead now is at work (a
    timer's reassignment may have given it to someone whose day has ended)."""
    while (owner := owner_of(lead_id)) is not None and (
        opening := at_work(owner, timezone.now())
    ) > timezone.now():
        yield opening
