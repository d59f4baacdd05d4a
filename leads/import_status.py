"""What an imported row becomes, from what the source system said about it.

A source says it twice: a status (Salesforce "Lead Status", HubSpot "Lead Status") and, in
HubSpot, a lifecycle stage. An import's ``status_map`` maps each value the file holds to an
``ImportJob.Outcome``, keyed ``"status:<value>"`` and ``"stage:<value>"`` (the values as
written, so the mapping screen can show them). The defaults below are what Salesforce and
HubSpot mean by their standard values; an unknown value defaults to nurture.

A row's outcome: a stage that says customer or open opportunity wins (nothing a source marked
as a customer is put in a marketing flow); then a status that says something other than
nurture (closed, unqualified, working); then the stage; else nurture. Pure and free of
database access.
"""

from collections.abc import Iterable

from .models.imports import ImportJob

Outcome = ImportJob.Outcome

# Lower-cased, with "_" and "-" read as spaces and runs of spaces folded.
_STATUS_DEFAULTS = {
    # Salesforce's standard lead statuses
    "open not contacted": Outcome.NURTURE,
    "working contacted": Outcome.MQL,
    "closed converted": Outcome.CUSTOMER,
    "closed not converted": Outcome.DISQUALIFIED,
    # HubSpot's lead statuses
    "new": Outcome.NURTURE,
    "open": Outcome.NURTURE,
    "in progress": Outcome.MQL,
    "open deal": Outcome.REVIEW,
    "attempted to contact": Outcome.MQL,
    "connected": Outcome.MQL,
    "bad timing": Outcome.NURTURE,
    "unqualified": Outcome.DISQUALIFIED,
}
_STAGE_DEFAULTS = {
    # HubSpot's lifecycle stages
    "subscriber": Outcome.NURTURE,
    "lead": Outcome.NURTURE,
    "marketingqualifiedlead": Outcome.MQL,
    "marketing qualified lead": Outcome.MQL,
    "salesqualifiedlead": Outcome.MQL,
    "sales qualified lead": Outcome.MQL,
    "opportunity": Outcome.REVIEW,
    "customer": Outcome.CUSTOMER,
    "evangelist": Outcome.CUSTOMER,
    "other": Outcome.NURTURE,
}
_WINNING_STAGE_OUTCOMES = {Outcome.CUSTOMER, Outcome.REVIEW}


def _fold(value: str) -> str:
    return " ".join(value.replace("_", " ").replace("-", " ").lower().split())


def status_key(value: str) -> str:
    return f"status:{value}"


def stage_key(value: str) -> str:
    return f"stage:{value}"


def default_status_outcome(value: str) -> str:
    return str(_STATUS_DEFAULTS.get(_fold(value), Outcome.NURTURE))


def default_stage_outcome(value: str) -> str:
    return str(_STAGE_DEFAULTS.get(_fold(value), Outcome.NURTURE))


def default_status_map(statuses: Iterable[str], stages: Iterable[str] = ()) -> dict[str, str]:
    """The proposed ``status_map`` for a file holding these (non-empty) status and stage values."""
    proposed = {status_key(value): default_status_outcome(value) for value in statuses if value}
    proposed |= {stage_key(value): default_stage_outcome(value) for value in stages if value}
    return proposed


def resolve_outcome(status_map: dict[str, str], status: str, stage: str = "") -> str:
    """One row's outcome (an ``ImportJob.Outcome`` value) under an import's ``status_map``;
    values the map lacks take their defaults."""
    by_stage = (status_map.get(stage_key(stage)) or default_stage_outcome(stage)) if stage else ""
    by_status = (status_map.get(status_key(status)) or default_status_outcome(status)) if status else ""
    if by_stage in _WINNING_STAGE_OUTCOMES:
        return by_stage
    if by_status and by_status != Outcome.NURTURE:
        return by_status
    return by_stage or by_status or str(Outcome.NURTURE)
