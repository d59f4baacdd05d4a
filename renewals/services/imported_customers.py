"""Customers from an import: a lead the source system said is a customer becomes a contact at a
customer account with an AM, in the import batch's transaction (``leads.signals.
customers_imported``); the accounts and contacts made are recorded (``ImportedRecord``), so
undoing the import (``leads.signals.import_undone``) removes those nobody touched since.
Set-based per batch: a fixed number of statements whatever its size."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import Account, AccountRedirect, Activity, Contact, Opportunity
from accounts.services import email_domain
from leads.models import Lead
from notifications.services import notify

from ..models import AccountEvent, Contract, ImportedRecord
from .managers import account_news, pick_account_managers


def on_customers_imported(sender, *, lead_ids: Sequence[int], job_id: int, **kwargs) -> None:
    """``leads.signals.customers_imported`` receiver (see ``make_imported_customers``)."""
    make_imported_customers(lead_ids=lead_ids, job_id=job_id)


def make_imported_customers(
    *, lead_ids: Sequence[int], job_id: int, now: datetime | None = None
) -> list[int]:
    """Each lead's contact (an existing one with its email, else a new one) at its account: the
    account with the email's domain, else (a free mail address) one named as its company, else
    a new account. The accounts become customers and those without an AM get one by the usual
    rules (territory round-robin). Call inside the import's transaction. Returns the accounts."""
    now = now or timezone.now()
    leads = list(Lead.objects.filter(pk__in=list(lead_ids)).order_by("pk"))
    if not leads:
        return []
    contacts = {
        c.email: c
        for c in Contact.objects.select_related("account").filter(
            Q(email__in=[lead.email for lead in leads]) | Q(lead__in=leads)
        )
    }
    by_lead = {c.lead_id: c for c in contacts.values() if c.lead_id}
    homeless = [lead for lead in leads if lead.pk not in by_lead and lead.email not in contacts]
    domains = {email_domain(lead.email) for lead in homeless} - {""}
    names = {lead.company.lower() for lead in homeless if not email_domain(lead.email) and lead.company}
    by_domain = {a.domain: a for a in Account.objects.filter(domain__in=domains)} if domains else {}
    by_name: dict[str, Account] = {}
    if names:
        named = (
            Account.objects.annotate(lower_name=Lower("name")).filter(lower_name__in=names).order_by("-pk")
        )
        by_name = {named_account.name.lower(): named_account for named_account in named}  # the oldest wins
    fresh: dict[str, Account] = {}
    account_of: dict[int, Account] = {}
    for lead in homeless:
        domain = email_domain(lead.email)
        key = domain or f"name:{(lead.company or lead.email).lower()}"
        account: Account | None = by_domain.get(domain) if domain else by_name.get(lead.company.lower())
        account = account or fresh.get(key)
        if account is None:
            account = fresh[key] = Account(
                name=(lead.company or lead.name or lead.email)[:200],
                domain=domain,
                industry=lead.industry,
                country=lead.country,
                employees=lead.employees,
                created_at=now,
            )
        account_of[lead.pk] = account
    Account.objects.bulk_create(fresh.values())  # a concurrent account for a domain retries the batch
    new_contacts = [
        Contact(
            account=account_of[lead.pk],
            lead=lead,
            email=lead.email,
            first_name=lead.first_name,
            last_name=lead.last_name,
            title=lead.title,
            phone=lead.phone,
            created_at=now,
        )
        for lead in homeless
    ]
    Contact.objects.bulk_create(new_contacts)
    ImportedRecord.objects.bulk_create(
        [ImportedRecord(job_id=job_id, account=account) for account in fresh.values()]
        + [ImportedRecord(job_id=job_id, contact=contact) for contact in new_contacts]
    )
    unlinked = [
        c
        for lead in leads
        if lead.pk not in by_lead and (c := contacts.get(lead.email)) is not None and c.lead_id is None
    ]
    lead_by_email = {lead.email: lead for lead in leads}
    for contact in unlinked:
        contact.lead = lead_by_email[contact.email]
    Contact.objects.bulk_update(unlinked, ["lead"])
    account_ids = {c.account_id for c in contacts.values()} | {c.account_id for c in new_contacts}
    accounts = list(Account.objects.select_for_update(no_key=True).filter(pk__in=account_ids).order_by("pk"))
    _make_customers(accounts, job_id, now)
    return [a.pk for a in accounts]


def _make_customers(accounts: list[Account], job_id: int, now: datetime) -> None:
    events, changed = [], {}
    for account in accounts:
        if not account.is_customer:
            again = account.churned_at is not None
            account.customer_since = account.customer_since if again else now
            account.churned_at = None
            changed[account.pk] = account
            events.append(
                AccountEvent(
                    account=account,
                    kind=AccountEvent.Kind.CUSTOMER,
                    at=now,
                    message=("Customer again" if again else "A customer")
                    + f" in the source of import #{job_id}.",
                )
            )
    picked = pick_account_managers([a for a in accounts if a.account_manager_id is None], now)
    for account, am in picked.items():
        account.account_manager = am
        changed[account.pk] = account
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
            list(changed.values()), ["customer_since", "churned_at", "account_manager"]
        )
    AccountEvent.objects.bulk_create(events)
    notify(account_news(picked, " (a customer from an import)"), now=now)


def on_import_undone(sender, *, job_id: int, lead_ids: Sequence[int], since: datetime, **kwargs) -> None:
    """``leads.signals.import_undone`` receiver (see ``remove_imported_customers``)."""
    remove_imported_customers(job_id=job_id, lead_ids=lead_ids, since=since)


@dataclass(frozen=True)
class RemovedCustomers:
    contacts: int
    accounts: int


def remove_imported_customers(*, job_id: int, lead_ids: Sequence[int], since: datetime) -> RemovedCustomers:
    """Undoing an import, before its leads ``lead_ids`` are removed: the contacts it made for
    them go, unless someone logged work with them, handed them an opportunity or wrote to them;
    then the accounts it made that are left without contacts go, unless someone worked on them
    since ``since`` (the import's end): work logged, an opportunity, a contract, an event of
    their own (an AM changed, a renewal...), made a target or merged with another. Accounts
    it only made customers (they existed before) stay as they are. Call inside the undo's
    transaction; a fixed number of statements whatever the number of leads."""
    made = ImportedRecord.objects.filter(job_id=job_id)
    contacts = list(
        Contact.objects.filter(
            pk__in=made.filter(contact__isnull=False).values("contact"),
            lead_id__in=list(lead_ids),
            activities__isnull=True,
            opportunities__isnull=True,
            email_messages__isnull=True,  # mail sits above renewals: its reverse name only
        ).values_list("pk", "account_id")
    )
    if not contacts:
        return RemovedCustomers(contacts=0, accounts=0)
    Contact.objects.filter(pk__in=[pk for pk, _ in contacts]).delete()
    accounts = (
        Account.objects.filter(
            pk__in=made.filter(account_id__in={account_id for _, account_id in contacts}).values("account"),
            prospector__isnull=True,
        )
        .exclude(Exists(Contact.objects.filter(account=OuterRef("pk"))))
        .exclude(Exists(Activity.objects.filter(account=OuterRef("pk"))))
        .exclude(Exists(Opportunity.objects.filter(account=OuterRef("pk"))))
        .exclude(Exists(Contract.objects.filter(account=OuterRef("pk"))))
        .exclude(Exists(AccountEvent.objects.filter(account=OuterRef("pk"), at__gt=since)))
        .exclude(Exists(AccountRedirect.objects.filter(account=OuterRef("pk"))))
    )
    accounts.delete()
    left = Account.objects.filter(pk__in={account_id for _, account_id in contacts}).count()
    return RemovedCustomers(contacts=len(contacts), accounts=len({a for _, a in contacts}) - left)
