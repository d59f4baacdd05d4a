"""Writes on leads: capture, activities, lifecycle transitions, ratings and re-scoring.

Every function owns its transaction and writes the timeline event of what it changed in the
same transaction. State changes are compare-and-swap updates or happen under a row lock, so
two requests, two workers or two sweeps never both win.
"""

import itertools
import json
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Concat
from django.db.models.lookups import Exact
from django.utils import timezone

from work import services as work

from .. import importing
from ..models import (
    DEFAULT_ACTIVITY_POINTS,
    NO_ENGAGEMENT,
    Activity,
    ActivityKind,
    ActivitySource,
    ActivityWeight,
    Campaign,
    Channel,
    FitCriterion,
    ImportJob,
    ImportRowError,
    Lead,
    LeadEvent,
    ScoringSettings,
    WebForm,
    WebSubmission,
)
from ..scoring import (
    EPOCH,
    SECONDS_PER_DAY,
    add_engagement,
    compute_fit,
    engagement_value,
    fit_grade_expression,
    fit_score_expression,
    threshold_key,
)
from ..scoring import active_criteria as load_criteria
from ..signals import hand_raised, sales_ready

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
FIT_FIELDS = {"industry", "employees", "annual_revenue", "seniority", "country"}
PROMOTABLE = (Lead.Status.NURTURE, Lead.Status.RECYCLED)
# A lead in these statuses is in an SDR's queue; moving it to LEAVES_SALES closes its work.
IN_SALES = (Lead.Status.MQL, Lead.Status.WORKING)
LEAVES_SALES = (Lead.Status.NURTURE, Lead.Status.DISQUALIFIED, Lead.Status.RECYCLED)
logger = logging.getLogger(__name__)


class InvalidTransition(Exception):
    """A lifecycle move that the lead's current status does not allow (or another actor won)."""


SCORING_VERSION_KEY = "leads:scoring-version"
SCORING_CACHE_SECONDS = 300
_scoring_cache: dict[str, tuple[str, float, "ScoringContext"]] = {}


def scoring_changed() -> None:
    """Tell every process that the scoring configuration changed (call it on commit)."""
    cache.set(SCORING_VERSION_KEY, uuid.uuid4().hex, timeout=None)


@dataclass
class ScoringContext:
    """What scoring a capture needs: settings, the profile's criteria and activity weights.

    Read on every capture, changed a few times a year: each process keeps a copy, checked
    against a version stamp in the shared cache (one cache read instead of four queries) and
    re-read at least every few minutes. ``scoring_changed()`` bumps the stamp.
    """

    settings: ScoringSettings
    criteria: list[FitCriterion]
    weights: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, *, fresh: bool = False) -> "ScoringContext":
        if fresh:
            return cls._from_database()
        version = cache.get_or_set(SCORING_VERSION_KEY, lambda: uuid.uuid4().hex, timeout=None)
        cached = _scoring_cache.get("context")
        if cached and cached[0] == version and time.monotonic() - cached[1] < SCORING_CACHE_SECONDS:
            return cached[2]
        context = cls._from_database()
        _scoring_cache["context"] = (version, time.monotonic(), context)
        return context

    @classmethod
    def _from_database(cls) -> "ScoringContext":
        weights = {k: float(v) for k, v in DEFAULT_ACTIVITY_POINTS.items()}
        weights.update(ActivityWeight.objects.values_list("kind", "points"))
        return cls(settings=ScoringSettings.load(), criteria=load_criteria(), weights=weights)

    def points_for(self, kind: str) -> float:
        return self.weights.get(kind, 0.0)

    def is_mql(self, lead: Lead, now: datetime) -> bool:
        if lead.hand_raiser:
            return True
        value = engagement_value(lead.engagement_key, now, self.settings.half_life_days)
        return value >= self.settings.mql_threshold


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


CAPTURE_ATTEMPTS = 3


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
    return _retrying_on_conflict(lambda: _capture_attempt(captures, context))


def _retrying_on_conflict(attempt):
    """Run ``attempt`` in a savepoint; when a concurrent transaction inserted one of its people
    first (the unique email constraint), roll back and run it again: it then finds them."""
    with transaction.atomic():
        for tries_left in range(CAPTURE_ATTEMPTS - 1, -1, -1):
            try:
                with transaction.atomic():
                    return attempt()
            except IntegrityError:
                if not tries_left:
                    raise
    raise AssertionError("unreachable")


def _capture_attempt(captures: Sequence[Capture], context: ScoringContext) -> list[CaptureResult]:
    now = timezone.now()
    leads = {
        lead.email: lead
        for lead in Lead.objects.select_for_update().filter(email__in={c.email for c in captures})
    }
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
        to_update = [leads[email] for email in changed]
        for lead in to_update:
            lead.updated_at = now  # bulk_update does not apply auto_now
        Lead.objects.bulk_update(to_update, sorted(set().union(*changed.values()) | {"updated_at"}))
    for item in (*activities, *events):
        item.lead_id = item.lead.pk  # the new leads have their ids now
    Activity.objects.bulk_create(activities)
    LeadEvent.objects.bulk_create(events)
    _announce_sales_ready(leads.values())
    _announce_hands_raised([leads[email] for email, fields in changed.items() if "hand_raiser" in fields])
    return results


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
        email=c.email, campaign=c.campaign, source=source, captured_at=at, status_changed_at=at, **details
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
        events.append(_status_event(lead, Lead.Status.MQL, at, actor, via, _promotion_reason(lead)))
        _apply_status(lead, Lead.Status.MQL, at)
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


def transition_lead(
    *, lead_id: int, to: str, actor=None, reason: str = "", via: str = "", at: datetime | None = None
) -> Lead:
    """Move a lead to another status if its current status allows it (``at``: when, if the
    caller's move happened at a time of its own, e.g. a handoff's).

    A compare-and-swap on the status: when two actors move the same lead at once, one wins
    and the other gets ``InvalidTransition``.
    """
    now = at or timezone.now()
    with transaction.atomic():
        lead = Lead.objects.get(pk=lead_id)
        if not lead.can_move_to(to):
            raise InvalidTransition(
                f"A lead in {lead.get_status_display()} cannot move to {Lead.Status(to).label}."
            )
        values = _status_change(to, now, reason)
        if not Lead.objects.filter(pk=lead.pk, status=lead.status).update(**values):
            raise InvalidTransition("The lead was changed by someone else; reload and try again.")
        _status_event(lead, to, now, actor, via, reason).save()
        if to in LEAVES_SALES:
            work.cancel_items(model=Lead, subject_ids=[lead.pk], now=now)
        for name, value in values.items():
            setattr(lead, name, value)
    return lead


def set_rating(*, lead_id: int, rating: str, actor) -> Lead:
    """A rep's manual A/B/C/F rating (or clearing it), written to the timeline."""
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        if lead.rating == rating:
            return lead
        old = lead.get_rating_display()
        lead.rating = rating
        lead.save(update_fields=["rating", "updated_at"])
        LeadEvent.objects.create(
            lead=lead,
            kind=LeadEvent.Kind.RATED,
            actor=actor,
            via=ActivitySource.MANUAL,
            message=f"Rating {old} → {lead.get_rating_display()}",
        )
    return lead


def update_lead(*, lead: Lead, fields: Sequence[str], actor, now: datetime | None = None) -> Lead:
    """Save a lead a person edited by hand (the admin's change form): ``lead`` carries the
    edited values, ``fields`` names those edited. What really changed goes on the lead's
    timeline as one "details updated" event naming each field's old and new value (the
    insight facts follow lead events, so they see it within a minute). Only those fields are
    written, so a change made meanwhile to the others is kept. An edited fit field re-scores
    the lead; a new owner or team takes the lead's open work items with it, as a
    reassignment does; a new status goes through the lifecycle (``transition_lead``: the
    allowed moves, its status event, its work closed when it leaves sales)."""
    now = now or timezone.now()
    with transaction.atomic():
        current = Lead.objects.select_for_update().get(pk=lead.pk)
        to_status = lead.status if "status" in fields and lead.status != current.status else None
        if to_status and not current.can_move_to(to_status):
            raise InvalidTransition(
                f"A lead in {current.get_status_display()} cannot move to {Lead.Status(to_status).label}."
            )
        changed = [
            field
            for field in Lead._meta.concrete_fields
            if field.name in fields and field.name != "status" and _differs(current, lead, field.name)
        ]
        if FIT_FIELDS & {field.name for field in changed}:
            fit = compute_fit(lead, load_criteria())
            lead.fit_score, lead.fit_grade = fit.score, fit.grade
            changed += [
                Lead._meta.get_field(n) for n in ("fit_score", "fit_grade") if _differs(current, lead, n)
            ]
        if changed:
            values = {field.attname: getattr(lead, field.attname) for field in changed}
            Lead.objects.filter(pk=lead.pk).update(**values, updated_at=now)
            if {"owner_id", "team_id"} & values.keys():
                work.move_items(
                    model=Lead, subject_ids=[lead.pk], owner_id=lead.owner_id, team_id=lead.team_id
                )
            LeadEvent.objects.create(
                lead=lead,
                kind=LeadEvent.Kind.UPDATED,
                at=now,
                actor=actor,
                via=ActivitySource.MANUAL,
                message=_clip("; ".join(_change(current, lead, field.name) for field in changed), 500),
            )
        lead.status, lead.updated_at = current.status, now
        if to_status:
            moved = transition_lead(
                lead_id=lead.pk,
                to=to_status,
                actor=actor,
                via=ActivitySource.MANUAL,
                reason="Changed by hand.",
                at=now,
            )
            for name in _status_change(to_status, now):
                setattr(lead, name, getattr(moved, name))
    return lead


def _differs(before: Lead, after: Lead, name: str) -> bool:
    attname = Lead._meta.get_field(name).attname
    return getattr(before, attname) != getattr(after, attname)


def _change(before: Lead, after: Lead, name: str) -> str:
    """One field's change as a person reads it on the timeline: "Owner: Sam Hill → Alex Lee"."""
    label = str(Lead._meta.get_field(name).verbose_name).capitalize()
    return f"{label}: {_shown(before, name)} → {_shown(after, name)}"


def _shown(lead: Lead, name: str) -> str:
    """A field's value as a person reads it on the timeline."""
    field = Lead._meta.get_field(name)
    value = getattr(lead, name)
    if field.choices and value != "":
        value = getattr(lead, f"get_{name}_display")()
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


@dataclass(frozen=True)
class SweepResult:
    promoted: int
    cooled: int


def sweep_engagement_thresholds(*, now: datetime | None = None, batch_size: int = 5_000) -> SweepResult:
    """Move nurture leads whose engagement reached the MQL threshold into the SDR flow, and
    untouched MQLs that went cold back to nurture.

    Visits only those leads: each condition is a range over the stored decay key, served by
    a partial index holding just that crossing's candidates. Rows are claimed with
    ``SKIP LOCKED`` in bounded batches, so two sweeps never move the same lead twice and a
    re-run changes nothing.
    """
    now = now or timezone.now()
    settings = ScoringSettings.load()
    hl = settings.half_life_days
    promote = Q(status__in=PROMOTABLE, engagement_key__gte=threshold_key(settings.mql_threshold, now, hl))
    cold_key = threshold_key(settings.cold_threshold, now, hl)
    cool = Q(
        status=Lead.Status.MQL,
        owner__isnull=True,
        team__isnull=True,
        hand_raiser=False,
        engagement_key__lt=cold_key,
    )
    # Each claim walks its partial index from the end the crossers are at (the ordered LIMIT
    # is what makes the planner use it: candidates are estimated from whole-table statistics).
    promoted = _move_in_batches(
        promote,
        "-engagement_key",
        Lead.Status.MQL,
        now,
        batch_size,
        f"Engagement reached the MQL threshold ({settings.mql_threshold:g}).",
    )
    cooled = _move_in_batches(
        cool,
        "engagement_key",
        Lead.Status.NURTURE,
        now,
        batch_size,
        f"Engagement decayed below {settings.cold_threshold:g} before anyone worked it.",
    )
    return SweepResult(promoted=promoted, cooled=cooled)


def _move_in_batches(condition: Q, order: str, to: str, now: datetime, batch_size: int, reason: str) -> int:
    claim = Lead.objects.filter(condition).order_by(order)
    if connection.vendor == "postgresql" and SWEEP_IN_ONE_STATEMENT:
        return _move_in_batches_sql(claim, to, now, batch_size, reason)
    return _move_in_batches_orm(claim, to, now, batch_size, reason)


# The PostgreSQL sweep claims, moves and writes the timeline for a batch in one statement;
# switched off only by the tests that cover the portable path on PostgreSQL too.
SWEEP_IN_ONE_STATEMENT = True


def _move_in_batches_sql(claim, to: str, now: datetime, batch_size: int, reason: str) -> int:
    """One round trip per batch and no Python object per lead: the candidates are claimed
    with SKIP LOCKED, moved, and their timeline events inserted from the UPDATE's RETURNING."""
    claim_sql, claim_params = claim.values("id", "status")[:batch_size].query.sql_with_params()
    lead, event = Lead._meta.db_table, LeadEvent._meta.db_table
    statement = f"""
        WITH claimed AS ({claim_sql} FOR UPDATE SKIP LOCKED),
        moved AS (
            UPDATE {lead} AS l
            SET status = %s, status_changed_at = %s, status_reason = %s, updated_at = %s,
                mql_at = CASE WHEN %s THEN %s ELSE l.mql_at END
            FROM claimed WHERE l.id = claimed.id
            RETURNING l.id, claimed.status AS old_status
        ),
        events AS (
            INSERT INTO {event} (lead_id, kind, at, from_status, to_status, message, via)
            SELECT id, %s, %s, old_status, %s, %s, '' FROM moved
            RETURNING 1
        )
        SELECT count(*) FROM events
    """
    params = [
        *claim_params,
        to,
        now,
        reason[:300],
        now,
        to == Lead.Status.MQL,
        now,
        LeadEvent.Kind.STATUS,
        now,
        to,
        reason[:500],
    ]
    moved = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
            count = cursor.fetchone()[0]
        moved += count
        if count < batch_size:
            return moved


def _move_in_batches_orm(claim, to: str, now: datetime, batch_size: int, reason: str) -> int:
    moved = 0
    while True:
        with transaction.atomic():
            rows = list(claim.select_for_update(skip_locked=True).values_list("pk", "status")[:batch_size])
            if not rows:
                return moved
            Lead.objects.filter(pk__in=[pk for pk, _ in rows]).update(**_status_change(to, now, reason))
            LeadEvent.objects.bulk_create(
                LeadEvent(
                    lead_id=pk,
                    kind=LeadEvent.Kind.STATUS,
                    at=now,
                    from_status=old,
                    to_status=to,
                    message=reason,
                )
                for pk, old in rows
            )
            moved += len(rows)
        if len(rows) < batch_size:
            return moved


def recompute_fit_scores(*, batch_size: int = 50_000, now: datetime | None = None) -> int:
    """Re-score every lead against the active profile, set-based, in primary-key ranges so
    no single transaction holds the whole table. Only the leads whose score changes are
    written; each whose grade changes also gets a "details updated" event saying so, in the
    same transaction, so its timeline says why it moved in the queue and the insight facts
    (which follow lead events) show the new grade within a minute. Returns the number of
    leads re-scored: a re-run with the same profile writes nothing."""
    now = now or timezone.now()
    criteria = load_criteria()
    score = fit_score_expression(criteria)
    grade = fit_grade_expression(score)
    bounds = Lead.objects.order_by("pk").values_list("pk", flat=True)
    first, last = bounds.first(), bounds.last()
    if first is None:
        return 0
    rescored = 0
    for low in range(first, last + 1, batch_size):
        batch = Lead.objects.filter(pk__gte=low, pk__lt=low + batch_size).order_by()
        with transaction.atomic():
            _insert_regraded_events(batch.exclude(Exact(F("fit_grade"), grade)), grade, now)
            rescored += batch.exclude(Exact(F("fit_score"), score), Exact(F("fit_grade"), grade)).update(
                fit_score=score, fit_grade=grade, updated_at=now
            )
    return rescored


def _insert_regraded_events(leads, grade, now: datetime) -> None:
    """One INSERT ... SELECT of the events of the leads whose grade changes. The leads are
    locked as they are read (PostgreSQL; SQLite's writer holds the database), so the grade
    the event names as the old one is the one the UPDATE after it replaces."""
    message = Concat(
        Value("Fit grade "),
        F("fit_grade"),
        Value(" → "),
        grade,
        Value(": the ideal-customer profile changed."),
    )
    select, params = leads.select_for_update().values("id", regraded=message).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {LeadEvent._meta.db_table} (lead_id, kind, at, via, from_status, to_status, message)"
            f" SELECT r.id, %s, %s, '', '', '', r.regraded FROM ({select}) r",
            [str(LeadEvent.Kind.UPDATED), connection.ops.adapt_datetimefield_value(now), *params],
        )


def change_half_life(*, new_half_life_days: float, now: datetime | None = None) -> int:
    """Change the engagement half-life without changing anyone's engagement today: every key
    is rewritten on the new time base in the same transaction as the setting."""
    now = now or timezone.now()
    elapsed_days = (now - EPOCH).total_seconds() / SECONDS_PER_DAY
    with transaction.atomic():
        settings = ScoringSettings.objects.select_for_update().get(pk=ScoringSettings.load().pk)
        old = settings.half_life_days
        if old == new_half_life_days:
            return 0
        # log2(value today) = key - elapsed/old, so the new key adds elapsed/new back.
        shift = elapsed_days / new_half_life_days - elapsed_days / old
        rekeyed = Lead.objects.filter(engagement_key__gt=NO_ENGAGEMENT).update(
            engagement_key=F("engagement_key") + shift
        )
        settings.half_life_days = new_half_life_days
        settings.save(update_fields=["half_life_days", "updated_at"])
        transaction.on_commit(scoring_changed)
    return rekeyed


# --- helpers --------------------------------------------------------------------------


def _promotion_reason(lead: Lead) -> str:
    return "Asked for a call." if lead.hand_raiser else "Engagement reached the MQL threshold."


def _status_change(to: str, at: datetime, reason: str = "") -> dict:
    """What moving a lead to ``to`` writes: the one definition every path that moves leads
    uses (the PostgreSQL sweep's single statement sets the same columns in SQL)."""
    values = {"status": to, "status_changed_at": at, "status_reason": reason[:300], "updated_at": at}
    if to == Lead.Status.MQL:
        values["mql_at"] = at
    if to in LEAVES_SALES:
        # Back to marketing (or out): when it is sales-ready again it is routed afresh.
        values["team"] = None
    return values


def _apply_status(lead: Lead, to: str, at: datetime) -> None:
    for name, value in _status_change(to, at).items():
        setattr(lead, name, value)


def _status_event(lead: Lead, to: str, at: datetime, actor, via: str, message: str) -> LeadEvent:
    return LeadEvent(
        lead=lead,
        kind=LeadEvent.Kind.STATUS,
        at=at,
        actor=actor,
        via=via,
        from_status=lead.status,
        to_status=to,
        message=message[:500],
    )


# --- CSV import ---------------------------------------------------------------------------

IMPORT_BATCH = 1_000


def run_import(*, job_id: int) -> ImportJob | None:
    """Import one uploaded CSV: every valid row is kept, every refused row is reported with its
    line number and reason, and known emails become "seen again" on the existing lead.

    Streams the file in batches, one transaction each, so memory does not grow with the file
    and progress is visible while it runs. Claiming the job is a compare-and-swap, so a task
    delivered twice imports once. Each batch commits with the job's counters, so a job resumed
    after its worker died (``requeue_stalled_imports``) skips exactly the rows already imported.
    """
    now = timezone.now()
    if not ImportJob.objects.filter(pk=job_id, state=ImportJob.State.QUEUED).update(
        state=ImportJob.State.RUNNING, started_at=now, heartbeat_at=now
    ):
        return None
    job = ImportJob.objects.select_related("campaign").get(pk=job_id)
    try:
        with job.file.open("rb") as handle:
            job.total_rows = importing.count_rows(handle)
        job.save(update_fields=["total_rows"])
        context = ScoringContext.load(fresh=True)
        with job.file.open("rb") as handle:
            rows = importing.iter_rows(handle)
            job.file_format = rows.file_format
            job.save(update_fields=["file_format"])
            done = ImportJob.objects.values_list("processed_rows", flat=True).get(pk=job.pk)
            for batch in _chunks(itertools.islice(rows, done, None), IMPORT_BATCH):
                _import_batch(job, batch, context)
    except importing.ImportFormatError as exc:
        job.failure = str(exc)[:500]
        job.state = ImportJob.State.FAILED
    else:
        job.state = ImportJob.State.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "failure", "finished_at"])
    job.refresh_from_db()  # the counters were advanced in SQL
    return job


IMPORT_STALLED_AFTER = timedelta(minutes=5)


def requeue_stalled_imports(*, now: datetime | None = None) -> list[int]:
    """Put back in the queue the imports whose worker died: running, but no batch committed
    for a while (a batch takes well under a second). Returns their ids."""
    cutoff = (now or timezone.now()) - IMPORT_STALLED_AFTER
    stalled = list(
        ImportJob.objects.filter(state=ImportJob.State.RUNNING, heartbeat_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    # Compare-and-swap per job: a job that committed a batch meanwhile is left alone.
    return [
        pk
        for pk in stalled
        if ImportJob.objects.filter(pk=pk, state=ImportJob.State.RUNNING, heartbeat_at__lt=cutoff).update(
            state=ImportJob.State.QUEUED
        )
    ]


def _chunks(iterable, size):
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _import_batch(job: ImportJob, batch: list[tuple[int, dict]], context: ScoringContext) -> None:
    refused: list[ImportRowError] = []
    clean: dict[str, tuple[int, importing.CleanRow]] = {}
    repeats: list[tuple[int, str]] = []
    for line, raw in batch:
        try:
            row = importing.clean_row(raw)
        except importing.RowRefused as exc:
            refused.append(
                ImportRowError(job=job, line=line, reason=str(exc)[:500], email=raw.get("email", "")[:254])
            )
            continue
        if row.email in clean:
            repeats.append((line, row.email))  # the same person twice in one file
        else:
            clean[row.email] = (line, row)

    _retrying_on_conflict(lambda: _write_import_batch(job, len(batch), clean, repeats, refused, context))


def _write_import_batch(
    job, rows: int, clean: dict, repeats: list, refused: list, context: ScoringContext
) -> None:
    now = timezone.now()
    existing = dict(Lead.objects.filter(email__in=list(clean)).values_list("email", "pk"))
    new_leads = [
        _lead_from_row(row, job, context, now) for email, (_, row) in clean.items() if email not in existing
    ]
    Lead.objects.bulk_create(new_leads)  # sets each pk; a lost race retries the batch
    ids = existing | {lead.email: lead.pk for lead in new_leads}
    created = {lead.email for lead in new_leads}
    events = [
        LeadEvent(
            lead_id=ids[email],
            kind=LeadEvent.Kind.CAPTURED,
            at=now,
            actor=job.uploaded_by,
            campaign=job.campaign,
            via=ActivitySource.IMPORT,
            to_status=Lead.Status.NURTURE,
            message=f"Imported from {job.original_name[:200]}, line {line}",
        )
        for email, (line, _) in clean.items()
        if email in created
    ]
    seen_again = [(line, email) for email, (line, _) in clean.items() if email not in created] + repeats
    events += [
        LeadEvent(
            lead_id=ids[email],
            kind=LeadEvent.Kind.RECAPTURED,
            at=now,
            actor=job.uploaded_by,
            campaign=job.campaign,
            via=ActivitySource.IMPORT,
            message=f"Seen again in {job.original_name[:200]}, line {line}",
        )
        for line, email in seen_again
    ]
    LeadEvent.objects.bulk_create(events)
    ImportRowError.objects.bulk_create(refused)
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=F("processed_rows") + rows,
        created_count=F("created_count") + len(created),
        existing_count=F("existing_count") + len(seen_again),
        refused_count=F("refused_count") + len(refused),
        heartbeat_at=timezone.now(),
    )


def _lead_from_row(row, job: ImportJob, context: ScoringContext, now: datetime) -> Lead:
    lead = Lead(
        email=row.email,
        first_name=row.first_name,
        last_name=row.last_name,
        company=row.company,
        title=row.title,
        seniority=row.seniority,
        industry=row.industry,
        employees=row.employees,
        annual_revenue=row.annual_revenue,
        country=row.country,
        phone=row.phone,
        source=job.campaign.channel if job.campaign else row.source,
        campaign=job.campaign,
        rating=row.rating,
        external_id=row.external_id,
        external_status=row.external_status,
        external_created_at=row.external_created_at,
        status=Lead.Status.NURTURE,
        captured_at=now,
        status_changed_at=now,
    )
    fit = compute_fit(lead, context.criteria)
    lead.fit_score, lead.fit_grade = fit.score, fit.grade
    return lead


# --- web-form submissions -------------------------------------------------------------------

DRAIN_DELAY_SECONDS = 1
_last_drain_request = [float("-inf")]


def accept_submission(
    *, web_form: WebForm, email: str, details: Mapping[str, Any], hand_raiser: bool, note: str
) -> None:
    """Store a validated web-form submission and make sure a worker captures it shortly.

    One INSERT on the request path. Each web process sends at most one drain task a second,
    whatever the traffic: a drain captures everything pending, and a beat sweep picks up
    anything a lost message or a broker outage left behind.
    """
    # The hottest public path: one parameterized INSERT, without the ORM's per-call overhead.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {WebSubmission._meta.db_table}"
            " (web_form_id, received_at, email, details, hand_raiser, note, failure)"
            " VALUES (%s, %s, %s, %s, %s, %s, '')",
            [web_form.pk, timezone.now(), email, json.dumps(dict(details)), hand_raiser, note],
        )
    if time.monotonic() - _last_drain_request[0] >= DRAIN_DELAY_SECONDS:
        _last_drain_request[0] = time.monotonic()
        from ..tasks import request_submission_drain

        request_submission_drain(countdown=DRAIN_DELAY_SECONDS)


def process_submissions(*, batch_size: int = 200, context: ScoringContext | None = None) -> int:
    """Capture every pending web-form submission, oldest first, a batch at a time through
    ``capture_many``. Batches are claimed with SKIP LOCKED, so two workers never capture one
    submission twice. A captured submission is deleted: the lead, its activity and its timeline
    now hold it. A batch that fails is captured one by one, so a bad submission stays, marked
    with its reason, and never blocks the ones behind it. Returns how many were handled."""
    context = context or ScoringContext.load()
    handled = 0
    while True:
        with transaction.atomic():
            batch = list(
                WebSubmission.objects.filter(processed_at__isnull=True)
                .select_related("web_form__campaign")
                .order_by("id")
                .select_for_update(skip_locked=True, of=("self",))[:batch_size]
            )
            failed = []
            try:
                with transaction.atomic():
                    capture_many([_submission_capture(s) for s in batch], context=context)
            except Exception:  # find the bad one(s): capture each on its own
                for submission in batch:
                    try:
                        with transaction.atomic():
                            capture_many([_submission_capture(submission)], context=context)
                    except Exception as exc:
                        logger.exception("Web-form submission %s could not be captured", submission.pk)
                        submission.failure = f"{type(exc).__name__}: {exc}"[:500]
                        submission.processed_at = timezone.now()
                        failed.append(submission)
            WebSubmission.objects.filter(pk__in=[s.pk for s in batch if s not in failed]).delete()
            if failed:
                WebSubmission.objects.bulk_update(failed, ["failure", "processed_at"])
        handled += len(batch)
        if len(batch) < batch_size:
            return handled


def _submission_capture(submission: WebSubmission) -> Capture:
    return Capture(
        email=submission.email,
        details=submission.details,
        via=ActivitySource.WEB_FORM,
        campaign=submission.web_form.campaign,
        activity_kind=submission.web_form.activity_kind,
        hand_raiser=submission.hand_raiser,
        note=submission.note,
        at=submission.received_at,
    )
