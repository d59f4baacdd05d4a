"""The demo data set, told as stories: people, teams with business hours in two time zones,
campaigns with costs, an ideal-customer profile, leads with realistic activity, a pipeline,
outbound prospects and a customer base with renewals coming due. ``seed`` makes it
(``seed_demo`` is its command); one module per storyline:

    cast        the people, calendars, teams, campaigns, scoring, routing and cadences
    marketing   marketing's leads of the last two months and the SDRs' first touches
    outbound    target accounts, their prospects and cadence steps
    deals       handoffs, the AEs' answers and the pipeline's moves
    customers   contracts, renewals and their outcomes, the daily renewal runs, an expansion lead
    emails      the nurture track's emails and an "email first" cadence, sent as beat sends them
    imports     marketing's Salesforce import of weeks ago: leads first seen months earlier, tagged
    notifications  what the replay notified, mostly read by now; beat's first SLA warnings
    common      what the storylines share (names, a lead's details, a touch by the lead's owner)
    seed        all of it in order, replayed in time (``demo.history``)

The data has a past: the seed replays it in time order under a moving clock, so every event,
work item, touch and breach carries the time it would have had, and nothing happens before
what caused it.
"""

from .cast import DEMO_PASSWORD, PEOPLE, WEB_FORM
from .seed import Seeded, seed

__all__ = ["DEMO_PASSWORD", "PEOPLE", "WEB_FORM", "Seeded", "seed"]
