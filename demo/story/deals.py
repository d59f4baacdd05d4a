"""The pipeline's past: prospects asked for a call over the last weeks, the SDRs called them and
handed off the qualified ones; the AEs accepted most (within hours), rejected a few with
feedback, moved the accepted ones along the stages, won some and lost some. The newest handoffs
still wait in the AEs' inboxes."""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from demo.history import at_work, last_at_work, work_delay, work_minutes
from leads import services
from leads.models import ActivityKind, ActivitySource, Campaign

from .common import FIRST, LAST, TITLES, email_for, lead_details, owner_at_work, owner_of, touch_as_owner

BUDGET_NOTES = [
    "Budget approved for a new sales tool this fiscal year.",
    "No budget line yet; would come from the marketing ops budget.",
    "Around 40k a year discussed, needs CFO sign-off.",
]
NEED_NOTES = [
    "Inbound leads wait a day for a first call; they lose demo requests to faster competitors.",
    "Five SDRs work from spreadsheets; no SLA, no idea which leads were never called.",
    "Marketing and sales argue about lead quality; they want scoring both sides trust.",
]
TIMING_NOTES = [
    "Wants it live before the Q1 campaign.",
    "Evaluating two tools this quarter.",
    "Contract with the current tool ends in March.",
]
NEXT_STEPS = [
    "Demo with the sales ops team",
    "Send proposal",
    "Security review call",
    "Pricing call with CFO",
]
REJECTIONS = [
    ("Not qualified: not the decision maker", "Talked to an intern; get the head of sales on a call first."),
    ("Timing: not buying this year", "They just signed with a competitor for two years."),
]
# Each deal comes from a company of its own: a won deal makes its company a customer, and a
# later lead from a customer is its AM's expansion lead, not an SDR's MQL.
DEAL_NAMES = ["Blue", "Granite", "Harbor", "Northgate", "Pinecrest", "Silverline", "Summit", "Tidewater"]
DEAL_KINDS = [
    ("Analytics", "Technology"),
    ("Systems", "Technology"),
    ("Networks", "Telecommunications"),
    ("Capital", "Financial Services"),
    ("Health", "Healthcare"),
]


def _deal_company(i: int, rng: random.Random) -> tuple[str, str, int, str, str]:
    kind, industry = DEAL_KINDS[i // len(DEAL_NAMES) % len(DEAL_KINDS)]
    employees = rng.choice([120, 250, 480, 900, 1800, 3500])
    country = rng.choice(["US", "DE", "GB", "CA", "FR"])
    return f"{DEAL_NAMES[i % len(DEAL_NAMES)]} {kind}", industry, employees, str(employees * 150_000), country


def add_deal_stories(replay, now) -> None:
    """A pipeline with a past: prospects asked for a call over the last weeks, the SDRs
    called them and handed off the qualified ones; the AEs accepted most (within hours),
    rejected a few with feedback, moved the accepted ones along the stages, won some and
    lost some (one early). The newest handoffs still wait in the AEs' inboxes. Only on a
    database without opportunities."""
    from accounts.models import Opportunity

    if Opportunity.objects.exists():
        return
    campaigns = list(Campaign.objects.order_by("pk"))
    for i in range(40):
        replay.add(_deal_story(i, random.Random(11 + i), now, campaigns))


def _deal_story(i, rng, now, campaigns):
    from accounts.models import Stage
    from accounts.services import (
        Qualifying,
        accept_handoff,
        hand_off,
        move_stage,
        reject_handoff,
        update_opportunity,
    )

    handed = now - timedelta(days=max(0.2, 30 - i * 0.75), hours=rng.uniform(0, 5))
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company, industry, employees, revenue, country = _deal_company(i, rng)
    title = rng.choice(TITLES)
    yield handed - timedelta(days=2)
    lead = services.capture_lead(
        email=email_for(first, last, f"deal{i}", company),
        via=ActivitySource.WEB_FORM,
        hand_raiser=True,
        activity_kind=ActivityKind.MEETING_REQUEST,
        campaign=rng.choice(campaigns),
        details=lead_details(first, last, company, industry, employees, revenue, country, title),
    ).lead
    # The SDR calls back within minutes of their working time (the prospect may have asked
    # at night: then first thing in the morning); one in ten misses the 15-minute SLA.
    took = rng.choice([3, 4, 5, 6, 8, 9, 11, 12, 14, 35])
    sdr = owner_of(lead.pk)
    yield work_minutes(sdr, timezone.now(), took) if sdr else timezone.now() + timedelta(minutes=took)
    yield from owner_at_work(lead.pk)
    if not touch_as_owner(lead.pk, "call", outcome="connected"):
        return  # nobody had room for it: it waits in the team's queue
    settle = rng.uniform(20, 180)
    yield _handoff_moment(owner_of(lead.pk), handed, touched=timezone.now(), now=now, settle=settle)
    yield from owner_at_work(lead.pk)
    lead.refresh_from_db()
    qualifying = Qualifying(
        budget=rng.choice(["confirmed", "partly", "unknown"]),
        authority=rng.choice(["confirmed", "partly"]),
        need="confirmed",
        timing=rng.choice(["confirmed", "partly", "unknown"]),
        budget_note=rng.choice(BUDGET_NOTES),
        authority_note=f"{lead.title or 'Contact'}; involves their head of sales.",
        need_note=rng.choice(NEED_NOTES),
        timing_note=rng.choice(TIMING_NOTES),
    )
    opportunity = hand_off(
        lead_id=lead.pk,
        by=lead.owner,
        qualifying=qualifying,
        amount=Decimal(rng.choice([12, 18, 24, 36, 48, 60, 90])) * 1000,
    )
    if i >= 34:
        return  # still in the inbox
    ae = opportunity.owner
    # The AE answers within the working day, now and then later than the 8-hour SLA.
    yield work_minutes(ae, timezone.now(), rng.uniform(0.5, 8.5) * 60)
    if i % 9 == 4:
        reason, note = rng.choice(REJECTIONS)
        reject_handoff(opportunity_id=opportunity.pk, by=ae, reason=reason, note=note)
        return
    accept_handoff(opportunity_id=opportunity.pk, by=ae)
    update_opportunity(
        opportunity_id=opportunity.pk,
        by=ae,
        amount=opportunity.amount,
        close_date=(now + timedelta(days=rng.randint(10, 90))).date(),
        next_step=rng.choice(NEXT_STEPS),
    )
    stages = {s.name: s for s in Stage.objects.all()}
    for name in ["Demo", "Proposal", "Negotiation"][: rng.randint(0, 3)]:
        yield work_delay(ae, timezone.now(), timedelta(days=rng.uniform(1, 4)))
        move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stages[name].pk)
    closing = work_delay(ae, timezone.now(), timedelta(days=rng.uniform(1, 5)))
    if i % 5 == 0:
        yield closing
        move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=stages["Won"].pk)
    elif i % 7 == 1:
        yield closing
        move_stage(
            opportunity_id=opportunity.pk,
            by=ae,
            stage_id=stages["Lost"].pk,
            lost_reason=rng.choice(["Price", "Chose a competitor", "No decision / went dark"]),
            lost_note="They went with the incumbent after our demo.",
        )


def _handoff_moment(sdr, planned, *, touched, now, settle):
    """When the SDR hands the deal off: at the planned moment if they work then, else
    ``settle`` minutes into their next working time, or their last working moment before
    now when that has not come yet (the newest handoffs must be in the AEs' inboxes today);
    never before the call that qualified it."""
    moment = at_work(sdr, planned)
    if moment != planned:
        moment = work_minutes(sdr, planned, settle)
    if moment > now:
        moment = last_at_work(sdr, planned)
    if moment <= touched:
        moment = work_minutes(sdr, touched, 30)
    return moment
