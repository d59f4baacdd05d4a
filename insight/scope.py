"""What a number is computed over: a period cut in the viewer's time zone, and the lead facts
the viewer may see, narrowed by the filters. Every funnel, speed, money and health function
takes a ``Scope``; the pages, the API and the weekly summary build one the same way
(``insight.filters.InsightFilter`` from a request, ``Scope.for_user`` elsewhere)."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils import timezone

from team.models import User
from team.zones import user_zone

from . import access
from .models import LeadFact, RefreshState

MAX_PERIOD_DAYS = 366


def generation(using: str = "default") -> int | None:
    """The facts' generation now: ``RefreshState.generation``, counting the runs of
    ``insight.facts`` that changed a fact (None when the facts were never computed)."""
    return RefreshState.objects.using(using).filter(pk=1).values_list("generation", flat=True).first()


def viewer_tz(user) -> ZoneInfo:
    """The zone a person's periods, months and weeks are cut in: the one they read times in
    (``team.zones.user_zone``: their preference, else their team calendar's, else UTC; the
    pages, the API and the weekly summary all ask here)."""
    return user_zone(user)


@dataclass(frozen=True)
class Period:
    """Local days ``start`` to ``end`` (both included) in ``tz``."""

    start: date
    end: date
    tz: ZoneInfo

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError("A period ends on or after its start.")

    @property
    def start_at(self) -> datetime:
        """The first instant of the period (local midnight of ``start``), aware."""
        return datetime.combine(self.start, time.min, tzinfo=self.tz)

    @property
    def end_at(self) -> datetime:
        """The first instant after the period (local midnight after ``end``), aware."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=self.tz)

    def contains(self, field_name: str) -> Q:
        """``field_name`` (a moment) falls in the period, as a condition for any model."""
        return Q(**{f"{field_name}__gte": self.start_at, f"{field_name}__lt": self.end_at})

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def label(self) -> str:
        return f"{self.start:%-d %b %Y} to {self.end:%-d %b %Y} ({self.tz.key})"

    @classmethod
    def last_days(cls, days: int, tz: ZoneInfo, today: date | None = None) -> "Period":
        """The ``days`` local days ending today (included)."""
        today = today or timezone.localdate(timezone=tz)
        return cls(today - timedelta(days=days - 1), today, tz)

    @classmethod
    def week_of(cls, monday: date, tz: ZoneInfo) -> "Period":
        return cls(monday, monday + timedelta(days=6), tz)


UNREAD = object()  # a scope's facts generation before it is read


@dataclass
class Scope:
    """``facts``: the lead facts ``user`` may see with the filters applied, not yet cut to the
    period (a cohort cuts on ``first_seen_at``, when the person arrived; a flow on each stage's
    own moment).
    ``generation``: the facts' generation the question is asked of (``insight.answers``:
    what its statements answered is remembered under it), read when the scope is made for a
    person, else at its first statement."""

    user: User
    period: Period
    facts: QuerySet[LeadFact]
    filters: dict = field(default_factory=dict)
    generation: object = field(default=UNREAD, compare=False)

    @classmethod
    def for_user(cls, user, period: Period, **filters) -> "Scope":
        facts = access.visible_facts(user).filter(**filters)
        return cls(user=user, period=period, facts=facts, filters=filters, generation=generation(facts.db))

    def cohort(self) -> QuerySet[LeadFact]:
        """The leads first seen in the period: an imported lead counts when its source system
        first saw the person, not in the month of the import (``LeadFact.first_seen_at``)."""
        return self.facts.filter(
            first_seen_at__gte=self.period.start_at, first_seen_at__lt=self.period.end_at
        )

    def moment_in_period(self, field_name: str) -> QuerySet[LeadFact]:
        """The facts whose ``field_name`` moment falls in the period (a flow)."""
        return self.facts.filter(self.period.contains(field_name))
