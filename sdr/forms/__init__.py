"""The sdr app's forms: working a queue item (``queue``), a manager's reassignment
(``reassign``), the cadence control (``cadences``)."""

from .cadences import EnrollForm
from .queue import NOTE_MAX, DispositionForm, FollowUpForm, TouchForm
from .reassign import ROUND_ROBIN, ReassignLeadForm, ReassignQueueForm, RepChoiceField

__all__ = [
    "NOTE_MAX",
    "ROUND_ROBIN",
    "DispositionForm",
    "EnrollForm",
    "FollowUpForm",
    "ReassignLeadForm",
    "ReassignQueueForm",
    "RepChoiceField",
    "TouchForm",
]
