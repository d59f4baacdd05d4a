"""The logged-work section the opportunity, account and contract pages share: the newest
calls, meetings and notes (who, when in the viewer's zone, what), where each was logged, and
the form for whoever may log there."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ..models import Activity

# A timeline shows the newest entries; older ones are rarely read and would only weigh the page.
WORK_LOG_LIMIT = 50


@dataclass(frozen=True)
class WorkEntry:
    """One logged call, meeting or note, with where it was logged (on the account page: an
    opportunity or a contract, linked when the viewer may open it) and whether it counted as
    the renewal conversation."""

    activity: Activity
    place: str = ""
    url: str = ""
    conversation: bool = False


@dataclass
class WorkLog:
    """The section: its entries (newest first, at most ``limit``), whether there are more,
    the zone the times are shown in, and the form (None for a reader who may not log)."""

    entries: Sequence[WorkEntry]
    more: bool
    zone: ZoneInfo
    post_url: str
    form: object = None
    notice: str = ""
    limit: int = WORK_LOG_LIMIT
    # What the form's htmx answer replaces: the section, or a page's panel that shows what a
    # logged call changed besides (the contract's renewal work).
    target: str = "#work-log"


def newest(rows: Iterable, limit: int = WORK_LOG_LIMIT) -> tuple[list, bool]:
    """The first ``limit`` of ``limit + 1`` rows read, and whether there were more."""
    rows = list(rows)
    return rows[:limit], len(rows) > limit
