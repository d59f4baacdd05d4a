"""Figure 5: the AE's inbox and pipeline, and handoff and accept throughput (issue 4), each
beside the bare SQL doing the same work.

1. The pages: server time per request (p50/p95) and queries per request of ``GET /inbox/``
   (URL ``accounts:inbox``), ``GET /pipeline/`` (``accounts:pipeline``, the board) and
   ``GET /pipeline/?view=list`` through Django's test ``Client``, in process: one client, like
   one server process, each request carrying the session of one of 39 AEs who own about
   2,560 opportunities each (about 128 awaiting acceptance, 1,280 open in the pipeline). The
   same pages for an AE who owns 40 (a new hire): the query count must be the same. Baseline:
   the statements one request sent (its SELECTs, exactly as sent), run again through a
   cursor. A page whose URL does not resolve yet is reported as not measured.
2. Handoff and accept throughput: ``accounts.services.hand_off`` on working leads, each by
   the SDR who owns it, the AE picked by the AE teams' territory rules and round-robin (so
   the round-robin row lock is included), then ``accept_handoff`` of each by its AE. One at
   a time in this process (the sequential figure; queries per operation counted on the first
   few, which are not timed), then two processes at once on other leads. Baseline: one
   statement per handoff (the lead's status, the contact at the account found by domain, the
   opportunity, its event, the lead's work items closed, the acceptance item) and one per
   accept, through a cursor, each its own transaction.

The data set, in SQL (``INSERT ... SELECT FROM generate_series``): the queues figure's leads
and 200 SDRs (``bench.queues.generate``; the queues figure's own data set when it ran in the
same run), 4 AE teams of 10 AEs with a manager, business calendars and territory rules,
30,000 accounts, and 100,000 opportunities with their leads (one each: the live ones must be
distinct), contacts, timelines and acceptance work items: 5% awaiting acceptance (a third
past their due time, breached), 10% rejected, 50% open across the four open stages, 20% won,
15% lost (about a third of them early losses).

Run as a module (``python -m bench.opportunities hand_off|accept``) it is the worker of the
parallel measurement: it reads its (subject, actor) pairs as JSON on stdin, says ``ready``,
waits for ``go``, works and prints one JSON line."""

from dataclasses import dataclass

from .data import ACCOUNTS, AE_TEAMS, AES_PER_TEAM, QUEUE_LEADS, DataSet, generate
from .handoffs import Throughput, measure_throughput
from .pages import Page, measure_pages

# The figure as run.py measures it; the data set as the insight figure builds on it.
__all__ = [
    "ACCOUNTS",
    "AES_PER_TEAM",
    "AE_TEAMS",
    "QUEUE_LEADS",
    "DataSet",
    "OpportunitiesFigures",
    "generate",
    "measure_pages",
    "measure_throughput",
]


@dataclass
class OpportunitiesFigures:
    data: DataSet
    pages: list[Page]
    throughput: list[Throughput]
