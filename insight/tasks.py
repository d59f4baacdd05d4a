"""Insight's Celery tasks (thin: the work is in the modules they call)."""

from celery import shared_task

from . import answers, facts


def _run_and_rewarm(run) -> int:
    """``run`` (a facts run); when it writes, the statements the pages asked recently are
    answered for the new facts inside its transaction, before they are visible
    (``insight.answers.prepare``): from the commit on, the pages find the new answers ready,
    never a miss that makes a manager wait for a year of facts. What the budget left is
    answered after the commit (``rewarm``). Answers prepared for a run that then rolled back
    are dropped: its generation number will be used again."""
    prepared: list[str] = []
    try:
        written = run(before_commit=lambda generation: prepared.extend(answers.prepare(generation)))
    except BaseException:
        answers.forget(prepared)
        raise
    if written:
        answers.rewarm()
    return written


@shared_task(expires=50)
def refresh_facts() -> int:
    """Every minute (beat): the facts of the leads that changed since the last run, and the
    recent questions answered again for them (``_run_and_rewarm``)."""
    return _run_and_rewarm(facts.refresh)


@shared_task
def rebuild_facts() -> int:
    """Nightly (beat): every lead's fact, correcting whatever the incremental runs cannot see,
    and the recent questions answered again if anything changed."""
    return _run_and_rewarm(facts.rebuild)


@shared_task(expires=50 * 60)
def send_weekly_summaries() -> dict:
    """Hourly (beat, minute 5): the weekly summaries due in every time zone where Monday 08:00
    has come; each person's is claimed before it is sent, so re-runs and parallel workers send
    it once."""
    from . import summary

    return summary.send_due().as_dict()
