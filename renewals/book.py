"""An account manager's book: the accounts they manage (a manager's AMs', with the AM), each
with what the accounts list and its API show beside it: the annual value of its active
contracts, its next renewal, and whether a renewal due within the renewals page's horizon is
at risk (the renewals page's own ``Risk``, so both pages agree on which customers are).

Every figure is a scalar subquery in the one query that lists a page of accounts (the
contract_account index: one index read per account and figure), so a page costs the same
number of queries however large the book."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import DecimalField, Exists, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from kit.pages import money_text
from leads.models import ScoringSettings

from .access import account_managers_for, can_manage_accounts, looks_across_ams, reads_every_account
from .due import HORIZON_DAYS, Risk
from .models import Contract, RenewalSettings


class Status:
    """Where an account stands: a customer now, a former customer, or never one yet."""

    CUSTOMER = "customer"
    CHURNED = "churned"
    PROSPECT = "prospect"
    CHOICES = ((CUSTOMER, "Customer"), (CHURNED, "Churned"), (PROSPECT, "Not a customer yet"))
    CONDITIONS = {
        CUSTOMER: Q(customer_since__isnull=False, churned_at__isnull=True),
        CHURNED: Q(churned_at__isnull=False),
        PROSPECT: Q(customer_since__isnull=True, churned_at__isnull=True),
    }


def reads_book(user) -> bool:
    """The accounts list is for AMs and their managers (and superusers), and marketing/ops, who
    read every account."""
    return can_manage_accounts(user) or reads_every_account(user)


def book_accounts(user) -> QuerySet[Account]:
    """The accounts this user's list shows: an AM the accounts they manage; a manager those of
    their AM teams' AMs; a superuser or marketing/ops every account an AM has or had. 403 for
    AEs and SDRs (customer accounts are not theirs)."""
    if not reads_book(user):
        raise PermissionDenied("Customer accounts are the account managers'.")
    if reads_every_account(user):
        return Account.objects.filter(Q(account_manager__isnull=False) | Q(customer_since__isnull=False))
    if not looks_across_ams(user):
        return Account.objects.filter(account_manager=user)
    # The AMs' ids as a list, not a join through their teams (as the renewals page does).
    return Account.objects.filter(account_manager_id__in=[am.pk for am in account_managers_for(user)])


def with_figures(accounts: QuerySet[Account], *, now: datetime | None = None) -> QuerySet[Account]:
    """``accounts`` annotated with ``annual_value`` (its active contracts', 0 without),
    ``next_renewal`` (the soonest end of an active contract, None without) and ``at_risk``."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    risk = Risk(
        now=now, today=today, start_days=RenewalSettings.load().start_days, scoring=ScoringSettings.load()
    )
    active = Contract.objects.active().filter(account_id=OuterRef("pk")).order_by()
    value = active.values("account_id").annotate(total=Sum("annual_value")).values("total")
    soonest = active.values("account_id").annotate(first=Min("end_date")).values("first")
    risky = risk.scope(active.filter(end_date__lte=today + timedelta(days=HORIZON_DAYS))).filter(risk.any)
    money = DecimalField(max_digits=16, decimal_places=2)
    return accounts.annotate(
        annual_value=Coalesce(Subquery(value, output_field=money), Value(0, output_field=money)),
        next_renewal=Subquery(soonest),
        at_risk=Exists(risky),
    )


@dataclass(frozen=True)
class BookRow:
    """One account on the list: the annotated account, its value as text, days to its next
    renewal (negative: past its end, still open), its page's link."""

    account: Account
    value_text: str
    days: int | None
    url: str


def book_rows(accounts, today: date) -> list[BookRow]:
    """``accounts`` read with ``with_figures`` (and their AM): shaped, no query."""
    return [
        BookRow(
            account=a,
            value_text=money_text(a.annual_value) or "0",
            days=(a.next_renewal - today).days if a.next_renewal is not None else None,
            # Reversed here, not by the template's url tag: a page of 50 rows renders faster.
            url=reverse("renewals:account", args=[a.pk]),
        )
        for a in accounts
    ]
