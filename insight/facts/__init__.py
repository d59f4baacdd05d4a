"""The lead facts (``insight.models.LeadFact``): one narrow row per lead, derived from the
source tables by ONE set-based statement (``INSERT ... SELECT ... ON CONFLICT (lead_id) DO
UPDATE``), on PostgreSQL and SQLite alike. The leads to (re)compute are a subquery, never a
Python list; no lead row is ever loaded into Python.

This package's public API; the work is cut by concern:

- ``statement``: what each column means and the ``WITH ... SELECT`` computing them;
- ``spans``: business hours, the calendars' open spans the statement sums;
- ``watermarks``: which leads changed since the last run;
- ``runs``: ``rebuild()`` and ``refresh()``, the upsert they share and its serialisation;
- ``dialect``: the few SQL spellings that differ between PostgreSQL and SQLite.
"""

from .runs import rebuild, refresh
from .spans import calendar_spans, materialize_spans, schedules
from .statement import COLUMNS, facts_sql_for
from .watermarks import changed_leads_sql

__all__ = [
    "COLUMNS",
    "calendar_spans",
    "changed_leads_sql",
    "facts_sql_for",
    "materialize_spans",
    "rebuild",
    "refresh",
    "schedules",
]
