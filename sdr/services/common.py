"""What the sdr service modules share: the refusal, the roles and team kinds that routing
deals with, and the timeline event they write."""

from datetime import datetime

from kit.errors import Refused
from leads.models import Lead, LeadEvent
from team.models import Role, Team

SDR_ROLES = (Role.INBOUND_SDR, Role.OUTBOUND_SDR)
SDR_TEAM_KINDS = (Team.Kind.INBOUND, Team.Kind.OUTBOUND)


class SdrError(Refused):
    """A change the lead's state or the user's role does not allow; the message is for the
    user."""


def lead_event(lead: Lead, kind: str, at: datetime, message: str, actor=None) -> LeadEvent:
    """An unsaved timeline event on ``lead`` (the callers insert them in one statement)."""
    return LeadEvent(lead_id=lead.pk, kind=kind, at=at, actor=actor, message=message[:500])
