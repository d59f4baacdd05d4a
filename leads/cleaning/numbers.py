"""Numbers as people and CRMs write them: employee counts and annual revenue, in any common
grouping, currency and range notation; "n/a" and other unknowns become empty."""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

_UNKNOWN = frozenset({"n/a", "na", "n.a.", "none", "unknown", "-", "--", "?", "null", "tbd"})
# Grouping characters people put in numbers: comma, dot, apostrophe (Swiss), spaces.
_GROUPING = re.compile(r"[\s'\u00a0\u202f]")
_NUMBER = r"\d[\d.,'\s\u00a0\u202f]*?"
_EMPLOYEES = re.compile(rf"(?P<number>{_NUMBER})\s*(?P<thousands>k)?")
_RANGE_SEPARATOR = re.compile(r"\s*(?:-|\u2013|\u2014|\bto\b)\s*")  # hyphen, en and em dash
_POSITIVE_INTEGER_MAX = 2_147_483_647  # PositiveIntegerField on PostgreSQL


def parse_employees(raw: str) -> int | None:
    """Return an employee count, or None when unknown or unreadable.

    "1,200", "12 000" and "1.200" are 1200 (nobody has a fractional employee, so a dot
    before three digits groups thousands); "1.5k" is 1500; "1000+" is 1000.
    A range such as "501-1000" (CRM size bands) gives its lower bound: it is the only
    figure the band guarantees, so a fit criterion "at least 500" matches it and "at least
    800" does not claim a match the data cannot support. Garbage ("lots") and negative
    numbers are None: an unknown size is no reason to refuse a row.
    """
    text = (raw or "").strip().casefold()
    if not text or text in _UNKNOWN:
        return None
    text = text.removesuffix("+").strip()
    low = _RANGE_SEPARATOR.split(text, maxsplit=1)[0]
    match = _EMPLOYEES.fullmatch(low)
    if match is None:
        return None
    if match["thousands"]:
        number = _to_decimal(match["number"])
        count = int(number * 1000) if number is not None else None
    else:
        count = int(re.sub(r"\D", "", match["number"]))
    if count is None or count > _POSITIVE_INTEGER_MAX:
        return None
    return count


_CURRENCY = re.compile(r"(?:us\$|usd|eur|gbp|[$€£])")
_REVENUE = re.compile(
    rf"(?P<number>{_NUMBER})\s*"
    r"(?P<unit>k|thousand|m|mm|mn|mio|million|millions|b|bn|billion|billions|mrd)?\.?"
)
_MULTIPLIERS = {
    None: Decimal(1),
    "k": Decimal(10) ** 3,
    "thousand": Decimal(10) ** 3,
    "m": Decimal(10) ** 6,
    "mm": Decimal(10) ** 6,
    "mn": Decimal(10) ** 6,
    "mio": Decimal(10) ** 6,
    "million": Decimal(10) ** 6,
    "millions": Decimal(10) ** 6,
    "b": Decimal(10) ** 9,
    "bn": Decimal(10) ** 9,
    "mrd": Decimal(10) ** 9,
    "billion": Decimal(10) ** 9,
    "billions": Decimal(10) ** 9,
}
# The column is DecimalField(max_digits=16, decimal_places=2): below 10^14 always fits.
_REVENUE_CAP = Decimal(10) ** 14
_CENTS = Decimal("0.01")


def parse_revenue(raw: str) -> Decimal | None:
    """Return an annual revenue amount, or None when unknown, unreadable or implausibly large.

    Understands currency signs ($ € £, USD/EUR/GBP, which are dropped: exports carry no
    exchange rate and the figure is used for ranges only), thousands separators, decimal
    commas ("3,5 Mio") and scale words or suffixes: k, m/mm/mn/mio/million, b/bn/mrd/billion.
    "2500.0M" and "$2,500,000,000" are both 2500000000.00.
    """
    text = (raw or "").strip().casefold()
    if not text or text in _UNKNOWN:
        return None
    match = _REVENUE.fullmatch(_CURRENCY.sub("", text).strip())
    if match is None:
        return None
    number = _to_decimal(match["number"])
    if number is None:
        return None
    amount = (number * _MULTIPLIERS[match["unit"]]).quantize(_CENTS, rounding=ROUND_HALF_UP)
    if amount >= _REVENUE_CAP:
        return None
    return amount


def _to_decimal(number: str) -> Decimal | None:
    """Read digits with grouping and decimal separators as people write them.

    With both "," and "." the last one is the decimal separator ("1.234,5" / "1,234.5"). A
    lone "," before exactly three digits groups thousands ("1,500"), otherwise it is a
    decimal comma ("3,5"). A lone "." is a decimal point; several of one kind group.
    """
    number = _GROUPING.sub("", number)
    commas, dots = number.count(","), number.count(".")
    if commas and dots:
        if number.rfind(",") > number.rfind("."):
            number = number.replace(".", "").replace(",", ".")
        else:
            number = number.replace(",", "")
    elif commas == 1 and len(number.rpartition(",")[2]) != 3:
        number = number.replace(",", ".")
    elif commas:
        number = number.replace(",", "")
    elif dots > 1:
        number = number.replace(".", "")
    try:
        return Decimal(number)
    except InvalidOperation:
        return None
