"""The lead lifecycle by hand or by another app: a status move (compare-and-swap), a rep's
rating, and an edit in the admin, each written to the lead's timeline."""

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from work import services as work

from ..models import ActivitySource, Lead, LeadEvent
from ..scoring import active_criteria as load_criteria
from ..scoring import compute_fit
from .common import FIT_FIELDS, LEAVES_SALES, InvalidTransition, status_change, status_event


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
        values = status_change(to, now, reason)
        if not Lead.objects.filter(pk=lead.pk, status=lead.status).update(**values):
            raise InvalidTransition("The lead was changed by someone else; reload and try again.")
        status_event(lead, to, now, actor, via, reason).save()
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
                Lead._meta.get_field(n)  # type: ignore[misc]  # a column of the lead, never a reverse relation
                for n in ("fit_score", "fit_grade")
                if _differs(current, lead, n)
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
            for name in status_change(to_status, now):
                setattr(lead, name, getattr(moved, name))
    return lead


def _differs(before: Lead, after: Lead, name: str) -> bool:
    attname = Lead._meta.get_field(name).attname  # type: ignore[union-attr]  # a column of the lead, never a reverse relation
    return getattr(before, attname) != getattr(after, attname)


def _change(before: Lead, after: Lead, name: str) -> str:
    """One field's change as a person reads it on the timeline: "Owner: Sam Hill → Alex Lee"."""
    label = str(Lead._meta.get_field(name).verbose_name).capitalize()  # type: ignore[union-attr]  # a column of the lead, never a reverse relation
    return f"{label}: {_shown(before, name)} → {_shown(after, name)}"


def _shown(lead: Lead, name: str) -> str:
    """A field's value as a person reads it on the timeline."""
    field = Lead._meta.get_field(name)
    value = getattr(lead, name)
    if field.choices and value != "":  # type: ignore[union-attr]  # a column of the lead, never a reverse relation
        value = getattr(lead, f"get_{name}_display")()
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
