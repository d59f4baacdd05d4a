"""What the account manager's exports hold (``kit.exporting``): the accounts of the book (with
the accounts list's own figures), the contacts at those accounts, and contracts. Each is read in
one query, the AM's name joined in."""

from kit.display import currency
from kit.exporting import Column, Export, amount, day, labels, person, utc, yes_no

from .book import Status
from .models import Contract

AM = ("account_manager__first_name", "account_manager__last_name", "account_manager__username")
ACCOUNT_AM = tuple(f"account__{key}" for key in AM)


def _status(customer_since, churned_at) -> str:
    """The accounts list's status (``renewals.book.Status``) from the two dates."""
    if churned_at is not None:
        return Status.CHURNED
    return Status.CUSTOMER if customer_since is not None else Status.PROSPECT


# Over ``renewals.book.with_figures(...)``: annual_value, next_renewal and at_risk are its figures.
ACCOUNT_EXPORT = Export(
    [
        Column.of("id"),
        Column.of("name"),
        Column.of("domain"),
        Column.of("industry"),
        Column.of("country"),
        Column.of("employees"),
        Column.of("status", "customer_since", "churned_at", format=_status),
        Column.of("account manager", *AM, format=person),
        Column.of("account manager email", "account_manager__email"),
        Column.of("annual value", "annual_value", format=amount),
        Column.constant("currency", currency),
        Column.of("next renewal", "next_renewal", format=day),
        Column.of("at risk", "at_risk", format=yes_no),
        Column.of("customer since (UTC)", "customer_since", format=utc),
        Column.of("churned at (UTC)", "churned_at", format=utc),
        Column.of("created at (UTC)", "created_at", format=utc),
    ]
)

CONTACT_EXPORT = Export(
    [
        Column.of("id"),
        Column.of("first name", "first_name"),
        Column.of("last name", "last_name"),
        Column.of("email"),
        Column.of("title"),
        Column.of("phone"),
        Column.of("account id", "account_id"),
        Column.of("account", "account__name"),
        Column.of("account domain", "account__domain"),
        Column.of("account manager", *ACCOUNT_AM, format=person),
        Column.of("lead id", "lead_id"),
        Column.of("created at (UTC)", "created_at", format=utc),
    ]
)

CONTRACT_EXPORT = Export(
    [
        Column.of("id"),
        Column.of("number"),
        Column.of("account id", "account_id"),
        Column.of("account", "account__name"),
        Column.of("account domain", "account__domain"),
        Column.of("account manager", *ACCOUNT_AM, format=person),
        Column.of("status", format=labels(Contract.Status.choices)),
        Column.of("start date", "start_date", format=day),
        Column.of("end date", "end_date", format=day),
        Column.of("annual value", "annual_value", format=amount),
        Column.constant("currency", currency),
        Column.of("products"),
        Column.of("seats"),
        Column.of("auto-renews", "auto_renew", format=yes_no),
        Column.of("source", format=labels(Contract.Source.choices)),
        Column.of("outcome", format=labels(Contract.Outcome.choices)),
        Column.of("churn reason", "churn_reason"),
        Column.of("closed at (UTC)", "closed_at", format=utc),
        Column.of("renewal conversation at (UTC)", "renewal_activity_at", format=utc),
        Column.of("created at (UTC)", "created_at", format=utc),
    ]
)

# The renewals page's contracts: those columns and the page's own risk test
# (``renewals.due.Risk.any``, annotated as ``at_risk``).
RENEWAL_EXPORT = Export([*CONTRACT_EXPORT.columns, Column.of("at risk", "at_risk", format=yes_no)])
