"""What the renewals services share: the refusal, the renewal SLA policies, the term
arithmetic (months, a term's last day) and ``Terms``, a contract term as entered."""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from kit import bounds
from kit.errors import Refused
from work import services as work
from work.models import SlaPolicy, WorkItem

DEFAULT_POLICIES = {
    SlaPolicy.RENEWAL_START: {
        "name": "Start a renewal conversation (5 business days)",
        "target_minutes": 5 * 8 * 60,
    },
    SlaPolicy.RENEWAL_REMINDER: {"name": "Renewal reminder (2 business days)", "target_minutes": 2 * 8 * 60},
    SlaPolicy.RENEWAL_DUE: {
        "name": "Renewal closed by the contract's last day",
        "target_minutes": 24 * 60,
        "mode": SlaPolicy.Mode.WALL_CLOCK,
    },
    SlaPolicy.EXPANSION_LEAD: {
        "name": "First touch: expansion lead (1 business day)",
        "target_minutes": 8 * 60,
    },
}
# A run that missed days still opens renewals of contracts that ended this recently.
CATCH_UP_DAYS = 7
BATCH = 2_000
RENEWAL_ITEM_KINDS = (WorkItem.Kind.RENEWAL_START, WorkItem.Kind.RENEWAL_REMINDER, WorkItem.Kind.RENEWAL_DUE)


class RenewalsError(Refused):
    """A change the contract's state or the user's role does not allow; ``field`` names the
    input at fault when there is one."""


def renewal_policies() -> dict[str, SlaPolicy]:
    """The renewal SLA policies, created with their defaults if an admin removed them."""
    policies = work.policies_by_key(*DEFAULT_POLICIES)
    for key, defaults in DEFAULT_POLICIES.items():
        if key not in policies:
            policies[key], _ = SlaPolicy.objects.get_or_create(key=key, defaults=defaults)
    return policies


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (Jan 31 + 1 = Feb 28/29)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def term_end(start: date, months: int) -> date:
    """The last day of a term of ``months`` starting on ``start``: the day before the same day
    ``months`` later or, when that month has no such day, its last day (a year from Feb 29
    ends on Feb 28, a month from Jan 31 on Feb 28/29), so no day falls between two terms."""
    anniversary = add_months(start, months)
    if anniversary.day < start.day:  # clamped: the anniversary would be the 1st of the next month
        return anniversary
    return anniversary - timedelta(days=1)


@dataclass
class Terms:
    """A contract term as entered by a person, an import row or the API."""

    start_date: date
    end_date: date
    annual_value: Decimal
    products: str = ""
    seats: int | None = None
    auto_renew: bool = False
    number: str = ""
    renewed_from_id: int | None = None  # the term this one renews (set by the renewal itself)

    def problems(self) -> dict[str, str]:
        errors = {}
        for name in ("start_date", "end_date"):
            if not bounds.date_in_range(getattr(self, name)):
                # A term ending in 9999 could not be renewed: its next term would start in 10000.
                errors[name] = bounds.DATE_RANGE_MESSAGE
        if not errors and self.end_date <= self.start_date:
            errors["end_date"] = "The end date comes after the start date."
        if self.annual_value is None or self.annual_value < 0:
            errors["annual_value"] = "The annual value is an amount of zero or more."
        elif self.annual_value >= bounds.MONEY_LIMIT:
            errors["annual_value"] = "The annual value is below 1,000,000,000,000 a year."
        if self.seats is not None and self.seats < 0:
            errors["seats"] = "Seats are a whole number of zero or more."
        elif self.seats is not None and self.seats > bounds.INT_MAX:
            errors["seats"] = f"Seats are at most {bounds.INT_MAX:,}."
        if len(self.products) > 300:
            errors["products"] = "Products fit in 300 characters."
        if len(self.number) > 64:
            errors["number"] = "The contract number fits in 64 characters."
        return errors
