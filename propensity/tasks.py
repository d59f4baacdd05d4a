"""Thin Celery tasks: the nightly training."""

from celery import shared_task

from . import services


@shared_task(name="propensity.tasks.train_models")
def train_models() -> list[int]:
    """Retrain every target on the closed history (beat, nightly); returns the versions' ids."""
    return [v.pk for v in services.train_all()]
