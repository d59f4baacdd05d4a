"""The SDR's hand-off: a qualified lead becomes an opportunity waiting for an AE.

``hand_off`` owns its transaction, locks the lead, matches (or creates) the account and the
contact, opens the opportunity with an acceptance timer in the AE's queue, and closes the
lead's SDR work, writing both timelines in the same transaction. Refusals raise
``AccountsError`` with a message for the user (and the field at fault) and change nothing.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from leads.models import Channel, Lead
from leads.services import IN_SALES, transition_lead
from notifications.models import Kind
from notifications.services import News, notify
from sdr.services import cadences, pick_ae
from team.models import User
from work import services as work
from work.models import WorkItem

from ..access import may_hand_off, takes_handoffs
from ..models import (
    Account,
    Contact,
    Opportunity,
    OpportunityEvent,
    Qualification,
)
from .common import AccountsError, acceptance_policy

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


def email_domain(email: str) -> str:
    """The company domain of an address, or '' for a free mail provider."""
    domain = email.rpartition("@")[2].strip().lower()
    return "" if domain in FREE_MAIL_DOMAINS else domain


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
    if ae is not None and not takes_handoffs(ae):
        raise AccountsError(f"{ae} is not an active account executive.", field="ae")
    if ae is None:
        ae = _round_robin_ae(lead_id, by, now)
    with transaction.atomic():
        lead = (
            Lead.objects.select_for_update(of=("self",)).select_related("campaign", "owner").get(pk=lead_id)
        )
        _check_hand_off(lead, by)
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
        notify(
            [
                News(
                    recipient_id=ae.pk,
                    kind=Kind.ASSIGNED,
                    text=f"Handoff from {opportunity.sdr}: {opportunity.name}, to accept or reject",
                    url=opportunity.get_absolute_url(),
                )
            ],
            by=by,
            now=now,
        )
    return opportunity


def _round_robin_ae(lead_id: int, by: User, now: datetime) -> User:
    """The territory's next AE, picked in a transaction of its own that commits at once.

    The team's round-robin row is locked from the pick to the commit. Inside the handoff's
    transaction it stayed locked while the account, contact, opportunity, timers and lead
    were written, and every handoff into the team queued behind it: under the mixed load
    (``make loadtest``) those waits were the database's largest share at 500 reps. The
    price: a handoff that fails after its pick (the lead was handed off meanwhile) has
    moved the team's position by one, as if that AE had had a turn."""
    with transaction.atomic():
        lead = Lead.objects.select_related("campaign", "owner").get(pk=lead_id)
        _check_hand_off(lead, by)
        ae = pick_ae(lead=lead, now=now)
    if ae is None:
        raise AccountsError(
            "No AE territory rule matches this lead, or every AE in it is away: choose an AE.",
            field="ae",
        )
    return ae


def _check_hand_off(lead: Lead, by: User) -> None:
    if lead.status not in IN_SALES:
        raise AccountsError(
            f"A lead in {lead.get_status_display()} cannot be handed off; only MQLs and working leads can."
        )
    if not may_hand_off(by):
        raise AccountsError("Only the lead's SDR (or a manager) hands a lead off.")
    if by.is_sdr and lead.owner_id != by.pk:
        raise AccountsError("This lead is not in your queue (it was reassigned).")


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
