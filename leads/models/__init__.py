"""The models of inbound qualification, a module per concern: campaigns and their web forms
(``campaigns``), leads with their activities and timeline (``leads``), what scoring measures
against (``scoring_settings``), CSV imports (``imports``), the lead list's saved views
(``saved_views``) and the choices they share (``choices``). Import them from here; the migrations name ``leads.models.new_form_key`` and
``leads.models.import_upload_path``."""

from .campaigns import Campaign, WebForm, WebSubmission, new_form_key
from .choices import (
    CAPTURABLE_ACTIVITIES,
    NUMERIC_FIT_FIELDS,
    TOUCH_KINDS,
    TOUCH_SOURCES,
    ActivityKind,
    ActivitySource,
    Channel,
    FitField,
    Seniority,
    TouchOutcome,
)
from .imports import ImportJob, ImportMapping, ImportRowError, LeadImport, import_upload_path
from .leads import NO_ENGAGEMENT, Activity, Lead, LeadEvent, LeadQuerySet, LeadRedirect, Tag
from .saved_views import SavedView, SavedViewQuerySet
from .scoring_settings import (
    DEFAULT_ACTIVITY_POINTS,
    ActivityWeight,
    FitCriterion,
    IdealCustomerProfile,
    ScoringSettings,
)

__all__ = [
    "CAPTURABLE_ACTIVITIES",
    "DEFAULT_ACTIVITY_POINTS",
    "NO_ENGAGEMENT",
    "NUMERIC_FIT_FIELDS",
    "TOUCH_KINDS",
    "TOUCH_SOURCES",
    "Activity",
    "ActivityKind",
    "ActivitySource",
    "ActivityWeight",
    "Campaign",
    "Channel",
    "FitCriterion",
    "FitField",
    "IdealCustomerProfile",
    "ImportJob",
    "ImportMapping",
    "ImportRowError",
    "Lead",
    "LeadEvent",
    "LeadImport",
    "LeadQuerySet",
    "LeadRedirect",
    "SavedView",
    "SavedViewQuerySet",
    "ScoringSettings",
    "Seniority",
    "Tag",
    "TouchOutcome",
    "WebForm",
    "WebSubmission",
    "import_upload_path",
    "new_form_key",
]
