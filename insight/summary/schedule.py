"""Who gets a weekly summary, and when: the roles that receive one, each person's choice to
leave the email on or off, and the week that is due at a moment in a time zone (from Monday
08:00 local, for two days)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from team.models import Role, User

from ..models import SummaryPreference

SEND_AT = time(8)
# A run missed on Monday (the beat was down) still sends on Tuesday; later than that the week
# is old news, and someone who joined mid-week does not get the week before they came.
SEND_WITHIN = timedelta(days=2)

# Who gets a summary: every role that works in Refinery; not the integration service account.
ROLES = (Role.MANAGER, Role.INBOUND_SDR, Role.OUTBOUND_SDR, Role.AE, Role.AM, Role.MARKETING)


def last_week(now: datetime, tz: ZoneInfo) -> date:
    """The Monday of the last full week (Monday to Sunday, local) before ``now``."""
    today = now.astimezone(tz).date()
    return today - timedelta(days=today.weekday() + 7)


def due_week(now: datetime, tz: ZoneInfo) -> date | None:
    """The Monday of the week whose summary is due at ``now`` in ``tz``: from Monday 08:00
    local for ``SEND_WITHIN``; None outside that window (before 08:00 nothing is due)."""
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    send_at = datetime.combine(monday, SEND_AT, tzinfo=tz)
    if send_at <= now < send_at + SEND_WITHIN:
        return monday - timedelta(days=7)
    return None


def receives(user) -> bool:
    """Whether ``user`` has a weekly summary at all (their role; active)."""
    return user.is_authenticated and user.is_active and user.role in ROLES


def wants(user) -> bool:
    """Whether ``user`` has left the weekly email on (the default)."""
    return not SummaryPreference.objects.filter(user=user, weekly_summary=False).exists()


def set_preference(*, user: User, on: bool) -> SummaryPreference:
    """Turn ``user``'s weekly email on or off."""
    preference, _ = SummaryPreference.objects.update_or_create(user=user, defaults={"weekly_summary": on})
    return preference
