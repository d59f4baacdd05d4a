"""Capture: a person arriving (a form, the API, by hand, an outbound prospect) becomes a new
lead or a new activity on the known one, scored, and promoted to MQL when sales-ready; an
activity logged on a lead does the same. Sales-ready leads and raised hands are announced to
routing (``leads.signals``) inside the transaction that made them so.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..learned import score as learned_score
from ..models import (
    NO_ENGAGEMENT,
    Activity,
    ActivityKind,
    ActivitySource,
    Campaign,
    Channel,
    Lead,
    LeadEvent,
    LeadRedirect,
)
from ..scoring import add_engagement, compute_fit
from ..signals import hand_raised, sales_ready
from .common import (
    FIT_FIELDS,
    IN_SALES,
    PROMOTABLE,
    apply_status,
    promotion_reason,
    retrying_on_conflict,
    status_event,
)
from .scoring import ScoringContext

# Lead fields a capture may fill in. A repeat capture fills only those still blank, so a
# later form fill never overwrites what a rep corrected.
DETAIL_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "title",
    "seniority",
    "industry",
    "employees",
    "annual_revenue",
    "country",
    "phone",
)


@dataclass(frozen=True)
class Capture:
    """One person arriving: from a form, the API or by hand. ``email`` is already normalized
    (``leads.cleaning.normalize_email``)."""

    email: str
    details: Mapping[str, Any]
    via: str
    campaign: Campaign | None = None
    source: str | None = None
    activity_kind: str = ActivityKind.FORM_FILL
    hand_raiser: bool = False
    note: str = ""
    actor: Any = None
    at: datetime | None = None
    # An outbound prospect: a new lead starts in this SDR's hands (working, their team),
    # not in marketing's nurture, and is not routed.
    prospector: Any = None


@dataclass(frozen=True)
class CaptureResult:
    lead: Lead
    created: bool


def capture_lead(*, context: ScoringContext | None = None, **capture: Any) -> CaptureResult:
    """Capture one person (see ``capture_many``)."""
    return capture_many([Capture(**capture)], context=context)[0]


def capture_many(
    captures: Sequence[Capture], *, context: ScoringContext | None = None
) -> list[CaptureResult]:
    """Capture people in one transaction, in order, set-based.

    A new email makes a new lead; a known one (or a repeat within the batch) becomes a new
    activity on the existing lead, filling its blank details, adding engagement and promoting
    it to MQL when it crossed the threshold or asked for a call. The unique constraint on
    ``email`` decides, not the lookup: when a concurrent capture inserts one of these people
    first, the batch is retried in a savepoint and finds them. Known leads are locked, so no
    engagement update is lost. One query per table, whatever the batch size.
    """
    context = context or ScoringContext.load()
    return retrying_on_conflict(lambda: _capture_attempt(captures, context))


def _capture_attempt(captures: Sequence[Capture], context: ScoringContext) -> list[CaptureResult]:
    now = timezone.now()
    leads = {
        lead.email: lead
        for lead in Lead.objects.select_for_update().filter(email__in={c.email for c in captures})
    }
    leads |= _survivors(leads, {c.email for c in captures} - leads.keys())
    new: dict[str, Lead] = {}
    changed: dict[str, set[str]] = {}
    activities: list[Activity] = []
    events: list[LeadEvent] = []
    results = []
    for c in captures:
        at = c.at or now
        points = context.points_for(c.activity_kind)
        lead = leads.get(c.email)
        if lead is None:
            lead = leads[c.email] = new[c.email] = _new_lead(c, at, points, context)
            events.append(
                LeadEvent(
                    lead=lead,
                    kind=LeadEvent.Kind.CAPTURED,
                    at=at,
                    actor=c.actor,
                    campaign=c.campaign,
                    via=c.via,
                    to_status=lead.status,
                    message="Asked for a call." if c.hand_raiser else "",
                )
            )
            results.append(CaptureResult(lead=lead, created=True))
        else:
            fields = _recapture(lead, c, at, points, context, events)
            if c.email not in new:
                changed.setdefault(c.email, set()).update(fields)
            results.append(CaptureResult(lead=lead, created=False))
        activities.append(
            Activity(
                lead=lead,
                kind=c.activity_kind,
                occurred_at=at,
                points=points,
                campaign=c.campaign,
                source=c.via,
                actor=c.actor,
                note=c.note,
            )
        )
    if new:
        Lead.objects.bulk_create(new.values())  # an IntegrityError here retries the batch
    if changed:
        # A survivor reached by its own address and a merged one is one lead: written once.
        to_update = list({id(leads[email]): leads[email] for email in changed}.values())
        for lead in to_update:
            lead.updated_at = now  # bulk_update does not apply auto_now
        Lead.objects.bulk_update(to_update, sorted(set().union(*changed.values()) | {"updated_at"}))
    written: list[Activity | LeadEvent] = [*activities, *events]
    for item in written:
        item.lead_id = item.lead.pk  # the new leads have their ids now
    Activity.objects.bulk_create(activities)
    LeadEvent.objects.bulk_create(events)
    _announce_sales_ready({id(lead): lead for lead in leads.values()}.values())
    _announce_hands_raised(
        list(
            {
                id(leads[email]): leads[email] for email, fields in changed.items() if "hand_raiser" in fields
            }.values()
        )
    )
    return results


def _survivors(found: dict[str, Lead], missing: set[str]) -> dict[str, Lead]:
    """The leads that addresses no lead has reach through a merge (``LeadRedirect``), locked;
    the same object as ``found``'s when a survivor was also captured by its own address. One
    indexed query, and only when an address was not found."""
    by_pk = {lead.pk: lead for lead in found.values()}
    return {
        email: by_pk.setdefault(lead.pk, lead)
        for email, lead in LeadRedirect.objects.survivors_by_email(missing, lock=True).items()
    }


def _announce_sales_ready(leads) -> None:
    """Tell routing (the ``sdr`` app, which sits above ``leads``) about leads that became
    sales-ready, inside the transaction that promoted them: the lead, its owner and its SLA
    timer appear together or not at all."""
    ids = [lead.pk for lead in leads if lead.status == Lead.Status.MQL and lead.team_id is None]
    if ids:
        sales_ready.send(sender=Lead, lead_ids=ids)


def _announce_hands_raised(leads) -> None:
    """Leads already in an SDR's queue whose prospect just asked for a call: their first-touch
    timer tightens to the hand-raiser policy (``sdr`` listens)."""
    ids = [lead.pk for lead in leads if lead.status in IN_SALES and lead.hand_raiser]
    if ids:
        hand_raised.send(sender=Lead, lead_ids=ids)


def _new_lead(c: Capture, at: datetime, points: float, context: ScoringContext) -> Lead:
    details = {k: v for k, v in c.details.items() if k in DETAIL_FIELDS}
    source = c.source or (c.campaign.channel if c.campaign else Channel.WEB)
    lead = Lead(
        email=c.email,
        campaign=c.campaign,
        source=source,
        captured_at=at,
        first_seen_at=at,
        status_changed_at=at,
        **details,
    )
    fit = compute_fit(lead, context.criteria)
    lead.fit_score, lead.fit_grade = fit.score, fit.grade
    lead.hand_raiser = c.hand_raiser
    lead.engagement_key = add_engagement(NO_ENGAGEMENT, points, at, context.settings.half_life_days)
    lead.status = Lead.Status.MQL if context.is_mql(lead, at) else Lead.Status.NURTURE
    lead.mql_at = at if lead.status == Lead.Status.MQL else None
    if c.prospector is not None:
        lead.status, lead.mql_at = Lead.Status.WORKING, None
        lead.owner, lead.team_id = c.prospector, c.prospector.team_id
    # The learned probability, computed in memory from the cached model: written by the same
    # INSERT, so a capture costs no query more (``leads.learned``).
    learned = learned_score(lead)
    if learned is not None:
        lead.propensity, lead.propensity_version = learned
    lead.updated_at = timezone.now()
    return lead


def _recapture(
    lead: Lead, c: Capture, at: datetime, points: float, context: ScoringContext, events: list
) -> set[str]:
    """A known person came back: fill blank details, add engagement, maybe promote. Returns
    the fields it changed."""
    changed = {"engagement_key"}
    filled = []
    for name, value in c.details.items():
        if name in DETAIL_FIELDS and value not in (None, "") and getattr(lead, name) in (None, ""):
            setattr(lead, name, value)
            filled.append(name)
    if FIT_FIELDS.intersection(filled):
        fit = compute_fit(lead, context.criteria)
        lead.fit_score, lead.fit_grade = fit.score, fit.grade
        changed |= {"fit_score", "fit_grade"}
    changed.update(filled)
    lead.engagement_key = add_engagement(lead.engagement_key, points, at, context.settings.half_life_days)
    events.append(
        LeadEvent(
            lead=lead,
            kind=LeadEvent.Kind.RECAPTURED,
            at=at,
            actor=c.actor,
            campaign=c.campaign,
            via=c.via,
            message="Updated " + ", ".join(f.replace("_", " ") for f in filled) if filled else "",
        )
    )
    return changed | _raise_hand_and_promote(
        lead,
        hand_raiser=c.hand_raiser,
        at=at,
        actor=c.actor,
        via=c.via,
        campaign=c.campaign,
        context=context,
        events=events,
    )


def _raise_hand_and_promote(
    lead: Lead,
    *,
    hand_raiser: bool,
    at: datetime,
    actor,
    via: str,
    campaign,
    context: ScoringContext,
    events: list,
) -> set[str]:
    """The rules every new activity on a known lead applies: asking for a call marks a
    hand-raiser, and a nurtured lead that is now a hand-raiser or over the MQL threshold
    becomes an MQL. Appends the timeline events; returns the fields it changed."""
    changed = set()
    if hand_raiser and not lead.hand_raiser:
        lead.hand_raiser = True
        changed.add("hand_raiser")
        events.append(
            LeadEvent(
                lead=lead, kind=LeadEvent.Kind.HAND_RAISED, at=at, actor=actor, campaign=campaign, via=via
            )
        )
    if lead.status in PROMOTABLE and context.is_mql(lead, at):
        events.append(status_event(lead, Lead.Status.MQL, at, actor, via, promotion_reason(lead)))
        apply_status(lead, Lead.Status.MQL, at)
        changed |= {"status", "status_changed_at", "mql_at", "status_reason"}
    return changed


def log_activity(
    *,
    lead_id: int,
    kind: str,
    via: str = ActivitySource.MANUAL,
    occurred_at: datetime | None = None,
    campaign: Campaign | None = None,
    actor=None,
    note: str = "",
    context: ScoringContext | None = None,
) -> Activity:
    """Record an activity on a lead, add its points to engagement and promote the lead to MQL
    if it crossed the threshold (or asked for a call)."""
    now = timezone.now()
    occurred_at = min(occurred_at or now, now)
    context = context or ScoringContext.load()
    points = context.points_for(kind)
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        activity = Activity.objects.create(
            lead=lead,
            kind=kind,
            occurred_at=occurred_at,
            points=points,
            campaign=campaign,
            source=via,
            actor=actor,
            note=note,
        )
        # Keys are time-invariant, so points added as of when the activity happened are
        # already decayed correctly for today: an old activity adds less.
        lead.engagement_key = add_engagement(
            lead.engagement_key, points, occurred_at, context.settings.half_life_days
        )
        events: list[LeadEvent] = []
        changed = {"engagement_key", "updated_at"} | _raise_hand_and_promote(
            lead,
            hand_raiser=kind == ActivityKind.MEETING_REQUEST,
            at=now,
            actor=actor,
            via=via,
            campaign=campaign,
            context=context,
            events=events,
        )
        LeadEvent.objects.bulk_create(events)
        lead.save(update_fields=sorted(changed))
        if "status" in changed:
            _announce_sales_ready([lead])
        elif "hand_raiser" in changed:
            _announce_hands_raised([lead])
    return activity
