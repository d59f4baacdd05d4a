"""What ``leads`` announces to the apps above it.

``sales_ready`` is sent inside the transaction that made leads sales-ready (a capture or an
activity promoted them to MQL, or they asked for a call), with ``lead_ids``. Routing lives in
``sdr``, which ``leads`` must not import; ``sdr`` connects its router here. Leads that cross
the threshold in the engagement sweep are routed by ``sdr``'s routing sweep instead, so the
decay sweep stays one statement per batch.
"""

from django.dispatch import Signal

sales_ready = Signal()

# Sent with ``lead_ids`` when prospects already in an SDR's queue ask for a call.
hand_raised = Signal()

# Sent by an import (``leads.services.run_import``) inside the batch's transaction with
# ``lead_ids`` (leads the file says are customers, now won) and ``job_id``. Accounts and
# contacts live above ``leads``; ``renewals`` connects its receiver here and makes them
# customer accounts with an AM.
customers_imported = Signal()

# Sent while an import is undone (``leads.services.undo_import``), inside its transaction,
# with ``job_id``, ``lead_ids`` (the leads it created that the undo is about to remove, still
# there) and ``since`` (when the import finished). ``renewals`` removes the customer accounts
# and contacts the import made for them that nobody touched since.
import_undone = Signal()
