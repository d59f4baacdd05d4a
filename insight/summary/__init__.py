"""The weekly summary: every Monday at 08:00 in a person's team time zone, one email about the
week that just ended (Monday to Sunday, local), whose first five lines tell the week for their
role; the details follow, with links. The same summary is shown in the browser
(``/insight/summary/``).

The numbers come from the insight modules the pages use (``funnel``, ``speed``, ``money``,
``retention``, ``health``) over a ``Scope`` for that person and that week, so the email says
what the pages say. A few numbers no page section owns (what waits in a queue or an inbox, a
manager's breaches, an AE's pipeline moved, an AM's renewals due) are counted here, in SQL.

Exactly once: before sending, the run claims a ``WeeklySummary`` row per person and week with
``INSERT .. ON CONFLICT DO NOTHING RETURNING`` (unique per person and week), and only the
claimer sends; the row is then marked sent, or failed with the reason (a failed send is tried
again by the next hourly run while the week is still fresh). Two workers, or a run repeated
every hour, send each person one email a week.

This package's public API; the work is cut by concern:

- ``schedule``: who gets a summary, whether they want it, and which week is due when;
- ``rendering``: what a summary is (five lines, then sections), its text, HTML and email;
- ``roles``: the lines and sections of each role's week, from the insight modules;
- ``sending``: the hourly run, claiming each person's week once before sending it.
"""

from .rendering import Line, Row, Section, Summary, message, money
from .roles import DETAIL_ROWS, build
from .schedule import ROLES, SEND_AT, SEND_WITHIN, due_week, last_week, receives, set_preference, wants
from .sending import CLAIM_BATCH, SummaryRun, send_due

__all__ = [
    "CLAIM_BATCH",
    "DETAIL_ROWS",
    "ROLES",
    "SEND_AT",
    "SEND_WITHIN",
    "Line",
    "Row",
    "Section",
    "Summary",
    "SummaryRun",
    "build",
    "due_week",
    "last_week",
    "message",
    "money",
    "receives",
    "send_due",
    "set_preference",
    "wants",
]
