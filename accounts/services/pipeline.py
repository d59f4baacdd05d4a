"""Closing: an opportunity in the pipeline moves through its stages until it is won or lost,
and the AE keeps its working details (amount, close date, next step).

Each function locks the opportunity, checks ``by`` may work it (``accounts.access``), and
writes its timeline in the same transaction; a won or lost opportunity closes its lead too,
and a won one tells the apps above (``accounts.signals.opportunity_won``).
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kit.display import money_text
from leads.models import ActivitySource, Lead
from leads.services import transition_lead
from team.models import User

from ..access import owns_or_manages
from ..models import (
    EARLY_LOSS_DAYS,
    LOST_REASONS,
    Opportunity,
    OpportunityEvent,
    Stage,
)
from ..signals import opportunity_won
from .common import AccountsError


def _locked_open(opportunity_id: int, by: User) -> Opportunity:
    """The opportunity, locked, after checking ``by`` may work it: its AE (or a manager of the
    AE's team, or a superuser), and it is in the pipeline, not closed."""
    opportunity = Opportunity.objects.select_for_update().get(
        pk=opportunity_id
    )  # no joins: see acceptance._locked_handoff
    if not owns_or_manages(by, opportunity):
        raise AccountsError("Only the opportunity's AE (or their manager) works it.")
    if opportunity.status != Opportunity.Status.OPEN:
        raise AccountsError(
            f"This opportunity is {opportunity.get_status_display().lower()}; only opportunities in the "
            "pipeline move."
        )
    return opportunity


def move_stage(
    *,
    opportunity_id: int,
    by: User,
    stage_id: int,
    lost_reason: str = "",
    lost_note: str = "",
    recycle: bool = False,
    now: datetime | None = None,
) -> Opportunity:
    """Move an opportunity to another stage. A won stage closes it won (it needs an amount)
    and the lead with it; a lost stage needs a reason, closes the lead as lost (or recycles it
    to marketing when ``recycle``), and flags an early loss when it comes within
    ``EARLY_LOSS_DAYS`` of acceptance."""
    now = now or timezone.now()
    with transaction.atomic():
        opportunity = _locked_open(opportunity_id, by)
        stage = Stage.objects.filter(pk=stage_id, is_active=True).first()
        if stage is None:
            raise AccountsError("Choose one of the pipeline's stages.", field="stage")
        if stage.pk == opportunity.stage_id:
            raise AccountsError(f"The opportunity is already in {stage}.", field="stage")
        if opportunity.kind == Opportunity.Kind.RENEWAL and not stage.is_open:
            raise AccountsError(
                "A renewal closes with its contract's outcome (renewed, expanded, downsized or churned) "
                "on the contract's page.",
                field="stage",
            )
        old = opportunity.stage
        fields = ["stage", "updated_at"]
        opportunity.stage = stage
        kind, message = OpportunityEvent.Kind.STAGE, ""
        if stage.kind == Stage.Kind.WON:
            if not opportunity.amount:
                raise AccountsError("Enter the amount won before closing it won.", field="amount")
            opportunity.status, opportunity.closed_at = Opportunity.Status.WON, now
            fields += ["status", "closed_at"]
            kind, message = OpportunityEvent.Kind.WON, f"Won: {money_text(opportunity.amount)}."
        elif stage.kind == Stage.Kind.LOST:
            if lost_reason not in LOST_REASONS:
                raise AccountsError(
                    f"Choose why it was lost: {', '.join(LOST_REASONS)}.", field="lost_reason"
                )
            opportunity.status, opportunity.closed_at = Opportunity.Status.LOST, now
            opportunity.lost_reason, opportunity.lost_note = lost_reason, lost_note.strip()
            assert opportunity.accepted_at is not None  # an open opportunity was accepted
            opportunity.early_loss = now - opportunity.accepted_at <= timedelta(days=EARLY_LOSS_DAYS)
            fields += ["status", "closed_at", "lost_reason", "lost_note", "early_loss"]
            kind = OpportunityEvent.Kind.LOST
            message = f"Lost: {lost_reason}" + (f". {opportunity.lost_note}" if opportunity.lost_note else "")
            if opportunity.early_loss:
                message += f" (early loss: within {EARLY_LOSS_DAYS} days of acceptance)"
        opportunity.save(update_fields=fields)
        OpportunityEvent.objects.create(
            opportunity=opportunity, kind=kind, at=now, actor=by, from_stage=old.name if old else "",
            to_stage=stage.name, message=message[:500],
        )  # fmt: skip
        if opportunity.is_closed and opportunity.lead_id:
            _close_lead(opportunity, by, now, recycle=recycle)
        if opportunity.status == Opportunity.Status.WON:
            # Account management (the renewals app) makes the account a customer with a contract.
            opportunity_won.send(sender=Opportunity, opportunity=opportunity, by=by, at=now)
    return opportunity


def _close_lead(opportunity: Opportunity, by: User, now: datetime, *, recycle: bool) -> None:
    """The closed loop: the lead ends won or lost with the opportunity."""
    assert opportunity.lead_id is not None  # called only for an opportunity with a lead
    lead = Lead.objects.select_for_update().get(pk=opportunity.lead_id)
    if lead.status != Lead.Status.HANDED_OFF:
        return  # handed off again later, or closed by another opportunity: its own story
    if opportunity.status == Opportunity.Status.WON:
        reason = f"Won {opportunity.name}: {money_text(opportunity.amount)}"
        transition_lead(
            lead_id=lead.pk, to=Lead.Status.WON, actor=by, reason=reason, via=ActivitySource.MANUAL, at=now
        )
        return
    reason = f"Lost {opportunity.name}: {opportunity.lost_reason}"
    transition_lead(
        lead_id=lead.pk, to=Lead.Status.LOST, actor=by, reason=reason, via=ActivitySource.MANUAL, at=now
    )
    if recycle:
        transition_lead(
            lead_id=lead.pk,
            to=Lead.Status.RECYCLED,
            actor=by,
            reason="Recycled after the loss: marketing nurtures it until it is sales-ready again.",
            via=ActivitySource.MANUAL,
            at=now,
        )


def update_opportunity(
    *,
    opportunity_id: int,
    by: User,
    amount: Decimal | None,
    close_date: date | None,
    next_step: str,
    now: datetime | None = None,
) -> Opportunity:
    """The AE's working details: amount, expected close date, next step. What changed goes on
    the opportunity's timeline."""
    now = now or timezone.now()
    if amount is not None and amount < 0:
        raise AccountsError("The amount cannot be negative.", field="amount")
    with transaction.atomic():
        opportunity = _locked_open(opportunity_id, by)
        changes = []
        if amount != opportunity.amount:
            changes.append(f"amount {opportunity.amount or '-'} → {amount if amount is not None else '-'}")
            opportunity.amount = amount
        if close_date != opportunity.close_date:
            changes.append(f"close date {opportunity.close_date or '-'} → {close_date or '-'}")
            opportunity.close_date = close_date
        next_step = next_step.strip()
        if next_step != opportunity.next_step:
            changes.append(f"next step: {next_step or '-'}")
            opportunity.next_step = next_step
        if changes:
            opportunity.save(update_fields=["amount", "close_date", "next_step", "updated_at"])
            OpportunityEvent.objects.create(
                opportunity=opportunity, kind=OpportunityEvent.Kind.UPDATED, at=now, actor=by,
                message="; ".join(changes)[:500],
            )  # fmt: skip
    return opportunity
