"""What the apps above ``work`` tell it about their subjects.

``work`` sweeps timers for every kind of subject but cannot know what reassigning a lead (or,
later, a handoff) means. The app that owns a subject registers a reassigner in its
``AppConfig.ready``; the sweep calls it with the items due for reassignment. An explicit
registry rather than a signal: there is exactly one handler per subject model, and a missing
one is visible (the item is left alone and logged).
"""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from .models import WorkItem

# reassigner(items) -> ids of the items it moved to someone else. Called inside the sweep's
# transaction with the work items locked; it must write the new owner and the subject's timeline.
Reassigner = Callable[[Sequence["WorkItem"]], set[int]]

_reassigners: dict[type[models.Model], Reassigner] = {}


def register_reassigner(model: type[models.Model], reassigner: Reassigner) -> None:
    _reassigners[model] = reassigner


def reassigner_for(model: type[models.Model] | None) -> Reassigner | None:
    """The reassigner of ``model``; none for a content type whose model is gone (``None``)."""
    return _reassigners.get(model) if model is not None else None
