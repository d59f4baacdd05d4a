"""What the AM's pages show, as small dataclasses the templates read: the model instance a
row stands for, and beside it what the page computed for it (days left, amounts as text, SLA
badges, links), instead of attributes attached to the instances. A work item beside its SLA
badge is sdr's ``ItemLine``.

Links are reversed here, not by the templates' url tag, where a page shows many rows: a page
of 150 renewals renders faster.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, Max, Sum
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Contact, Opportunity
from kit.pages import money_text
from leads.models import Lead
from sdr.views import ItemLine, sla_display
from work.models import WorkItem

from .access import can_manage_accounts, opens_opportunity, visible_expansion_items
from .models import Contract
from .services import NOT_NOW_REASONS, match_customers

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# The AM's list shows the most urgent expansion leads; an AM has a handful at a time.
EXPANSION_LIMIT = 100


@dataclass
class RenewalRow:
    """A contract on the renewals page: days left, value, why it is at risk, the last
    conversation (in the user's zone), its open renewal items."""

    contract: Contract
    days: int
    value_text: str
    reasons: list[str]
    talked_text: str
    url: str
    account_url: str
    items: list[ItemLine]

    @property
    def ago(self) -> int:
        return -self.days


@dataclass
class TermRow:
    """One term on the account page with its predecessor and successor among those shown."""

    contract: Contract
    value_text: str
    days: int | None
    previous: Contract | None = None
    following: Contract | None = None


def term_rows(contracts: list[Contract], today: date) -> list[TermRow]:
    """Every term given, each with its predecessor and successor (same account)."""
    rows = [
        TermRow(
            contract=c,
            value_text=money_text(c.annual_value),
            days=c.days_left(today) if c.is_active else None,
        )
        for c in contracts
    ]
    by_id = {row.contract.pk: row for row in rows}
    for row in rows:
        renewed_from = row.contract.renewed_from_id
        previous = by_id.get(renewed_from) if renewed_from is not None else None
        if previous is not None:
            row.previous, previous.following = previous.contract, row.contract
    return rows


@dataclass
class ContactRow:
    """A person at the account, with their lead's grade and engagement now (None without)."""

    contact: Contact
    grade_now: str | None = None
    engagement_now: int | None = None


def contact_rows(contacts: list[Contact], now: datetime, half_life_days) -> list[ContactRow]:
    rows = []
    for contact in contacts:
        lead = contact.lead
        if lead is None:
            rows.append(ContactRow(contact))
        else:
            rows.append(
                ContactRow(
                    contact,
                    grade_now=lead.grade(now, half_life_days),
                    engagement_now=round(lead.engagement(now, half_life_days)),
                )
            )
    return rows


@dataclass
class OpportunityRow:
    """An opportunity on the account page: its amount as text, and its page's link when it
    is the user's to open."""

    opportunity: Opportunity
    amount_text: str
    url: str


class Visible(TypedDict):
    visible: bool


def opportunity_rows(
    opportunities: "Sequence[WithAnnotations[Opportunity, Visible]]", user
) -> list[OpportunityRow]:
    """``opportunities`` annotated with ``visible`` (``access.visible_opportunity``), read with
    ``renewal_of``: a renewal the user may not open (an AM's: renewals close on the contract's
    page) links to its contract's page instead, which the account page's reader may open."""
    return [
        OpportunityRow(
            opportunity=o,
            amount_text=money_text(o.amount),
            url=_opportunity_url(o, user),
        )
        for o in opportunities
    ]


def _opportunity_url(opportunity, user) -> str:
    if opens_opportunity(user, opportunity, opportunity.visible):
        return reverse("accounts:opportunity", args=[opportunity.pk])
    renewed = getattr(opportunity, "renewal_of", None)
    return reverse("renewals:contract", args=[renewed.pk]) if renewed is not None else ""


@dataclass
class ExpansionCard:
    """An expansion lead waiting on an AM: its work item, the lead, the customer account (None
    when the company is no longer an account), the SLA badge, the upsell's default name; and
    after a refused action, the error or the refused form."""

    item: WorkItem
    expansion_lead: Lead
    account: Account | None
    sla_css: str
    sla_text: str
    countdown: str
    default_name: str
    not_now_reasons: tuple[str, ...] = NOT_NOW_REASONS
    error: str = ""
    upsell_form: object = None
    not_now_form: object = None


def expansion_items_for(
    user, *, now: datetime | None = None, limit: int = EXPANSION_LIMIT
) -> list[ExpansionCard]:
    """The open expansion-lead items an AM works (a manager: their AM teams'), most urgent
    first. Four queries whatever the number: items, leads, contacts, accounts."""
    now = now or timezone.now()
    if not can_manage_accounts(user):
        return []
    visible = visible_expansion_items(user, WorkItem.objects.open().filter(kind=WorkItem.Kind.EXPANSION_LEAD))
    items = list(visible.select_related("policy", "owner").order_by("due_at", "id")[:limit])
    leads = {
        lead.pk: lead
        for lead in Lead.objects.filter(pk__in=[i.object_id for i in items]).select_related("campaign")
    }
    matches = match_customers(list(leads.values()), served_only=False)
    shown = []
    for item in items:
        lead = leads.get(item.object_id)
        if lead is None:
            continue
        account = matches.get(lead.pk)
        company = account.name if account else lead.company or "Upsell"
        shown.append(
            ExpansionCard(
                item, lead, account, *sla_display(item, now), default_name=f"{company}: upsell"[:200]
            )
        )
    return shown


def expansion_fingerprint(user) -> tuple[object, ...]:
    """Which expansion-lead items wait for ``user`` (the list's live version, ``kit.live``):
    one aggregate over the open items they may see."""
    if not can_manage_accounts(user):
        return ()
    visible = visible_expansion_items(user, WorkItem.objects.open().filter(kind=WorkItem.Kind.EXPANSION_LEAD))
    row = visible.aggregate(n=Count("pk"), ids=Sum("pk"), last=Max("pk"), owners=Sum("owner_id"))
    return (row["n"], row["ids"], row["last"], row["owners"])
