"""Thin Celery tasks: the search vocabulary's refresh and nightly rebuild (``search.vocabulary``)."""

from celery import shared_task

from . import vocabulary


@shared_task
def refresh_vocabulary() -> int:
    return vocabulary.refresh()


@shared_task
def rebuild_vocabulary() -> int:
    return vocabulary.rebuild()
