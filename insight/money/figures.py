"""The money page's rows (``MoneyRow``: a campaign's, a channel's or the period's spend and
what it brought; ``MonthRow``: a month's pipeline and wins) and the one rounding every amount
goes through: to the cent, half up."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class MoneyRow:
    """One campaign's (or channel's, or the whole period's) spend and what it brought."""

    key: object
    label: str
    spend: Decimal
    leads: int
    mqls: int
    qualified: int
    won: int
    pipeline: Decimal
    won_amount: Decimal

    def _per(self, count: int) -> Decimal | None:
        return per(self.spend, count)

    @property
    def cost_per_lead(self) -> Decimal | None:
        return self._per(self.leads)

    @property
    def cost_per_mql(self) -> Decimal | None:
        return self._per(self.mqls)

    @property
    def cost_per_qualified(self) -> Decimal | None:
        return self._per(self.qualified)

    @property
    def cost_per_won(self) -> Decimal | None:
        return self._per(self.won)

    @property
    def roi(self) -> float | None:
        """Return on spend: what the won deals brought beyond the spend, per unit of spend."""
        if not self.spend:
            return None
        return float((self.won_amount - self.spend) / self.spend)


@dataclass(frozen=True)
class MonthRow:
    """One local month of the period: qualified pipeline created and deals won in it."""

    month: date
    qualified: int
    pipeline: Decimal
    won: int
    won_amount: Decimal


def per(spend: Decimal, count: int) -> Decimal | None:
    """Spend per lead, MQL... (to the cent, half up); None for none."""
    if not count:
        return None
    return (spend / count).quantize(CENT, rounding=ROUND_HALF_UP)


def from_cents(value) -> Decimal:
    """Whole cents counted in SQL (None for none) as an amount."""
    return (Decimal(int(value or 0)) / 100).quantize(CENT)


def to_cent(value) -> Decimal:
    """An amount summed in SQL (None for none) to the cent."""
    return ZERO if value is None else Decimal(value).quantize(CENT)
