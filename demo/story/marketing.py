"""Marketing's leads of the last two months, each a storyline: captured by a form, a webinar or
a download, coming back now and then; those that became MQLs were routed, and the SDRs touched
most of the ones older than two days, some within minutes, some too late."""

import random
from datetime import timedelta

from demo.history import work_minutes
from leads import services
from leads.models import ActivityKind, ActivitySource, Lead

from .common import (
    COMPANIES,
    FIRST,
    LAST,
    TITLES,
    email_for,
    lead_details,
    open_first_touch,
    owner_at_work,
    touch_as_owner,
)

ACTIVITY_MIX = (
    [ActivityKind.VISIT] * 6
    + [ActivityKind.EMAIL_OPEN] * 4
    + [ActivityKind.EMAIL_CLICK] * 3
    + [
        ActivityKind.DOWNLOAD,
        ActivityKind.DOWNLOAD,
        ActivityKind.WEBINAR,
        ActivityKind.DEMO_VIEW,
        ActivityKind.FORM_FILL,
    ]
)


def add_lead_stories(replay, count, campaigns, now) -> int:
    """Marketing's leads of the last two months: captured by form, webinar or download,
    coming back now and then; those that became MQLs were routed then, and the SDRs
    touched most of the ones older than two days, some within minutes, some too late. Returns
    how many new leads are planned (a re-run skips the ones it made before)."""
    existing = set(Lead.objects.filter(email__endswith=".example").values_list("email", flat=True))
    context = services.ScoringContext.load()
    created = 0
    for i in range(count):
        rng = random.Random(i)  # per lead, so a re-run skips exactly the leads it made before
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company, industry, employees, revenue, country = rng.choice(COMPANIES)
        email = email_for(first, last, i, company)
        if email in existing:
            continue
        replay.add(
            _lead_story(
                rng, now, context, campaigns, email=email,
                details=lead_details(
                    first, last, company, industry, employees, revenue, country, rng.choice(TITLES),
                    phone=f"+1 555 01{i:04d}",
                ),
            )
        )  # fmt: skip
        created += 1
    return created


def _lead_story(rng, now, context, campaigns, *, email, details):
    captured = now - timedelta(days=rng.uniform(0, 60), minutes=rng.randint(0, 600))
    campaign = rng.choice(campaigns)
    kind = rng.choice([ActivityKind.FORM_FILL, ActivityKind.DOWNLOAD, ActivityKind.WEBINAR])
    hand_raiser = rng.random() < 0.04
    hours = max(2.0, (now - captured).total_seconds() / 3600)
    steps = [
        (captured + timedelta(hours=rng.uniform(1, hours)), "activity", rng.choice(ACTIVITY_MIX))
        for _ in range(rng.choice([0, 0, 1, 2, 3, 5, 8]))
    ]
    yield captured
    lead = services.capture_lead(
        email=email, via=ActivitySource.WEB_FORM, campaign=campaign, context=context,
        activity_kind=kind, hand_raiser=hand_raiser, details=details,
    ).lead  # fmt: skip
    planned = False
    while True:
        if not planned and (item := open_first_touch(lead.pk)):
            # Routed (at capture or when an activity made it an MQL): most leads older than
            # two days got their first touch, within minutes or hours.
            planned = True
            if now - item.created_at > timedelta(days=2) and rng.random() < 0.8:
                # Counted in the owner's working minutes from the routing, like the timer:
                # a lead routed at 03:00 is touched the next working morning.
                took = rng.choice([4, 9, 14, 25, 50, 90, 180, 300, 600])
                touch = rng.choice(["call", "email", "voicemail"])
                steps.append((work_minutes(item.owner, item.created_at, took), "touch", touch))
        if not steps:
            return
        steps.sort(key=lambda step: step[0])
        moment, what, kind = steps.pop(0)
        yield moment
        if what == "touch":
            yield from owner_at_work(lead.pk)
            touch_as_owner(lead.pk, kind)
        else:
            services.log_activity(
                lead_id=lead.pk, kind=kind, via=ActivitySource.API, campaign=campaign, context=context
            )
