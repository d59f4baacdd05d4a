"""What the lead pages show beside the lead itself: its engagement and grade today. Read
pages get these from here rather than from attributes attached to the lead."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from .models import Lead, ScoringSettings


@dataclass(frozen=True)
class ScoredLead:
    """A lead with today's decayed engagement and its grade (fit letter, then engagement digit)."""

    lead: Lead
    engagement: float
    grade: str


def scored(
    leads: Iterable[Lead], scoring: ScoringSettings | None = None, *, now: datetime | None = None
) -> list[ScoredLead]:
    """Today's engagement and grade for each lead shown (at ``now``, the page's clock, when it
    has one), reading the settings once."""
    now, half_life = now or timezone.now(), (scoring or ScoringSettings.load()).half_life_days
    return [ScoredLead(lead, lead.engagement(now, half_life), lead.grade(now, half_life)) for lead in leads]
