"""The account base as a source of leads: someone at a customer is an expansion lead for the
account's AM, not new business for the SDRs.

Routing (``sdr``) cannot know about customers, so this module registers a claimer with
``sdr.registry`` (in ``RenewalsConfig.ready``): before territory matching, routing offers it
the batch's unrouted leads; it takes those whose email domain is a customer's domain (free
mail never matches) or who already are a contact at a customer, and gives each to the
account's AM with an expansion-lead work item. The AM then opens an upsell / cross-sell
opportunity on the account, or sends the lead back to nurture ("not now").
"""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account, Contact, Opportunity, OpportunityEvent, Qualification
from accounts.services import contact_for, email_domain, first_stage
from kit.display import money_text
from leads.models import ActivitySource, Lead, LeadEvent
from leads.services import IN_SALES, transition_lead
from sdr.registry import Claim
from team.models import Role, User
from work import services as work
from work.models import SlaPolicy, WorkItem

from ..access import may_work_lead
from ..models import AccountEvent
from .base import RenewalsError, renewal_policies

NOT_NOW_REASONS = (
    "Not ready yet (timing)",
    "No budget this year",
    "A support question, not a purchase",
    "Already covered by their contract",
    "Other",
)
MAX_AMOUNT = Decimal(10**12)  # what Opportunity.amount holds (14 digits, 2 of them decimals)


# --- matching and routing ------------------------------------------------------------------


def _served(account: Account) -> bool:
    """A customer today with an active AM to take its leads."""
    am = account.account_manager
    return account.is_customer and am is not None and am.is_active and am.role == Role.AM


def match_customers(leads: Sequence[Lead], *, served_only: bool = True) -> dict[int, Account]:
    """Lead id -> the account it belongs to: its contact's account, else the account with its
    email's domain. With ``served_only`` only customers with an active AM count (routing);
    without, any account (a list still names the company of a customer who left since).
    Two queries for the whole batch, whatever its size."""
    if not leads:
        return {}
    by_id = {lead.pk: lead for lead in leads}
    by_email = {lead.email: lead for lead in leads}
    contacts: dict[int, Contact] = {}
    contact: Contact | None
    for contact in Contact.objects.filter(
        Q(lead_id__in=list(by_id)) | Q(email__in=list(by_email))
    ).select_related("account__account_manager"):
        lead = by_id.get(contact.lead_id) if contact.lead_id else by_email.get(contact.email)
        if lead is not None and (contact.lead_id == lead.pk or lead.pk not in contacts):
            contacts[lead.pk] = contact  # the contact linked to the lead wins over an email match
    domains = {email_domain(lead.email) for lead in leads} - {""}
    accounts = Account.objects.filter(domain__in=domains).select_related("account_manager")
    if served_only:
        accounts = accounts.filter(
            customer_since__isnull=False,
            churned_at__isnull=True,
            account_manager__is_active=True,
            account_manager__role=Role.AM,
        )
    by_domain = {a.domain: a for a in accounts} if domains else {}
    matches = {}
    for lead in leads:
        contact = contacts.get(lead.pk)
        if contact is not None and (_served(contact.account) or not served_only):
            matches[lead.pk] = contact.account
        elif (account := by_domain.get(email_domain(lead.email))) is not None:
            matches[lead.pk] = account
    return matches


def _title(lead: Lead) -> str:
    if lead.hand_raiser:
        return "Asked for a call"
    return f"Expansion lead from {lead.campaign.name}"[:200] if lead.campaign_id else "Expansion lead"  # type: ignore[union-attr]  # campaign_id checked


def claim_expansion_leads(leads: Sequence[Lead], now: datetime) -> dict[int, Claim]:
    """The routing claimer (``sdr.registry``): leads from people at a customer go to the
    account's AM, in the AM's team, with an expansion-lead timer in the AM's calendar, a
    routed event on the lead and an expansion-lead event on the account. Set-based: a fixed
    number of statements for the batch."""
    matches = match_customers(leads)
    if not matches:
        return {}
    policy = renewal_policies()[SlaPolicy.EXPANSION_LEAD]
    claims, items, lead_events, account_events = {}, [], [], []
    for lead in leads:
        account = matches.get(lead.pk)
        if account is None:
            continue
        am: User = account.account_manager  # type: ignore[assignment]  # a matched account is served: it has its AM
        claims[lead.pk] = Claim(owner_id=am.pk, team_id=am.team_id)
        items.append(
            work.NewItem(
                subject=lead,
                kind=WorkItem.Kind.EXPANSION_LEAD,
                title=_title(lead),
                owner_id=am.pk,
                team_id=am.team_id,
                policy=policy,
            )
        )
        lead_events.append(
            LeadEvent(
                lead_id=lead.pk,
                kind=LeadEvent.Kind.ROUTED,
                at=now,
                message=f"Expansion lead: {account.name} is a customer; routed to its AM {am}."[:500],
            )
        )
        who = lead.name or lead.email
        how = (
            "asked for a call"
            if lead.hand_raiser
            else f"came in via {lead.campaign.name if lead.campaign_id else lead.get_source_display()}"  # type: ignore[union-attr]  # campaign_id checked
        )
        account_events.append(
            AccountEvent(
                account=account,
                kind=AccountEvent.Kind.EXPANSION_LEAD,
                at=now,
                message=f"{who}{f' ({lead.title})' if lead.title else ''} {how}; routed to {am}."[:500],
            )
        )
    work.open_items(items, now=now)
    LeadEvent.objects.bulk_create(lead_events)
    AccountEvent.objects.bulk_create(account_events)
    return claims


# --- the AM's list -------------------------------------------------------------------------


def move_expansion_leads(*, account: Account, from_am_id: int, to: User, now: datetime) -> int:
    """The open expansion leads of ``account`` that its previous AM holds follow the account to
    its new AM (called when the account changes hands, inside that transaction); the number
    moved. Leads of the previous AM's other customers stay."""
    items = WorkItem.objects.open().filter(kind=WorkItem.Kind.EXPANSION_LEAD, owner_id=from_am_id)
    leads = list(Lead.objects.filter(pk__in=items.values("object_id"), owner_id=from_am_id))
    ids = [pk for pk, match in match_customers(leads, served_only=False).items() if match.pk == account.pk]
    if not ids:
        return 0
    Lead.objects.filter(pk__in=ids).update(owner=to, team_id=to.team_id, updated_at=now)
    work.move_items(model=Lead, subject_ids=ids, owner_id=to.pk, team_id=to.team_id)
    LeadEvent.objects.bulk_create(
        LeadEvent(
            lead_id=pk,
            kind=LeadEvent.Kind.ROUTED,
            at=now,
            message=f"Expansion lead moved to {to} with the account {account.name}."[:500],
        )
        for pk in ids
    )
    return len(ids)


# --- the AM's actions ----------------------------------------------------------------------


def _locked_lead(lead_id: int, by: User) -> Lead:
    """The expansion lead, locked, after checking ``by`` may work it and it still waits."""
    lead = (
        Lead.objects.select_for_update(of=("self",)).select_related("owner__team", "campaign").get(pk=lead_id)
    )
    if not may_work_lead(by, lead):
        raise RenewalsError("Only the lead's account manager (or their manager) works an expansion lead.")
    if lead.status not in IN_SALES:
        raise RenewalsError(
            f"This lead is already {lead.get_status_display().lower()}; nothing is waiting on it."
        )
    return lead


def _take_item(lead: Lead, by: User, now: datetime) -> None:
    """Complete the lead's open expansion item; refuse when there is none (someone else acted)."""
    if not work.complete_items(
        model=Lead, subject_ids=[lead.pk], kinds=[WorkItem.Kind.EXPANSION_LEAD], by=by, now=now
    ):
        raise RenewalsError("This expansion lead was already dealt with; reload the page.")


def _move(lead: Lead, to: str, by: User, reason: str, now: datetime) -> Lead:
    # A move the lifecycle refuses raises ``InvalidTransition``, a ``Refused`` like RenewalsError.
    return transition_lead(lead_id=lead.pk, to=to, actor=by, reason=reason, via=ActivitySource.MANUAL, at=now)


def open_upsell(
    *,
    lead_id: int,
    by: User,
    name: str,
    note: str,
    amount: Decimal | None = None,
    now: datetime | None = None,
) -> Opportunity:
    """The AM takes up an expansion lead: an upsell / cross-sell opportunity on the customer's
    account, owned by the AM, in the pipeline's first stage, what the customer wants as its
    need; the lead is handed off (its expansion item done) and both timelines say so."""
    now = now or timezone.now()
    name, note = (name or "").strip(), (note or "").strip()
    if not name:
        raise RenewalsError("Name the opportunity, e.g. “Acme: 20 more seats”.", field="name")
    if len(name) > 200:
        raise RenewalsError("Keep the name under 200 characters.", field="name")
    if not note:
        raise RenewalsError("Say what the customer wants: it is the opportunity's need.", field="note")
    if len(note) > 2000:
        raise RenewalsError("Keep the note under 2,000 characters.", field="note")
    if amount is not None and not (amount.is_finite() and Decimal(0) <= amount < MAX_AMOUNT):
        raise RenewalsError(f"The amount is zero or more and under {MAX_AMOUNT:,}.", field="amount")
    with transaction.atomic():
        lead = _locked_lead(lead_id, by)
        stage = first_stage()  # AccountsError when the pipeline has no open stage
        if Opportunity.objects.filter(
            lead=lead, status__in=[Opportunity.Status.HANDED_OFF, Opportunity.Status.OPEN]
        ).exists():
            raise RenewalsError("This lead already has an open opportunity.")
        _take_item(lead, by, now)
        work.cancel_items(model=Lead, subject_ids=[lead.pk], now=now)
        contact = contact_for(lead, now)
        am: User = lead.owner  # type: ignore[assignment]  # _take_item: the lead is in its AM's hands
        opportunity = Opportunity.objects.create(
            name=name,
            account=contact.account,
            contact=contact,
            lead=lead,
            owner=am,
            campaign=lead.campaign,
            kind=Opportunity.Kind.EXPANSION,
            status=Opportunity.Status.OPEN,
            stage=stage,
            budget=Qualification.UNKNOWN,
            authority=Qualification.UNKNOWN,
            need=Qualification.CONFIRMED,
            need_note=note,
            timing=Qualification.UNKNOWN,
            asked_for_meeting=lead.hand_raiser,
            amount=amount,
            handed_off_at=now,
            accepted_at=now,
        )
        opened = (
            f"Upsell / cross-sell opened by {by}" + (f" for {am}" if by.pk != am.pk else "") + f": {name}."
        )
        OpportunityEvent.objects.create(
            opportunity=opportunity, kind=OpportunityEvent.Kind.ACCEPTED, at=now, actor=by, to_stage=stage.name,
            message=f"{opened} {note}"[:500],
        )  # fmt: skip
        if lead.status == Lead.Status.MQL:
            _move(lead, Lead.Status.WORKING, by, "Expansion lead taken up by the account manager", now)
        _move(lead, Lead.Status.HANDED_OFF, by, f"Upsell / cross-sell opportunity opened: {name}", now)
        LeadEvent.objects.create(
            lead=lead, kind=LeadEvent.Kind.OPPORTUNITY, at=now, actor=by,
            message=f"{opened} The opportunity is on {contact.account.name}, in {stage}."[:500],
        )  # fmt: skip
        AccountEvent.objects.create(
            account=contact.account, kind=AccountEvent.Kind.EXPANSION_LEAD, at=now, actor=by,
            message=f"{opened}{f' {money_text(amount)}.' if amount is not None else ''}"[:500],
        )  # fmt: skip
    return opportunity


def not_now(*, lead_id: int, by: User, reason: str, note: str = "", now: datetime | None = None) -> Lead:
    """The customer is not buying now: the lead goes back to marketing's nurture with the
    reason, its expansion item done. Nobody owns it any more, so when it is sales-ready again
    routing offers it afresh, and it comes back to the account's AM as a new expansion lead."""
    if reason not in NOT_NOW_REASONS:
        raise RenewalsError(f"Choose a reason: {', '.join(NOT_NOW_REASONS)}.", field="reason")
    note = (note or "").strip()
    if len(note) > 480:
        raise RenewalsError("Keep the note under 480 characters.", field="note")
    now = now or timezone.now()
    text = f"Not now: {reason}" + (f". {note}" if note else "")
    with transaction.atomic():
        lead = _locked_lead(lead_id, by)
        _take_item(lead, by, now)
        lead = _move(lead, Lead.Status.NURTURE, by, text, now)
        Lead.objects.filter(pk=lead.pk).update(owner=None)
        lead.owner = None
        account = match_customers([lead], served_only=False).get(lead.pk)
        if account is not None:
            AccountEvent.objects.create(
                account=account, kind=AccountEvent.Kind.EXPANSION_LEAD, at=now, actor=by,
                message=f"{lead.name or lead.email}: {text}"[:500],
            )  # fmt: skip
    return lead
