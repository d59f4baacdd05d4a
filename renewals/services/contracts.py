"""Customers and their contracts: contracts added by hand, by an import or by a won deal
(``accounts.signals.opportunity_won``) make the account a customer with an AM, and the
renewal windows they are already inside open at once."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Opportunity
from kit.display import day_text, money_text
from notifications.services import notify
from team.models import User

from ..models import AccountEvent, Contract, RenewalSettings
from .base import Terms, term_end
from .managers import account_news, pick_account_managers
from .windows import open_windows


def _make_customers(
    accounts: Sequence[Account], by: User | None, now: datetime, why: dict[int, str]
) -> list[AccountEvent]:
    """Mark the (locked) accounts customers and give those without an AM one by territory
    (one rule read and one round-robin lock for the batch); the events to write."""
    events, changed = [], []
    for account in accounts:
        if account.customer_since is None or account.churned_at is not None:
            back = account.churned_at is not None
            account.customer_since = account.customer_since if back else now
            account.churned_at = None
            changed.append(account)
            events.append(
                AccountEvent(
                    account=account,
                    kind=AccountEvent.Kind.CUSTOMER,
                    at=now,
                    actor=by,
                    message=("Customer again: " if back else "") + why[account.pk],
                )
            )
    unmanaged = [a for a in accounts if a.account_manager_id is None]
    picked = pick_account_managers(unmanaged, now)
    notify(account_news(picked, " (a new customer)"), by=by, now=now)
    for account, am in picked.items():
        account.account_manager = am
        changed.append(account)
        events.append(
            AccountEvent(
                account=account,
                kind=AccountEvent.Kind.AM_ASSIGNED,
                at=now,
                message=f"{am} manages the account (territory round-robin).",
            )
        )
    if changed:
        Account.objects.bulk_update(
            list({a.pk: a for a in changed}.values()), ["customer_since", "churned_at", "account_manager"]
        )
    return events


def _contract_event(contract: Contract, by: User | None, now: datetime) -> AccountEvent:
    c = contract
    return AccountEvent(
        account_id=c.account_id,
        contract=c,
        kind=AccountEvent.Kind.CONTRACT,
        at=now,
        actor=by,
        amount=c.annual_value,
        message=f"{money_text(c.annual_value)} a year, {day_text(c.start_date)} to {day_text(c.end_date)}"
        + (f", {c.products}" if c.products else "")
        + (f", {c.seats} seats" if c.seats else "")
        + (" (auto-renews)" if c.auto_renew else "")
        + ".",
    )


def add_contracts(
    *,
    account: Account,
    terms: Sequence[Terms],
    by: User | None,
    source: str,
    now: datetime | None = None,
    opportunity: Opportunity | None = None,
) -> list[Contract]:
    """Create contracts for one account, making it a customer; windows the contracts are
    already inside open at once. The caller validated ``terms``."""
    (contracts,) = add_contracts_many(
        [(account, terms)], by=by, source=source, now=now, opportunity=opportunity
    )
    return contracts


def add_contracts_many(
    batch: Sequence[tuple[Account, Sequence[Terms]]],
    *,
    by: User | None,
    source: str,
    now: datetime | None = None,
    opportunity: Opportunity | None = None,
) -> list[list[Contract]]:
    """Contracts for many accounts in one transaction and a fixed number of statements (an
    import): the accounts locked in id order, made customers, AMs picked by territory for
    those without one, the contracts and timeline events inserted in bulk, and the windows
    they are already inside opened. Returns each account's contracts in ``batch`` order."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = [account.pk for account, _ in batch]
        # no_key: the renewal run inserting rows that point at these accounts need not wait.
        accounts = Account.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk").in_bulk()
        if opportunity is not None:
            why = f"won {opportunity.name}"
        else:
            why = f"contract {Contract.Source(source).label.lower()}"
        events = _make_customers(list(accounts.values()), by, now, dict.fromkeys(accounts, why))
        made = Contract.objects.bulk_create(
            Contract(
                account=accounts[account.pk],
                number=t.number,
                source=source,
                opportunity=opportunity,
                renewed_from_id=t.renewed_from_id,
                start_date=t.start_date,
                end_date=t.end_date,
                annual_value=t.annual_value,
                products=t.products,
                seats=t.seats,
                auto_renew=t.auto_renew,
                created_at=now,
                created_by=by,
            )
            for account, terms in batch
            for t in terms
        )
        if source != Contract.Source.RENEWAL:  # the outcome's own event says it
            events += [_contract_event(c, by, now) for c in made]
        AccountEvent.objects.bulk_create(events)
        open_windows(contract_ids=[c.pk for c in made], now=now)
    result, at = [], 0
    for _, terms in batch:
        result.append(made[at : at + len(terms)])
        at += len(terms)
    return result


def on_opportunity_won(sender, *, opportunity: Opportunity, by: User, at: datetime, **kwargs) -> None:
    """``accounts.signals.opportunity_won`` receiver: the account becomes a customer with a
    contract for the amount won, starting on the day it was won, for the default term."""
    start = timezone.localdate(at)
    terms = Terms(
        start_date=start,
        end_date=term_end(start, RenewalSettings.load().term_months),
        annual_value=opportunity.amount or Decimal(0),
        products=opportunity.name[:300] if opportunity.kind == Opportunity.Kind.EXPANSION else "",
    )
    add_contracts(
        account=opportunity.account, terms=[terms], by=by, source=Contract.Source.WON, now=at,
        opportunity=opportunity,
    )  # fmt: skip
