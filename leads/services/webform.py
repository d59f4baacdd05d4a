"""Web-form intake: a post is stored with one INSERT on the request path, and workers capture
the stored submissions in claimed batches (``capture_many``). A form edited by hand is
forgotten by the process's lookup cache (``web_form_changed``)."""

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from ..models import ActivitySource, WebForm, WebSubmission
from .capture import Capture, capture_many
from .scoring import ScoringContext

logger = logging.getLogger(__name__)
DRAIN_DELAY_SECONDS = 1
_last_drain_request = [float("-inf")]


def accept_submission(
    *, web_form: WebForm, email: str, details: Mapping[str, Any], hand_raiser: bool, note: str
) -> None:
    """Store a validated web-form submission and make sure a worker captures it shortly.

    One INSERT on the request path. Each web process sends at most one drain task a second,
    whatever the traffic: a drain captures everything pending, and a beat sweep picks up
    anything a lost message or a broker outage left behind.
    """
    # The hottest public path: one parameterized INSERT, without the ORM's per-call overhead.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {WebSubmission._meta.db_table}"
            " (web_form_id, received_at, email, details, hand_raiser, note, failure)"
            " VALUES (%s, %s, %s, %s, %s, %s, '')",
            [web_form.pk, timezone.now(), email, json.dumps(dict(details)), hand_raiser, note],
        )
    if time.monotonic() - _last_drain_request[0] >= DRAIN_DELAY_SECONDS:
        _last_drain_request[0] = time.monotonic()
        from ..tasks import request_submission_drain

        request_submission_drain(countdown=DRAIN_DELAY_SECONDS)


def web_form_changed(*, web_form: WebForm) -> None:
    """A web form was saved or deleted: call it inside that transaction. Once it commits, this
    process forgets its cached copy (``WebForm.active``), so a form switched off here stops
    taking posts at once; other processes follow within ``WebForm.CACHE_SECONDS``."""
    transaction.on_commit(web_form.forget_cached)


def process_submissions(*, batch_size: int = 200, context: ScoringContext | None = None) -> int:
    """Capture every pending web-form submission, oldest first, a batch at a time through
    ``capture_many``. Batches are claimed with SKIP LOCKED, so two workers never capture one
    submission twice. A captured submission is deleted: the lead, its activity and its timeline
    now hold it. A batch that fails is captured one by one, so a bad submission stays, marked
    with its reason, and never blocks the ones behind it. Returns how many were handled."""
    context = context or ScoringContext.load()
    handled = 0
    while True:
        with transaction.atomic():
            batch = list(
                WebSubmission.objects.filter(processed_at__isnull=True)
                .select_related("web_form__campaign")
                .order_by("id")
                .select_for_update(skip_locked=True, of=("self",))[:batch_size]
            )
            failed = []
            try:
                with transaction.atomic():
                    capture_many([_submission_capture(s) for s in batch], context=context)
            except Exception:  # find the bad one(s): capture each on its own
                for submission in batch:
                    try:
                        with transaction.atomic():
                            capture_many([_submission_capture(submission)], context=context)
                    except Exception as exc:
                        logger.exception("Web-form submission %s could not be captured", submission.pk)
                        submission.failure = f"{type(exc).__name__}: {exc}"[:500]
                        submission.processed_at = timezone.now()
                        failed.append(submission)
            WebSubmission.objects.filter(pk__in=[s.pk for s in batch if s not in failed]).delete()
            if failed:
                WebSubmission.objects.bulk_update(failed, ["failure", "processed_at"])
        handled += len(batch)
        if len(batch) < batch_size:
            return handled


def _submission_capture(submission: WebSubmission) -> Capture:
    return Capture(
        email=submission.email,
        details=submission.details,
        via=ActivitySource.WEB_FORM,
        campaign=submission.web_form.campaign,
        activity_kind=submission.web_form.activity_kind,
        hand_raiser=submission.hand_raiser,
        note=submission.note,
        at=submission.received_at,
    )
