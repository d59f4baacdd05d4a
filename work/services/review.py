"""The breach review's one write: a manager acknowledges a breach, once, saying what was done.
``WorkError`` is the app's refusal (a ``kit.errors.Refused``)."""

from django.utils import timezone

from kit.errors import Refused

from ..models import Breach


class WorkError(Refused):
    """A change the current state does not allow; the message says why, for the user."""


def acknowledge_breach(*, breach_id: int, by, note: str = "") -> Breach:
    """A manager has seen the breach and says what was done; once only."""
    now = timezone.now()
    updated = Breach.objects.filter(pk=breach_id, acknowledged_at__isnull=True).update(
        acknowledged_at=now, acknowledged_by=by, note=note.strip()[:2000]
    )
    breach = Breach.objects.select_related("acknowledged_by").get(pk=breach_id)
    if not updated:
        raise WorkError(f"This breach was already acknowledged by {breach.acknowledged_by or 'someone'}.")
    return breach
