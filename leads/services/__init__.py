"""The public service API of ``leads``: every write on leads that another app, a view, a task,
the demo or a test calls is importable from here (``from leads.services import capture_lead``),
and nothing else is. The work is done in one module per feature:

- ``capture``: a person arriving becomes a lead or an activity on the known one; activities.
- ``lifecycle``: status moves, ratings, edits by hand.
- ``sweeps``: the engagement threshold sweep (MQL promotion and cooling).
- ``scoring``: the scoring configuration captures read, re-scoring after a profile or
  half-life change, and what an edit of the configuration by hand sets off.
- ``imports``: CSV and XLSX imports and resuming them; ``import_write`` writes a batch (merge
  policies, outcomes, links), ``import_undo`` undoes an import within its period.
- ``mapped_imports``: an import's mapping suggested, confirmed and queued; a dry run imported
  for real.
- ``saved_views``: the lead list's saved views (save, share, rename, update, delete).
- ``webform``: storing web-form posts and capturing them in a worker; forgetting an edited
  form.
- ``common``: what several of them share (the status vocabulary, what a status change writes).

Every function owns its transaction and writes the timeline event of what it changed in the
same transaction. State changes are compare-and-swap updates or happen under a row lock, so
two requests, two workers or two sweeps never both win.
"""

from .capture import Capture, CaptureResult, capture_lead, capture_many, log_activity
from .common import IN_SALES, InvalidTransition
from .import_undo import IMPORT_UNDO_PERIOD, ImportUndoRefused, UndoOffer, UndoResult, undo_import, undo_offer
from .imports import requeue_stalled_imports, run_import
from .lifecycle import set_rating, transition_lead, update_lead
from .mapped_imports import ImportOptions, confirm_import, import_for_real, suggested_mapping
from .saved_views import (
    SavedViewError,
    delete_view,
    edit_view,
    save_view,
    update_view_query,
    validated_query,
)
from .scoring import (
    HalfLifeChange,
    ScoringContext,
    activity_weights_changed,
    change_half_life,
    profile_changed,
    recompute_fit_scores,
    save_scoring_settings,
    scoring_changed,
)
from .sweeps import SweepResult, sweep_engagement_thresholds
from .webform import accept_submission, process_submissions, web_form_changed

__all__ = [
    "IMPORT_UNDO_PERIOD",
    "IN_SALES",
    "Capture",
    "CaptureResult",
    "HalfLifeChange",
    "ImportOptions",
    "ImportUndoRefused",
    "InvalidTransition",
    "SavedViewError",
    "ScoringContext",
    "SweepResult",
    "UndoOffer",
    "UndoResult",
    "accept_submission",
    "activity_weights_changed",
    "capture_lead",
    "capture_many",
    "change_half_life",
    "confirm_import",
    "delete_view",
    "edit_view",
    "import_for_real",
    "log_activity",
    "process_submissions",
    "profile_changed",
    "recompute_fit_scores",
    "requeue_stalled_imports",
    "run_import",
    "save_scoring_settings",
    "save_view",
    "scoring_changed",
    "set_rating",
    "suggested_mapping",
    "sweep_engagement_thresholds",
    "transition_lead",
    "undo_import",
    "undo_offer",
    "update_lead",
    "update_view_query",
    "validated_query",
    "web_form_changed",
]
