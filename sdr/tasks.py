"""Thin Celery tasks for sales development."""

from celery import shared_task

from . import services


@shared_task(expires=50)
def route_waiting_leads() -> dict:
    result = services.route_waiting_leads()
    return {
        "assigned": len(result.assigned),
        "unassigned": len(result.unassigned),
        "unmatched": len(result.unmatched),
    }


@shared_task(expires=240)
def enroll_nurture_leads() -> int:
    return services.cadences.enroll_nurture_leads()
