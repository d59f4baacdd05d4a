"""What the sdr service modules share: the refusal, the roles and team kinds that routing
deals with, and the timeline event they write."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.urls import reverse

from kit.errors import Refused
from leads.models import Lead, LeadEvent
from notifications.models import Kind
from notifications.services import News
from team.models import Role, Team

SDR_ROLES = (Role.INBOUND_SDR, Role.OUTBOUND_SDR)
SDR_TEAM_KINDS = (Team.Kind.INBOUND, Team.Kind.OUTBOUND)


class SdrError(Refused):
    """A change the lead's state or the user's role does not allow; the message is for the
    user."""


def lead_event(lead: Lead, kind: str, at: datetime, message: str, actor=None) -> LeadEvent:
    """An unsaved timeline event on ``lead`` (the callers insert them in one statement)."""
    return LeadEvent(lead_id=lead.pk, kind=kind, at=at, actor=actor, message=message[:500])


def assignment_news(assigned: Iterable[tuple[int | None, Lead]], how: str) -> list[News]:
    """ "Assigned to you" for each rep given leads: one notification per rep and batch (a lead's
    page for one lead, the queue for several), so a bulk move of 200 leads is one line."""
    by_owner: dict[int, list[Lead]] = defaultdict(list)
    for owner_id, lead in assigned:
        if owner_id is not None:
            by_owner[owner_id].append(lead)
    news = []
    for owner_id, leads in by_owner.items():
        if len(leads) == 1:
            text, url = f"{leads[0]} was {how} to you", leads[0].get_absolute_url()
        else:
            text, url = f"{len(leads)} leads were {how} to you", reverse("sdr:queue")
        news.append(News(recipient_id=owner_id, kind=Kind.ASSIGNED, text=text, url=url))
    return news
