"""Sending emails that were claimed in the database first (marked sent, committed): one by one
over one connection, and on a refusal (the mail server down, say) the unsent ones given back so
the next run sends them. The SLA escalations and the notification emails share it."""

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.core.mail import EmailMessage, get_connection

logger = logging.getLogger(__name__)

Claim = TypeVar("Claim")


def send_claimed(
    pairs: Sequence[tuple[Claim, EmailMessage]], *, give_back: Callable[[list[Claim]], object], what: str
) -> int:
    """Send each claimed email; on a refusal call ``give_back`` with the claims not sent (that
    one and the rest) and log it as ``what``. Returns how many were sent."""
    done = 0
    if not pairs:
        return 0
    try:
        with get_connection(fail_silently=False) as connection:
            for _, message in pairs:
                connection.send_messages([message])
                done += 1
    except Exception:
        unsent = [claim for claim, _ in pairs[done:]]
        give_back(unsent)
        logger.exception("%d %s not sent; the next run retries them", len(unsent), what)
    return done
