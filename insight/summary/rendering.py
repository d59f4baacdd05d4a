"""What a summary is and how it reads: the five lines and the sections below them, the numbers
and paths they are written with, and the email (plain text, and the same in HTML) the
templates ``insight/email/summary.txt`` and ``.html`` make of it. Paths are site-relative; the
email puts ``SITE_URL`` in front of them."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from kit.display import money_text
from team.models import User

from ..scope import Period


@dataclass(frozen=True)
class Line:
    """One of the first five lines: a label and the number, with the page behind it."""

    label: str
    value: str
    link: str = ""

    def __str__(self) -> str:
        return f"{self.label}: {self.value}"


@dataclass(frozen=True)
class Row:
    text: str
    link: str = ""


@dataclass
class Section:
    """A block of the details below the five lines."""

    title: str
    rows: list[Row] = field(default_factory=list)
    link: str = ""
    link_text: str = ""
    empty: str = "Nothing this week."


@dataclass
class Summary:
    """One person's week: the five lines, then the details. Paths are site-relative; the
    email puts ``SITE_URL`` in front of them."""

    user: User
    period: Period
    lines: list[Line]
    sections: list[Section]
    as_of: datetime

    @property
    def subject(self) -> str:
        start, end = self.period.start, self.period.end
        return f"[Refinery] Your week, {start:%-d %b} to {end:%-d %b %Y}"

    def context(self, site: str) -> dict:
        return {
            "summary": self,
            "site": site,
            "page": page_path("insight:summary", "/insight/summary/"),
            "as_of": self.as_of.astimezone(self.period.tz),
        }

    # Rendered in the recipient's zone (the one their week is cut in): a worker has no viewer.
    def text(self, site: str) -> str:
        with timezone.override(self.period.tz):
            return render_to_string("insight/email/summary.txt", self.context(site))

    def html(self, site: str) -> str:
        with timezone.override(self.period.tz):
            return render_to_string("insight/email/summary.html", self.context(site))


def money(amount) -> str:
    """An amount as people read it on a phone, with the currency: whole units when it is whole."""
    return money_text(Decimal(amount or 0))


def number(value) -> str:
    """A count with thousands separators, a measure with at most one decimal ("—" for none)."""
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    value = float(value)
    return f"{value:,.0f}" if value == round(value) else f"{value:,.1f}"


def plural(n: int, one: str, many: str | None = None) -> str:
    """``n`` and the noun, singular or plural ("1 handoff", "3 open items")."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def unit_suffix(unit: str) -> str:
    """What follows a number for its unit: "%" close up, a word after a space."""
    if not unit:
        return ""
    return unit if unit.startswith("%") else f" {unit}"


def page_path(name: str, fallback: str, *args) -> str:
    """A page's path by its URL name (the fallback while the page is not mounted)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return fallback


def overview_path() -> str:
    """The insight overview's path, where most lines link."""
    return page_path("insight:overview", "/insight/")


def message(summary: Summary) -> EmailMultiAlternatives:
    """The email: plain text, and the same in HTML."""
    site = settings.SITE_URL.rstrip("/")
    email = EmailMultiAlternatives(subject=summary.subject, body=summary.text(site), to=[summary.user.email])
    email.attach_alternative(summary.html(site), "text/html")
    return email
