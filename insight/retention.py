"""Retention: how much of the revenue up for renewal stayed, grew, shrank or left.

Read from the contracts (``renewals.Contract``), not from the lead facts. The renewals app
records an outcome on a contract (``renewals.services.record_outcome``, or
``auto_renew_ended`` for a term that renews itself): *renewed*, *expanded* or *downsized*
close it (status ``renewed``) and start a new term linked to it (``renewed_from``) at the new
annual value; *churned* closes it (status ``churned``) with a reason and no new term.

Definitions, over the contracts whose term ended (``end_date``) in the period and whose
outcome is recorded (a term that ended without one yet is *pending*: counted apart, in no
rate):

- **base**: their annual value;
- **renewed**: the new term's annual value, capped at the old one (a renewed contract whose
  new term was deleted counts as renewed flat);
- **expansion**: the new term's increase over the old value; **contraction**: its decrease;
- **churned**: the annual value of the churned contracts (``churned_count`` of them);
- **GRR** (gross revenue retention) = (base - contraction - churned) / base;
- **NRR** (net revenue retention) = (base - contraction - churned + expansion) / base.

So renewed + contraction + churned = base, and GRR = renewed / base. A contract is cut into
months by its end date (a date: the calendar's own day, no time zone to convert). The lead
filters (campaign, channel, team ...) do not apply to contracts; retention's own filter, the
account manager (``scope.filters["am"]``, a user id that ``insight.filters`` checked the viewer
may choose), narrows every number here to the contracts of the accounts that AM manages.

Who sees which contracts (``visible_contracts``): superusers all, a manager their AM teams',
an AM the accounts they manage, everyone else none.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, DecimalField, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest, Least, TruncMonth

from renewals.models import Contract
from team.models import Role

from .money import months
from .scope import Scope

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
NO_AM = "No account manager"


@dataclass(frozen=True)
class RetentionRow:
    """The renewals due in one month (or of one AM, or the whole period) and what became of
    them."""

    key: object
    label: str
    base: Decimal
    renewed: Decimal
    expansion: Decimal
    contraction: Decimal
    churned: Decimal
    churned_count: int
    contracts: int = 0
    pending: int = 0
    pending_value: Decimal = ZERO

    @property
    def grr(self) -> float | None:
        """Gross revenue retention (None without a base)."""
        if not self.base:
            return None
        return float((self.base - self.contraction - self.churned) / self.base)

    @property
    def nrr(self) -> float | None:
        """Net revenue retention (None without a base)."""
        if not self.base:
            return None
        return float((self.base - self.contraction - self.churned + self.expansion) / self.base)


@dataclass(frozen=True)
class ChurnReasonRow:
    reason: str
    count: int
    value: Decimal


def visible_contracts(user) -> QuerySet[Contract]:
    """The contracts whose retention ``user`` may see: the renewals app's own rule
    (``Contract.objects.visible_to``: superusers all, a manager their AM teams', an AM the
    accounts they manage), for the roles whose insight includes retention."""
    if not (user.is_authenticated and (user.is_superuser or user.role in (Role.MANAGER, Role.AM))):
        return Contract.objects.none()
    return Contract.objects.visible_to(user)


def ended(scope: Scope) -> QuerySet[Contract]:
    """The visible contracts whose term ended in the period (decided or not), of the chosen
    account manager's accounts when one is chosen."""
    contracts = visible_contracts(scope.user).filter(
        end_date__gte=scope.period.start, end_date__lte=scope.period.end
    )
    if "am" in scope.filters:
        contracts = contracts.filter(account__account_manager=scope.filters["am"])
    return contracts


def _money(expression) -> Coalesce:
    return Coalesce(Sum(expression), Value(ZERO), output_field=DecimalField(max_digits=16, decimal_places=2))


def _aggregates() -> dict:
    """Sums per group: decided contracts only in the rates; pending apart."""
    money = DecimalField(max_digits=16, decimal_places=2)
    decided = ~Q(outcome="")
    churned = Q(outcome=Contract.Outcome.CHURNED)
    old = F("annual_value")
    new = Coalesce(F("renewed_by__annual_value"), old, output_field=money)
    zero = Value(ZERO, output_field=money)
    kept = decided & ~churned

    def when_kept(value):
        return Case(When(kept, then=value), default=zero, output_field=money)

    return {
        "contracts": Count("pk", filter=decided),
        "base": _money(Case(When(decided, then=old), default=zero, output_field=money)),
        "renewed": _money(when_kept(Least(new, old, output_field=money))),
        "expansion": _money(when_kept(Greatest(new - old, zero, output_field=money))),
        "contraction": _money(when_kept(Greatest(old - new, zero, output_field=money))),
        "churned": _money(Case(When(churned, then=old), default=zero, output_field=money)),
        "churned_count": Count("pk", filter=churned),
        "pending": Count("pk", filter=Q(outcome="")),
        "pending_value": _money(Case(When(outcome="", then=old), default=zero, output_field=money)),
    }


def _cents(value) -> Decimal:
    return ZERO if value is None else Decimal(value).quantize(CENT)


def _row(key, label, sums: Mapping[str, Any] | None) -> RetentionRow:
    sums = sums or {}
    return RetentionRow(
        key=key,
        label=label,
        base=_cents(sums.get("base")),
        renewed=_cents(sums.get("renewed")),
        expansion=_cents(sums.get("expansion")),
        contraction=_cents(sums.get("contraction")),
        churned=_cents(sums.get("churned")),
        churned_count=sums.get("churned_count") or 0,
        contracts=sums.get("contracts") or 0,
        pending=sums.get("pending") or 0,
        pending_value=_cents(sums.get("pending_value")),
    )


def total(scope: Scope) -> RetentionRow:
    """The whole period. One query."""
    return _row("total", "All renewals", ended(scope).aggregate(**_aggregates()))


def by_month(scope: Scope) -> list[RetentionRow]:
    """Each month of the period (by the contracts' end dates), empty months included. One
    query."""
    sums = {
        r["month"]: r
        for r in ended(scope)
        .annotate(month=TruncMonth("end_date"))
        .values("month")
        .annotate(**_aggregates())
        .order_by()
    }
    return [_row(month, f"{month:%b %Y}", sums.get(month)) for month in months(scope)]


def _am_label(row: Mapping[str, Any]) -> str:
    if row["am"] is None:
        return NO_AM
    full = f"{row['first_name'] or ''} {row['last_name'] or ''}".strip()
    return full or row["username"]


def by_am(scope: Scope) -> list[RetentionRow]:
    """One row per account manager with contracts ending in the period (the accounts without
    an AM together), by name. One query."""
    rows = (
        ended(scope)
        .values(
            am=F("account__account_manager"),
            first_name=F("account__account_manager__first_name"),
            last_name=F("account__account_manager__last_name"),
            username=F("account__account_manager__username"),
        )
        .annotate(**_aggregates())
        .order_by()
    )
    result = [_row(r["am"], _am_label(r), r) for r in rows]
    return sorted(result, key=lambda r: (r.key is None, r.label.lower()))


def churn_reasons(scope: Scope) -> list[ChurnReasonRow]:
    """Why the contracts ending in the period churned: how many and how much a year, the most
    frequent first. One query."""
    rows = (
        ended(scope)
        .filter(outcome=Contract.Outcome.CHURNED)
        .values("churn_reason")
        .annotate(count=Count("pk"), value=_money("annual_value"))
        .order_by("-count", "-value", "churn_reason")
    )
    return [
        ChurnReasonRow(reason=r["churn_reason"], count=r["count"], value=_cents(r["value"])) for r in rows
    ]
