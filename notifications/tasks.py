"""Thin Celery tasks for notifications."""

from celery import shared_task

from . import services


@shared_task(expires=50)
def send_notification_emails() -> int:
    return services.send_pending_emails()
