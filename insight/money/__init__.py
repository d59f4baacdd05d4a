"""Money: what the leads cost and what they brought, by campaign and by channel, and the
qualified pipeline created month by month.

Definitions (every number is computed in SQL, on PostgreSQL and SQLite alike):

- **Spend** of a campaign in a period: its cost spread evenly over the days it runs
  (``starts_on`` to ``ends_on``, both included; no start: the local date it was created; no
  end: its start, so the whole cost falls on one day), times the days of the run inside the
  period. It is computed in whole cents, rounded half up per campaign, so the rows add up
  to the total exactly. Spend belongs to campaigns and channels only: the campaign and
  channel filters narrow it, the other filters (team, SDR, source, origin, fit) narrow the
  leads and leave the spend whole.
- **Leads, MQLs, qualified, won, pipeline, won amount**: of the cohort (the leads first seen in
  the period, followed to today): how many there are, how many became an MQL (or raised a
  hand), were accepted by an AE (qualified), were won; the amounts of the accepted
  opportunities (pipeline) and of the won ones. Won amount by source campaign is the
  marketing-sourced revenue.
- **Cost per lead / MQL / qualified / won**: spend divided by the count (None when the count
  is 0); **ROI**: (won amount - spend) / spend (None without spend).
- **Pipeline by month** is a flow: the opportunities accepted in each local month of the
  period (whatever their capture date) with their amounts, and the deals won in it.

This package's public API; the work is cut by concern:

- ``figures``: the rows shown (``MoneyRow``, ``MonthRow``) and the rounding to the cent;
- ``costs``: spend in SQL, a campaign's cost spread over the days of its run;
- ``cohort``: the cohort's counts and amounts by campaign, by channel and in total;
- ``breakdown``: the rows by campaign, by channel and in total, spend beside the counts;
- ``monthly``: the months of the period, the pipeline and the spend in each.
"""

from .breakdown import NO_CAMPAIGN, by_campaign, by_channel, channel_label, spend, total
from .cohort import COHORT_AGGREGATES, COHORT_COLUMNS, COUNTED, GROUPINGS, measure, measured
from .costs import DaysFrom
from .figures import CENT, ZERO, MoneyRow, MonthRow, per
from .monthly import months, pipeline_by_month, spend_by_month

__all__ = [
    "CENT",
    "COHORT_AGGREGATES",
    "COHORT_COLUMNS",
    "COUNTED",
    "GROUPINGS",
    "NO_CAMPAIGN",
    "ZERO",
    "DaysFrom",
    "MoneyRow",
    "MonthRow",
    "by_campaign",
    "by_channel",
    "channel_label",
    "measure",
    "measured",
    "months",
    "per",
    "pipeline_by_month",
    "spend",
    "spend_by_month",
    "total",
]
