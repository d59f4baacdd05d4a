"""The suppression list: addresses that unsubscribed or bounce are never emailed again, by
anyone, on any path. ``refuse_suppressed`` is called by the one send service when an email is
scheduled and again when it is claimed for sending (an unsubscribe in between wins)."""

from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from kit.display import day_text
from leads.models import ActivitySource, Lead, LeadEvent

from ..models import Message, Suppression
from .common import MailError, normalize


def suppressed(addresses: Iterable[str]) -> dict[str, Suppression]:
    """The suppression rows of these addresses, by normalised address (one query)."""
    wanted = {normalize(a) for a in addresses if a}
    if not wanted:
        return {}
    return {row.address: row for row in Suppression.objects.filter(address__in=wanted)}


def refusal(row: Suppression) -> str:
    when = day_text(row.at)
    if row.reason == Suppression.Reason.UNSUBSCRIBED:
        return f"{row.address} unsubscribed on {when}; nobody emails it again."
    if row.reason == Suppression.Reason.BOUNCED:
        return f"{row.address} bounces (since {when}); nobody emails it again until it is removed from the suppression list."
    return f"{row.address} is on the suppression list (since {when})."


def refuse_suppressed(address: str) -> None:
    row = suppressed([address]).get(normalize(address))
    if row is not None:
        raise MailError(refusal(row), field="to")


def suppress(
    *,
    address: str,
    reason: str,
    detail: str = "",
    message: Message | None = None,
    by=None,
    now: datetime | None = None,
) -> tuple[Suppression, bool]:
    """Put ``address`` on the list (once: a second unsubscribe or bounce changes nothing) and
    cancel every email still scheduled to it. Returns the row and whether it is new."""
    address = normalize(address)
    now = now or timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = Suppression.objects.create(
                    address=address,
                    reason=reason,
                    detail=detail[:500],
                    message=message,
                    created_by=by,
                    at=now,
                )
        except IntegrityError:
            return Suppression.objects.get(address=address), False
        Message.objects.filter(
            direction=Message.Direction.OUT, status=Message.Status.SCHEDULED, to_address__iexact=address
        ).update(status=Message.Status.CANCELLED, error=refusal(row)[:500])
    return row, True


def remove(*, address: str, by=None, now: datetime | None = None) -> int:
    """Take an address off the list (a manager who knows it works again); the timeline of
    every lead with that address says who did, and when."""
    address = normalize(address)
    now = now or timezone.now()
    with transaction.atomic():
        deleted, _ = Suppression.objects.filter(address=address).delete()
        if deleted:
            LeadEvent.objects.bulk_create(
                LeadEvent(
                    lead_id=pk,
                    kind=LeadEvent.Kind.UPDATED,
                    at=now,
                    actor=by,
                    via=ActivitySource.MANUAL,
                    message=f"{address} taken off the suppression list: it may be emailed again.",
                )
                for pk in Lead.objects.filter(email=address).values_list("pk", flat=True)
            )
    return deleted
