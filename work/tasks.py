"""Thin Celery tasks for work items."""

from celery import shared_task

from . import services


@shared_task(expires=50)
def sweep_breaches() -> dict:
    result = services.sweep_breaches()
    return {"breached": result.breached, "escalated": result.escalated, "reassigned": result.reassigned}


@shared_task(expires=50)
def warn_sla_timers() -> int:
    return services.warn_due_timers()
