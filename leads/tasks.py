"""Thin Celery tasks: take ids, call one service, safe to run twice."""

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone
from kombu.exceptions import OperationalError

from kit.broker import send
from kit.cache import REDIS_DOWN, Outage

from . import services
from .models import ImportJob

logger = logging.getLogger(__name__)
STALLED_AFTER = timedelta(minutes=2)


def enqueue_import(job_id: int) -> None:
    """Queue an import after its job row is committed. A broker outage must not fail the
    upload: the job row stays queued and ``resume_queued_imports`` picks it up."""
    if not send(run_import, job_id):
        logger.warning("Import %s stays queued for the next resume sweep", job_id)


@shared_task(acks_late=True)
def run_import(job_id: int) -> None:
    services.run_import(job_id=job_id)


@shared_task(expires=240)
def sweep_engagement_thresholds() -> dict:
    result = services.sweep_engagement_thresholds()
    return {"promoted": result.promoted, "cooled": result.cooled}


@shared_task
def recompute_fit_scores() -> int:
    return services.recompute_fit_scores()


@shared_task
def change_half_life(new_half_life_days: float) -> int:
    return services.change_half_life(new_half_life_days=new_half_life_days)


@shared_task(expires=50)
def resume_queued_imports() -> int:
    """Re-send imports still queued a while after upload (lost message, broker outage) or put
    back in the queue because their worker died. ``run_import`` claims a job with a
    compare-and-swap, so a duplicate send imports once."""
    services.requeue_stalled_imports()
    cutoff = timezone.now() - STALLED_AFTER
    ids = list(
        ImportJob.objects.filter(state=ImportJob.State.QUEUED, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:100]
    )
    for job_id in ids:
        run_import.delay(job_id)
    return len(ids)


@shared_task(expires=60)
def process_submissions() -> int:
    return services.process_submissions()


_broker_outage = Outage("web-form drain", retry_after=30.0)


def request_submission_drain(*, countdown: int) -> None:
    """Send the drain task; with the broker down, the beat sweep drains instead. The
    submission is already stored: a failed send costs the post nothing but the broker's short
    connection timeout (settings), and after one failure this process stops trying for a
    while, so posts during an outage do not each wait for it."""
    if _broker_outage.down:
        return
    try:
        process_submissions.apply_async(countdown=countdown)
    except (OperationalError, *REDIS_DOWN) as exc:
        _broker_outage.failed(exc)
        logger.warning("Broker unavailable; web-form submissions wait for the beat sweep")
