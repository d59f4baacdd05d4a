"""The tables of the insight pages, each one a ``Table`` the page shows and its CSV repeats
cell for cell (``csv_response``), and the chart drawn from the same rows.

A table is built by one function of the scope (``TABLES[section][key]``), so a CSV download
computes only its own table. The numbers come from the modules that own them (funnel, speed,
money, retention); this package only formats them: counts with thousands separators,
durations as people read them, money with two decimals, rates as percentages.

This package's public API; the work is cut by concern:

- ``table``: ``Table`` and ``Cell``, and the CSV a table downloads as;
- ``formatting``: numbers, amounts, rates, durations and moments as people read them;
- ``funnel_tables``, ``speed_tables``, ``money_tables``, ``retention_tables``: the tables of
  each section's page;
- ``registry``: ``TABLES``, every table by section and key, and which of them a viewer sees.
"""

from .formatting import (
    COMPACT_UNITS,
    NO_LEADS,
    compact_money,
    count,
    duration,
    local_time,
    money,
    percent,
    rate,
    status_label,
)
from .funnel_tables import (
    DROPPED_SHOWN,
    funnel_cohort,
    funnel_dispositions,
    funnel_dropped,
    funnel_flow,
    funnel_slice,
    prepare_funnel,
    slices_for,
)
from .money_tables import MONEY_COLUMNS, money_table, pipeline_table
from .registry import TABLES, tables_for
from .retention_tables import RETENTION_COLUMNS, churn_table, retention_table
from .speed_tables import SPEED_BY, breach_weeks, decay_table, speed_overall, speed_table
from .table import Cell, Table, cells, csv_response

__all__ = [
    "COMPACT_UNITS",
    "DROPPED_SHOWN",
    "MONEY_COLUMNS",
    "NO_LEADS",
    "RETENTION_COLUMNS",
    "SPEED_BY",
    "TABLES",
    "Cell",
    "Table",
    "breach_weeks",
    "cells",
    "churn_table",
    "compact_money",
    "count",
    "csv_response",
    "decay_table",
    "duration",
    "funnel_cohort",
    "funnel_dispositions",
    "funnel_dropped",
    "funnel_flow",
    "funnel_slice",
    "local_time",
    "money",
    "money_table",
    "percent",
    "pipeline_table",
    "prepare_funnel",
    "rate",
    "retention_table",
    "slices_for",
    "speed_overall",
    "speed_table",
    "status_label",
    "tables_for",
]
