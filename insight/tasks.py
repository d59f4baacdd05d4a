"""Insight's Celery tasks (thin: the work is in the modules they call)."""

from celery import shared_task

from . import answers, facts


@shared_task(expires=50)
def refresh_facts() -> int:
    """Every minute (beat): the facts of the leads that changed since the last run; when any
    changed, the statements the pages asked recently are answered again for the new facts
    (``insight.answers.rewarm``), so the next page view finds them ready."""
    written = facts.refresh()
    if written:
        answers.rewarm()
    return written


@shared_task
def rebuild_facts() -> int:
    """Nightly (beat): every lead's fact, correcting whatever the incremental runs cannot see,
    then the statements asked recently answered again if anything changed."""
    written = facts.rebuild()
    if written:
        answers.rewarm()
    return written


@shared_task(expires=50 * 60)
def send_weekly_summaries() -> dict:
    """Hourly (beat, minute 5): the weekly summaries due in every time zone where Monday 08:00
    has come; each person's is claimed before it is sent, so re-runs and parallel workers send
    it once."""
    from . import summary

    return summary.send_due().as_dict()
