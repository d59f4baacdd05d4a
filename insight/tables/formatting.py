"""Numbers as people read them in a table or a card: counts with thousands separators, money
with its currency and two decimals (or three significant figures on a card), rates as percentages, durations,
a lead's status by its label, a moment in the viewer's zone."""

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from kit.display import money_text, when_text, with_currency
from leads.models import Lead
from work.metrics import format_duration

NO_LEADS = "no leads"  # a rate over nothing: not 0%


def count(value) -> str:
    return f"{value or 0:,}"


def money(value) -> str:
    if value is None:
        return "—"
    return money_text(Decimal(value), cents=True)


COMPACT_UNITS = ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "k"))


def compact_money(value) -> str:
    """A headline amount in three significant figures ("1.45 M", "66 k", "980"): a card is
    too narrow for "1,446,000.00", and the exact figure goes beside it (a title, the note)."""
    if value is None:
        return "—"
    amount = Decimal(value)
    for size, unit in COMPACT_UNITS:
        scaled = _three_figures(abs(amount) / size)
        if scaled >= 1:
            if scaled >= 1000 and unit != "B":
                continue  # 999,999 rounds to 1,000 k: one unit up reads 1 M
            return with_currency(f"{_plain(scaled)} {unit}", negative=amount < 0)
    return with_currency(_plain(_three_figures(abs(amount))), negative=amount < 0)


def _three_figures(amount: Decimal) -> Decimal:
    if not amount:
        return Decimal(0)
    return amount.quantize(Decimal(10) ** (amount.adjusted() - 2), ROUND_HALF_UP)  # 123.4: adjusted() 2


def _plain(amount: Decimal) -> str:
    """1.450 as "1.45", 66.0 as "66", 1000 as "1,000"."""
    text = f"{amount:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent(part, whole) -> str:
    """``part`` of ``whole`` as a percentage with one decimal ("—" when nothing to rate)."""
    if not whole:
        return "—"
    return f"{100 * part / whole:.1f}%"


def rate(value) -> str:
    """A rate given as a fraction (0.25) as "25.0%"."""
    if value is None:
        return "—"
    return f"{100 * float(value):.1f}%"


def duration(value: timedelta | None) -> str:
    return format_duration(value)


def status_label(status: str) -> str:
    """A lead status as people read it ("working" as "Working (SDR)"); the fact stores the code."""
    try:
        return Lead.Status(status).label
    except ValueError:
        return status or "—"


def local_time(moment: datetime | None, tz) -> str:
    """A moment in the zone ``tz`` as every page shows one ("Tue 3 Mar 2026, 09:30 CET")."""
    if moment is None:
        return "—"
    return when_text(moment, tz)
