"""The sdr app's forms: working a queue item (``queue``), a manager's reassignment
(``reassign``), the cadence control (``cadences``), the lead list's bulk actions (``bulk``)."""

from .bulk import ACTIONS, MAX_CHOSEN, BulkForm
from .cadences import EnrollForm
from .queue import NOTE_MAX, DispositionForm, FollowUpForm, TouchForm
from .reassign import ROUND_ROBIN, ReassignLeadForm, ReassignQueueForm, RepChoiceField

__all__ = [
    "ACTIONS",
    "MAX_CHOSEN",
    "NOTE_MAX",
    "ROUND_ROBIN",
    "BulkForm",
    "DispositionForm",
    "EnrollForm",
    "FollowUpForm",
    "ReassignLeadForm",
    "ReassignQueueForm",
    "RepChoiceField",
    "TouchForm",
]
