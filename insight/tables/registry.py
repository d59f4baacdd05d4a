"""Every table of the insight pages by section and key, in page order, and which of them a
viewer sees: the pages, their CSV downloads and the API ask here."""

from collections.abc import Callable
from functools import partial

from .. import access
from ..scope import Scope
from .funnel_tables import funnel_cohort, funnel_dispositions, funnel_dropped, funnel_flow, funnel_slice
from .money_tables import money_table, pipeline_table
from .retention_tables import churn_table, retention_table
from .speed_tables import breach_weeks, decay_table, speed_table
from .table import Table

TABLES: dict[str, dict[str, Callable[..., Table]]] = {
    "funnel": {
        "cohort": funnel_cohort,
        "flow": funnel_flow,
        "slice": funnel_slice,
        "dispositions": funnel_dispositions,
        "dropped": funnel_dropped,
    },
    "speed": {
        "speed-rep": partial(speed_table, by="rep"),
        "speed-team": partial(speed_table, by="team"),
        "speed-channel": partial(speed_table, by="channel"),
        "speed-week": partial(speed_table, by="week"),
        "decay": decay_table,
        "breaches": breach_weeks,
    },
    "money": {
        "by-campaign": lambda scope: money_table(scope, "campaign"),
        "by-channel": lambda scope: money_table(scope, "channel"),
        "pipeline": pipeline_table,
    },
    "retention": {
        "by-month": lambda scope: retention_table(scope, "month"),
        "by-am": lambda scope: retention_table(scope, "am"),
        "churn": churn_table,
    },
}


def tables_for(section: str, scope: Scope) -> list[str]:
    """The table keys ``scope.user`` sees on a section's page, in page order."""
    keys = list(TABLES[section])
    people = access.sees_people(scope.user)
    if section == "speed" and not people:
        keys = [k for k in keys if k not in ("speed-team",)]
    if section == "speed" and not (people or scope.user.is_sdr):
        keys = [k for k in keys if k != "speed-rep"]
    if section == "retention" and not (people or scope.user.role == "am"):
        keys = [k for k in keys if k != "by-am"]
    return keys
