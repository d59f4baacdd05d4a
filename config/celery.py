"""The Celery app and its beat schedule.

Tasks are thin: they take ids, return early when the work is done, and call one service.
Periodic tasks are sweeps; each schedule entry carries an ``expires`` so a backlog of
missed runs never piles up behind a stalled worker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("refinery")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
