"""Serializers of the SDR API, a module per feature:

- ``items``: a work item, and a lead after a change (where it stands, its open items);
- ``queue``: a queue's items and their leads, and the query that asks for a queue;
- ``touches``: the bodies of touches, follow-ups and dispositions, and their answers;
- ``reassignment``: a manager's reassignments of a lead or a rep's queue, and their answers;
- ``cadences``: the cadences, a lead's enrollment, the body that enrolls a lead;
- ``common``: the scoring clock of a response, and a time field that refuses naive times.

The names below are what the API views (and other apps: ``accounts`` reuses the work item
serializer and the time field) import from here.
"""

from .cadences import (
    CadenceSerializer,
    CadenceStepSerializer,
    EnrollmentResultSerializer,
    EnrollmentSerializer,
    EnrollSerializer,
)
from .common import AwareDateTimeField, scoring_clock
from .items import LeadStateSerializer, WorkItemSerializer
from .queue import (
    QueueItemSerializer,
    QueueLeadSerializer,
    QueueQuerySerializer,
    QueueSerializer,
    RepSerializer,
)
from .reassignment import (
    LeadReassignResultSerializer,
    LeadReassignSerializer,
    MovedLeadSerializer,
    QueueReassignResultSerializer,
    QueueReassignSerializer,
    RepField,
    RepShareSerializer,
)
from .touches import (
    ALL_REASONS,
    DISPOSITION_CHOICES,
    TOUCH_CHOICES,
    DispositionResultSerializer,
    DispositionSerializer,
    FollowUpResultSerializer,
    FollowUpSerializer,
    TouchActivitySerializer,
    TouchResultSerializer,
    TouchSerializer,
)

__all__ = [
    "ALL_REASONS",
    "DISPOSITION_CHOICES",
    "TOUCH_CHOICES",
    "AwareDateTimeField",
    "CadenceSerializer",
    "CadenceStepSerializer",
    "DispositionResultSerializer",
    "DispositionSerializer",
    "EnrollSerializer",
    "EnrollmentResultSerializer",
    "EnrollmentSerializer",
    "FollowUpResultSerializer",
    "FollowUpSerializer",
    "LeadReassignResultSerializer",
    "LeadReassignSerializer",
    "LeadStateSerializer",
    "MovedLeadSerializer",
    "QueueItemSerializer",
    "QueueLeadSerializer",
    "QueueQuerySerializer",
    "QueueReassignResultSerializer",
    "QueueReassignSerializer",
    "QueueSerializer",
    "RepField",
    "RepSerializer",
    "RepShareSerializer",
    "TouchActivitySerializer",
    "TouchResultSerializer",
    "TouchSerializer",
    "WorkItemSerializer",
    "scoring_clock",
]
