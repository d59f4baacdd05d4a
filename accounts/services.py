"""Writes on opportunities: the SDR's handoff, the AE's accept or reject, and closing.

Each function owns its transaction, takes the rows it changes with ``select_for_update``
(so two AEs, two tabs or a retry never both win), writes the opportunity's and the lead's
timeline in the same transaction, and starts or stops the SLA timers the move implies.
Refusals raise ``AccountsError`` with a message for the user and change nothing.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kit.errors import Refused
from leads.models import ActivitySource, Channel, Lead, LeadEvent
from leads.services import IN_SALES, transition_lead
from sdr.services import cadences, lock_round_robins, pick_ae, save_round_robins
from team.models import Role, User
from work import services as work
from work.models import SlaPolicy, WorkItem

from .models import (
    EARLY_LOSS_DAYS,
    LOST_REASONS,
    REJECT_REASONS,
    Account,
    Contact,
    Opportunity,
    OpportunityEvent,
    Qualification,
    Stage,
)
from .signals import opportunity_won

ACCEPTANCE_POLICY = {"name": "Accept a handoff (1 business day)", "target_minutes": 8 * 60}
# Domains of free mail providers: a lead writing from one gives no company to match by.
FREE_MAIL_DOMAINS = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "proton.me",
        "protonmail.com",
        "mail.com",
        "yandex.ru",
        "t-online.de",
        "orange.fr",
        "free.fr",
        "libero.it",
        "qq.com",
        "163.com",
    ]
)
MAX_MEETING_AHEAD = timedelta(days=366)


class AccountsError(Refused):
    """A move the opportunity's state or the user's role does not allow. ``field`` names the
    input at fault, when there is one, so forms and the API can put the message beside it."""


def acceptance_policy() -> SlaPolicy:
    """The acceptance SLA, created with its default if an admin removed it."""
    policy, _ = SlaPolicy.objects.get_or_create(key=SlaPolicy.ACCEPT_HANDOFF, defaults=ACCEPTANCE_POLICY)
    return policy


DEFAULT_STAGES = [
    ("Discovery", 10, Stage.Kind.OPEN, 10),
    ("Demo", 20, Stage.Kind.OPEN, 25),
    ("Proposal", 30, Stage.Kind.OPEN, 50),
    ("Negotiation", 40, Stage.Kind.OPEN, 75),
    ("Won", 90, Stage.Kind.WON, 100),
    ("Lost", 99, Stage.Kind.LOST, 0),
]


def ensure_default_stages() -> None:
    """The default pipeline (as the data migration creates it), when there is no stage."""
    if not Stage.objects.exists():
        Stage.objects.bulk_create(
            Stage(name=name, position=position, kind=kind, probability=probability)
            for name, position, kind, probability in DEFAULT_STAGES
        )


def email_domain(email: str) -> str:
    """The company domain of an address, or '' for a free mail provider."""
    domain = email.rpartition("@")[2].strip().lower()
    return "" if domain in FREE_MAIL_DOMAINS else domain


# --- handoff --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Qualifying:
    """What the SDR found out (BANT, each with a note) and the meeting to propose."""

    budget: str
    authority: str
    need: str
    timing: str
    budget_note: str = ""
    authority_note: str = ""
    need_note: str = ""
    timing_note: str = ""
    asked_for_meeting: bool = False
    proposed_meeting_at: datetime | None = None

    def problems(self, now: datetime) -> dict[str, str]:
        """Field -> why it cannot be handed off ({} when it can): shared by the service, the
        page's form and the API, so all three say the same."""
        problems = {}
        for name in ("budget", "authority", "need", "timing"):
            if getattr(self, name) not in Qualification.values:
                problems[name] = f"Choose one of: {', '.join(Qualification.labels)}."
        if self.need == Qualification.UNKNOWN:
            problems["need"] = (
                "A lead without a confirmed need is not qualified: keep working it or nurture it."
            )
        if not self.need_note.strip():
            problems["need_note"] = "Say what the prospect needs: it is what the AE opens the meeting with."
        meeting = self.proposed_meeting_at
        if meeting is not None and meeting <= now:
            problems["proposed_meeting_at"] = "The proposed meeting is in the future."
        elif meeting is not None and meeting > now + MAX_MEETING_AHEAD:
            problems["proposed_meeting_at"] = "The proposed meeting is within the next year."
        if self.asked_for_meeting and meeting is None:
            problems["proposed_meeting_at"] = "The prospect asked for a meeting: propose its time."
        return problems


def hand_off(
    *,
    lead_id: int,
    by: User,
    qualifying: Qualifying,
    ae: User | None = None,
    amount: Decimal | None = None,
    now: datetime | None = None,
) -> Opportunity:
    """Hand a qualified lead to an AE: match its account by domain (or create it), make its
    contact, open the opportunity awaiting acceptance with an acceptance timer in the AE's
    queue, and move the lead to "handed off", closing its SDR work (the first touch counts
    as met, the rest is cancelled, a running cadence ends).

    The AE is ``ae`` when the SDR chose one by hand, otherwise the territory's round-robin.
    """
    now = now or timezone.now()
    if problems := qualifying.problems(now):
        field, message = next(iter(problems.items()))
        raise AccountsError(message, field=field)
    if ae is not None and not (ae.role == Role.AE and ae.is_active):
        raise AccountsError(f"{ae} is not an active account executive.", field="ae")
    with transaction.atomic():
        lead = (
            Lead.objects.select_for_update(of=("self",)).select_related("campaign", "owner").get(pk=lead_id)
        )
        _check_hand_off(lead, by)
        if ae is None:
            ae = pick_ae(lead=lead, now=now)
            if ae is None:
                raise AccountsError(
                    "No AE territory rule matches this lead, or every AE in it is away: choose an AE.",
                    field="ae",
                )
        contact = contact_for(lead, now)
        opportunity = Opportunity.objects.create(
            name=_opportunity_name(contact.account, lead),
            account=contact.account,
            contact=contact,
            lead=lead,
            owner=ae,
            sdr=lead.owner or by,
            campaign=lead.campaign,
            origin=Opportunity.Origin.OUTBOUND
            if lead.source == Channel.OUTBOUND
            else Opportunity.Origin.INBOUND,
            budget=qualifying.budget,
            budget_note=qualifying.budget_note.strip(),
            authority=qualifying.authority,
            authority_note=qualifying.authority_note.strip(),
            need=qualifying.need,
            need_note=qualifying.need_note.strip(),
            timing=qualifying.timing,
            timing_note=qualifying.timing_note.strip(),
            asked_for_meeting=qualifying.asked_for_meeting,
            proposed_meeting_at=qualifying.proposed_meeting_at,
            amount=amount,
            handed_off_at=now,
        )
        OpportunityEvent.objects.create(
            opportunity=opportunity, kind=OpportunityEvent.Kind.HANDED_OFF, at=now, actor=by,
            message=f"Handed off by {by} to {ae}.",
        )  # fmt: skip
        if lead.status == Lead.Status.MQL:
            transition_lead(
                lead_id=lead.pk, to=Lead.Status.WORKING, actor=by, reason="Qualified", via="manual", at=now
            )
        work.complete_items(
            model=Lead, subject_ids=[lead.pk], kinds=[WorkItem.Kind.FIRST_TOUCH], by=by, now=now
        )
        work.cancel_items(model=Lead, subject_ids=[lead.pk], now=now)
        cadences.end_enrollments(lead_ids=[lead.pk], state="stopped", now=now, reason="handed off to an AE")
        transition_lead(
            lead_id=lead.pk,
            to=Lead.Status.HANDED_OFF,
            actor=by,
            reason=f"Handed off to {ae}",
            via="manual",
            at=now,
        )
        work.open_items(
            [
                work.NewItem(
                    subject=opportunity,
                    kind=WorkItem.Kind.ACCEPT_HANDOFF,
                    title=f"Accept or reject: {opportunity.name}",
                    owner_id=ae.pk,
                    team_id=ae.team_id,
                    policy=acceptance_policy(),
                )
            ],
            now=now,
        )
    return opportunity


def _check_hand_off(lead: Lead, by: User) -> None:
    if lead.status not in IN_SALES:
        raise AccountsError(
            f"A lead in {lead.get_status_display()} cannot be handed off; only MQLs and working leads can."
        )
    if by.is_sdr:
        if lead.owner_id != by.pk:
            raise AccountsError("This lead is not in your queue (it was reassigned).")
    elif by.role != Role.MANAGER and not by.is_superuser:
        raise AccountsError("Only the lead's SDR (or a manager) hands a lead off.")


def contact_for(lead: Lead, now: datetime) -> Contact:
    """The lead's contact: the one already made for it (a prospect on a target account), or
    one with its email, or a new one at the account matched by the email's domain (created
    from the lead's company when no account has that domain)."""
    contact = Contact.objects.select_related("account").filter(lead=lead).first()
    contact = contact or Contact.objects.select_related("account").filter(email=lead.email).first()
    if contact is not None:
        if contact.lead_id is None:
            contact.lead = lead
            contact.save(update_fields=["lead"])
        return contact
    domain = email_domain(lead.email)
    details = {
        "name": lead.company or lead.name or lead.email,
        "industry": lead.industry,
        "country": lead.country,
        "employees": lead.employees,
        "created_at": now,
    }
    if domain:
        account, _ = Account.objects.get_or_create(domain=domain, defaults=details)
    else:
        account = Account.objects.create(**details)
    return Contact.objects.create(
        account=account,
        lead=lead,
        email=lead.email,
        first_name=lead.first_name,
        last_name=lead.last_name,
        title=lead.title,
        phone=lead.phone,
        created_at=now,
    )


def _opportunity_name(account: Account, lead: Lead) -> str:
    who = lead.name or lead.email
    return f"{account.name}: {who}"[:200]


# --- accept or reject -----------------------------------------------------------------------


def _locked_handoff(opportunity_id: int, by: User) -> Opportunity:
    """The opportunity, locked, after checking ``by`` may answer its handoff: its AE, or an
    AE of the same team covering (who then takes it over)."""
    # No joins in the locking read: a concurrent accept changes the owner, and PostgreSQL
    # re-checks a waiting row against the join rows it read before the wait, which would make
    # the row vanish (DoesNotExist) instead of showing it answered.
    opportunity = Opportunity.objects.select_for_update().get(pk=opportunity_id)
    if by.role != Role.AE:
        raise AccountsError("Only an account executive accepts or rejects a handoff.")
    if by.pk != opportunity.owner_id and (by.team_id is None or by.team_id != opportunity.owner.team_id):
        raise AccountsError("This handoff went to another AE's team.")
    if opportunity.status != Opportunity.Status.HANDED_OFF:
        answered = opportunity.accepted_at or opportunity.rejected_at
        raise AccountsError(
            f"This handoff was already answered: {opportunity.get_status_display().lower()}"
            + (f" on {timezone.localtime(answered):%d %b %Y %H:%M}." if answered else ".")
        )
    return opportunity


def first_stage() -> Stage:
    stage = Stage.objects.filter(is_active=True, kind=Stage.Kind.OPEN).order_by("position", "id").first()
    if stage is None:
        raise AccountsError("The pipeline has no open stage: ask an admin to add one.")
    return stage


def accept_handoff(*, opportunity_id: int, by: User, now: datetime | None = None) -> Opportunity:
    """The AE takes the handoff: the acceptance timer stops and the opportunity enters the
    pipeline at its first open stage."""
    now = now or timezone.now()
    with transaction.atomic():
        opportunity = _locked_handoff(opportunity_id, by)
        stage = first_stage()
        covering = by.pk != opportunity.owner_id
        opportunity.status = Opportunity.Status.OPEN
        opportunity.stage = stage
        opportunity.accepted_at = now
        opportunity.owner = by
        opportunity.save(update_fields=["status", "stage", "accepted_at", "owner", "updated_at"])
        work.complete_items(
            model=Opportunity,
            subject_ids=[opportunity.pk],
            kinds=[WorkItem.Kind.ACCEPT_HANDOFF],
            by=by,
            now=now,
        )
        message = f"Accepted by {by}" + (" (covering for the AE it went to)" if covering else "") + "."
        OpportunityEvent.objects.create(
            opportunity=opportunity, kind=OpportunityEvent.Kind.ACCEPTED, at=now, actor=by,
            to_stage=stage.name, message=message,
        )  # fmt: skip
        if opportunity.lead_id:
            _lead_event(opportunity.lead_id, now, by, f"{message} The opportunity is in {stage}.")
    return opportunity


def reject_handoff(
    *, opportunity_id: int, by: User, reason: str, note: str, now: datetime | None = None
) -> Opportunity:
    """The AE turns the handoff down with a reason and a note: the opportunity is kept as
    rejected (for the acceptance rate), and the lead goes back to its SDR's queue as working,
    with the feedback on its timeline and a "handoff returned" item at the top of the queue."""
    if reason not in REJECT_REASONS:
        raise AccountsError(f"Choose a reason: {', '.join(REJECT_REASONS)}.", field="reason")
    note = note.strip()
    if not note:
        raise AccountsError(
            "Tell the SDR why, in a note: it is how they learn what to hand off.", field="note"
        )
    now = now or timezone.now()
    with transaction.atomic():
        opportunity = _locked_handoff(opportunity_id, by)
        opportunity.status = Opportunity.Status.REJECTED
        opportunity.rejected_at = now
        opportunity.reject_reason = reason
        opportunity.reject_note = note
        opportunity.owner = by
        opportunity.save(
            update_fields=["status", "rejected_at", "reject_reason", "reject_note", "owner", "updated_at"]
        )
        work.complete_items(
            model=Opportunity,
            subject_ids=[opportunity.pk],
            kinds=[WorkItem.Kind.ACCEPT_HANDOFF],
            by=by,
            now=now,
        )
        feedback = f"Handoff rejected by {by}: {reason}. {note}"
        OpportunityEvent.objects.create(
            opportunity=opportunity,
            kind=OpportunityEvent.Kind.REJECTED,
            at=now,
            actor=by,
            message=feedback[:500],
        )
        lead = opportunity.lead
        if lead is not None and lead.status == Lead.Status.HANDED_OFF:
            transition_lead(
                lead_id=lead.pk,
                to=Lead.Status.WORKING,
                actor=by,
                reason=f"Handoff rejected: {reason}",
                via="manual",
                at=now,
            )
            _lead_event(lead.pk, now, by, feedback, kind=LeadEvent.Kind.HANDOFF)
            work.open_items(
                [
                    work.NewItem(
                        subject=lead,
                        kind=WorkItem.Kind.HANDOFF_RETURNED,
                        title=f"Handoff rejected by {by}: {reason}",
                        owner_id=lead.owner_id,
                        team_id=lead.team_id,
                        due_at=now,
                        note=note,
                    )
                ],
                now=now,
            )
    return opportunity


def _lead_event(lead_id: int, at: datetime, actor, message: str, kind: str = LeadEvent.Kind.HANDOFF) -> None:
    LeadEvent.objects.create(lead_id=lead_id, kind=kind, at=at, actor=actor, message=message[:500])


# --- closing --------------------------------------------------------------------------------


def _locked_open(opportunity_id: int, by: User) -> Opportunity:
    """The opportunity, locked, after checking ``by`` may work it: its AE (or a manager of the
    AE's team, or a superuser), and it is in the pipeline, not closed."""
    opportunity = Opportunity.objects.select_for_update().get(pk=opportunity_id)  # no joins: see above
    if by.pk != opportunity.owner_id and not _manages(by, opportunity.owner):
        raise AccountsError("Only the opportunity's AE (or their manager) works it.")
    if opportunity.status != Opportunity.Status.OPEN:
        raise AccountsError(
            f"This opportunity is {opportunity.get_status_display().lower()}; only opportunities in the "
            "pipeline move."
        )
    return opportunity


def _manages(user: User, rep: User) -> bool:
    if user.is_superuser:
        return True
    return user.role == Role.MANAGER and rep.team_id is not None and rep.team.manager_id == user.pk


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
            kind, message = OpportunityEvent.Kind.WON, f"Won: {opportunity.amount:,.2f}."
        elif stage.kind == Stage.Kind.LOST:
            if lost_reason not in LOST_REASONS:
                raise AccountsError(
                    f"Choose why it was lost: {', '.join(LOST_REASONS)}.", field="lost_reason"
                )
            opportunity.status, opportunity.closed_at = Opportunity.Status.LOST, now
            opportunity.lost_reason, opportunity.lost_note = lost_reason, lost_note.strip()
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
    lead = Lead.objects.select_for_update().get(pk=opportunity.lead_id)
    if lead.status != Lead.Status.HANDED_OFF:
        return  # handed off again later, or closed by another opportunity: its own story
    if opportunity.status == Opportunity.Status.WON:
        reason = f"Won {opportunity.name}: {opportunity.amount:,.2f}"
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


# --- the SLA sweep ----------------------------------------------------------------------


def reassign_breached_handoffs(items) -> set[int]:
    """The SLA sweep's reassigner for handoffs (when the acceptance policy reassigns): a
    handoff still unanswered goes to the next AE in its AE's team, not the one who let it
    breach. Returns the ids of the items moved; a handoff nobody else can take stays."""
    by_opportunity = {item.object_id: item for item in items}
    opportunities = list(
        Opportunity.objects.select_for_update(of=("self",))
        .select_related("owner")
        .filter(pk__in=list(by_opportunity), status=Opportunity.Status.HANDED_OFF)
        .order_by("id")
    )
    pools = lock_round_robins({o.owner.team_id for o in opportunities if o.owner.team_id}, roles=[Role.AE])
    now = timezone.now()
    moved = set()
    for opportunity in opportunities:
        pool = pools.get(opportunity.owner.team_id)
        ae = pool.pick(exclude=[opportunity.owner_id]) if pool else None
        if ae is None:
            continue
        before = opportunity.owner
        opportunity.owner = ae
        opportunity.save(update_fields=["owner", "updated_at"])
        item = by_opportunity[opportunity.pk]
        WorkItem.objects.filter(pk=item.pk).update(owner=ae, team=ae.team_id)
        OpportunityEvent.objects.create(
            opportunity=opportunity,
            kind=OpportunityEvent.Kind.UPDATED,
            at=now,
            message=f"Handoff moved from {before} to {ae}: the acceptance SLA breached and was not met in time.",
        )
        moved.add(item.pk)
    if pools:
        save_round_robins(pools, now)
    return moved
