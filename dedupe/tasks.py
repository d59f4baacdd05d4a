"""Thin Celery tasks: the person finder's stored keys kept current (``dedupe.keys``)."""

from celery import shared_task

from . import people


@shared_task
def refresh_keys() -> int:
    return people.refresh().changed


@shared_task
def rebuild_keys() -> int:
    return people.refresh(full=True).changed
