"""Insight's Celery tasks (thin: the work is in the modules they call)."""

from celery import shared_task

from . import facts


@shared_task(expires=50)
def refresh_facts() -> int:
    """Every minute (beat): the facts of the leads that changed since the last run."""
    return facts.refresh()


@shared_task
def rebuild_facts() -> int:
    """Nightly (beat): every lead's fact, correcting whatever the incremental runs cannot see
    (a campaign's channel edited, fit scores recomputed in bulk, a change in the admin)."""
    return facts.rebuild()


@shared_task(expires=50 * 60)
def send_weekly_summaries() -> dict:
    """Hourly (beat, minute 5): the weekly summaries due in every time zone where Monday 08:00
    has come; each person's is claimed before it is sent, so re-runs and parallel workers send
    it once."""
    from . import summary

    return summary.send_due().as_dict()
