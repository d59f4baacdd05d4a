"""What every accounts service shares: the app's refusal, the acceptance SLA policy, the
pipeline's stages, and the lead's timeline entry for a handoff's moves."""

from datetime import datetime

from kit.errors import Refused
from leads.models import LeadEvent
from work.models import SlaPolicy

from ..models import (
    Stage,
)

ACCEPTANCE_POLICY = {"name": "Accept a handoff (1 business day)", "target_minutes": 8 * 60}


class AccountsError(Refused):
    """A move the opportunity's state or the user's role does not allow. ``field`` names the
    input at fault, when there is one, so forms and the API can put the message beside it."""


def acceptance_policy() -> SlaPolicy:
    """The acceptance SLA, created with its default if an admin removed it."""
    policy, _ = SlaPolicy.objects.get_or_create(key=SlaPolicy.ACCEPT_HANDOFF, defaults=ACCEPTANCE_POLICY)
    return policy


DEFAULT_STAGES = [
    ("Discovery", 10, Stage.Kind.OPEN, 10),
    ("Demo", 20, Stage.Kind.OPEN, 25),
    ("Proposal", 30, Stage.Kind.OPEN, 50),
    ("Negotiation", 40, Stage.Kind.OPEN, 75),
    ("Won", 90, Stage.Kind.WON, 100),
    ("Lost", 99, Stage.Kind.LOST, 0),
]


def ensure_default_stages() -> None:
    """The default pipeline (as the data migration creates it), when there is no stage."""
    if not Stage.objects.exists():
        Stage.objects.bulk_create(
            Stage(name=name, position=position, kind=kind, probability=probability)
            for name, position, kind, probability in DEFAULT_STAGES
        )


def first_stage() -> Stage:
    stage = Stage.objects.filter(is_active=True, kind=Stage.Kind.OPEN).order_by("position", "id").first()
    if stage is None:
        raise AccountsError("The pipeline has no open stage: ask an admin to add one.")
    return stage


def lead_event(lead_id: int, at: datetime, actor, message: str, kind: str = LeadEvent.Kind.HANDOFF) -> None:
    LeadEvent.objects.create(lead_id=lead_id, kind=kind, at=at, actor=actor, message=message[:500])
