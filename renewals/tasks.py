"""Thin Celery tasks for account management."""

from celery import shared_task

from . import services


@shared_task(expires=6 * 3600)
def run_renewals() -> dict:
    return services.run_renewals().as_dict()
