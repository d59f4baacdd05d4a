"""Sending a Celery task from a page or a service without failing on a broker outage."""

import logging

from kombu.exceptions import OperationalError

from .cache import REDIS_DOWN

logger = logging.getLogger(__name__)


def send(task, *args) -> bool:
    """Send ``task``; False when the broker is unreachable, so the caller can say what waits
    (a beat sweep picks the work up) instead of answering 500 after its change was saved."""
    try:
        task.delay(*args)
    except (OperationalError, *REDIS_DOWN) as exc:
        logger.warning("Broker unavailable; %s was not sent: %s", task.name, exc)
        return False
    return True
