"""The insight pages: the overview, the sections with their CSVs and the rows behind a
diagnosis (``pages``), and the weekly summary in the browser with its switch (``summary``)."""

from .pages import COHORT_QUALIFIED, headline_measures, overview, rows, section, table_csv, with_unit
from .summary import summary_page, summary_preference

__all__ = [
    "COHORT_QUALIFIED",
    "headline_measures",
    "overview",
    "rows",
    "section",
    "summary_page",
    "summary_preference",
    "table_csv",
    "with_unit",
]
