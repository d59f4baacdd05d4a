"""The sdr app's pages, a module per page:

    queue.py     an SDR's queue (and a manager's read-only look at a rep's)
    items.py     working one item of the queue: its panel, touch, follow-up, disposition
    rows.py      what a queue row shows (the SLA text other apps' pages use too)
    cadences.py  the cadence control (enroll, stop) on the queue, lead and target pages
    manage.py    a manager's team queues and the reassignment pages
    bulk.py      the lead list's bulk actions (assign, nurture, disqualify, enroll, export)

Other apps use ``sla_display`` and ``ItemLine`` (their work rows read as the queue's do);
``QUEUE_PAGE`` is the number of rows the queue page shows (the bench measures that page).
"""

from .queue import QUEUE_PAGE
from .rows import ItemLine, item_lines, sla_display

__all__ = ["QUEUE_PAGE", "ItemLine", "item_lines", "sla_display"]
