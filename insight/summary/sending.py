"""Sending, exactly once: the hourly run claims a ``WeeklySummary`` row per person and week
(``INSERT .. ON CONFLICT DO NOTHING RETURNING``, unique per person and week) before it builds
and sends that person's email; only the claimer sends. The row is then marked sent, or failed
with the reason, and a failed send is taken back (a conditional UPDATE) by the next run while
the week is still fresh."""

import logging
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.core.mail import get_connection
from django.db import connection
from django.utils import timezone

from team.models import BusinessCalendar, Team, User

from ..models import SummaryPreference, WeeklySummary
from .rendering import message
from .roles import build
from .schedule import ROLES, due_week

logger = logging.getLogger(__name__)

CLAIM_BATCH = 100


@dataclass
class SummaryRun:
    claimed: int = 0
    sent: int = 0
    failed: int = 0

    def as_dict(self) -> dict:
        return {"claimed": self.claimed, "sent": self.sent, "failed": self.failed}


_T_USER = User._meta.db_table
_T_TEAM = Team._meta.db_table
_T_CALENDAR = BusinessCalendar._meta.db_table
_T_PREFERENCE = SummaryPreference._meta.db_table
_T_SUMMARY = WeeklySummary._meta.db_table

# The people of one time zone who get a summary: active, with a role, an address, not opted
# out. Users without a team count as UTC.
_RECIPIENTS_SQL = f"""
SELECT u.id FROM {_T_USER} AS u
LEFT JOIN {_T_TEAM} AS t ON t.id = u.team_id
LEFT JOIN {_T_CALENDAR} AS cal ON cal.id = t.calendar_id
WHERE u.is_active = %(yes)s AND u.role IN ({", ".join(f"%(role{i})s" for i in range(len(ROLES)))})
  AND u.email <> '' AND COALESCE(cal.timezone, 'UTC') = %(zone)s
  AND NOT EXISTS (
    SELECT 1 FROM {_T_PREFERENCE} AS p WHERE p.user_id = u.id AND p.weekly_summary = %(no)s
  )
"""

# Claim a batch: insert the rows; only the rows this statement inserted come back, so two
# runs at once never both send. The same SQL on PostgreSQL and SQLite (3.35+).
_CLAIM_SQL = f"""
INSERT INTO {_T_SUMMARY} (user_id, week, state, claimed_at, subject, failure)
SELECT r.id, %(week)s, 'claimed', %(now)s, '', '' FROM ({_RECIPIENTS_SQL}) AS r
WHERE NOT EXISTS (SELECT 1 FROM {_T_SUMMARY} AS s WHERE s.user_id = r.id AND s.week = %(week)s)
ORDER BY r.id
LIMIT %(limit)s
ON CONFLICT (user_id, week) DO NOTHING
RETURNING user_id
"""

# Take back the failed sends of the week (a conditional UPDATE: one run wins each row).
_RECLAIM_SQL = f"""
UPDATE {_T_SUMMARY} SET state = 'claimed', claimed_at = %(now)s, failure = ''
WHERE week = %(week)s AND state = 'failed' AND user_id IN ({_RECIPIENTS_SQL})
RETURNING user_id
"""


def _params(zone: str, week: date, now: datetime, limit: int = CLAIM_BATCH) -> dict:
    params = {"zone": zone, "week": week, "now": now, "limit": limit, "yes": True, "no": False}
    params.update({f"role{i}": role.value for i, role in enumerate(ROLES)})
    return params


def _claim(zone: str, week: date, now: datetime, limit: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, _params(zone, week, now, limit))
        return [row[0] for row in cursor.fetchall()]


def _reclaim_failed(zone: str, week: date, now: datetime) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(_RECLAIM_SQL, _params(zone, week, now))
        return [row[0] for row in cursor.fetchall()]


def _zones() -> list[str]:
    """Every time zone a team works in, and UTC (people without a team)."""
    zones = set(BusinessCalendar.objects.filter(teams__isnull=False).values_list("timezone", flat=True))
    return sorted(zones | {"UTC"})


def _finish(user_id: int, week: date, *, subject: str = "", failure: str = "") -> None:
    rows = WeeklySummary.objects.filter(user_id=user_id, week=week, state=WeeklySummary.State.CLAIMED)
    if failure:
        rows.update(state=WeeklySummary.State.FAILED, failure=failure[:500])
    else:
        rows.update(state=WeeklySummary.State.SENT, sent_at=timezone.now(), subject=subject[:200])


def _send(user_ids: list[int], week: date, now: datetime, run: SummaryRun) -> None:
    """Build and send the claimed summaries, marking each sent or failed with the reason."""
    users = list(User.objects.filter(pk__in=user_ids).select_related("team__calendar").order_by("pk"))
    run.claimed += len(users)
    try:
        mail_connection = get_connection(fail_silently=False)
        mail_connection.open()
    except Exception as exc:
        logger.exception("The mail server refused the weekly summaries of %d people", len(users))
        for user in users:
            _finish(user.pk, week, failure=f"Mail server: {exc}")
        run.failed += len(users)
        return
    try:
        for user in users:
            try:
                email = message(build(user, week, now=now))
                mail_connection.send_messages([email])
            except Exception as exc:
                logger.exception("Weekly summary of user %s for %s not sent", user.pk, week)
                _finish(user.pk, week, failure=f"{type(exc).__name__}: {exc}")
                run.failed += 1
            else:
                _finish(user.pk, week, subject=email.subject)  # type: ignore[arg-type]  # the str the summary set
                run.sent += 1
    finally:
        mail_connection.close()


def send_due(*, now: datetime | None = None, batch_size: int = CLAIM_BATCH) -> SummaryRun:
    """The hourly task: in every time zone where Monday 08:00 has come (and the week is still
    fresh), claim and send the summary of the week that ended to each person who has not had
    it. Safe to run as often as you like and on several workers at once."""
    now = now or timezone.now()
    run = SummaryRun()
    for zone in _zones():
        week = due_week(now, ZoneInfo(zone))
        if week is None:
            continue
        retry = _reclaim_failed(zone, week, now)
        if retry:
            _send(retry, week, now, run)
        while claimed := _claim(zone, week, now, batch_size):
            _send(claimed, week, now, run)
    return run
