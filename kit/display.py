"""The one way Refinery shows a moment, a day and an amount, as text.

- a moment: ``Mon 7 Dec 2026, 09:30 CET``, in the zone given or else the active one (the
  viewer's, activated per request by ``team.middleware.ViewerZoneMiddleware``; the recipient's
  when an email is rendered under ``timezone.override``), always with the zone's abbreviation;
- a day: ``Mon 7 Dec 2026`` (a moment given as a day is the day it is in that zone);
- an amount: ``€12,000`` or ``€12,000.50`` in the installation's currency
  (``REFINERY_CURRENCY``, an ISO 4217 code; codes without a symbol here read ``CHF 12,000``).

Templates use them through the ``display`` tag library (``|when``, ``|day``, ``|money``,
``|iso``); presenters and emails that build text call them directly. Pure functions of their
arguments, the active zone and one setting.
"""

import re
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

WHEN_FORMAT = "%a %-d %b %Y, %H:%M"
DAY_FORMAT = "%a %-d %b %Y"

_DIAL = re.compile(r"[^0-9+]")

# The symbol an amount is written with; any other currency is written with its code.
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹"}


def _aware(moment: datetime) -> datetime:
    # A naive moment is UTC: that is what the database stores (USE_TZ, TIME_ZONE = "UTC").
    return timezone.make_aware(moment, UTC) if timezone.is_naive(moment) else moment


def when_text(moment: datetime | date | None, tz: tzinfo | None = None) -> str:
    """``moment`` in ``tz`` (else the active zone) with the zone's abbreviation; a date is shown
    as a day; "" for none."""
    if moment is None or moment == "":
        return ""
    if not isinstance(moment, datetime):
        return day_text(moment)  # a date is a day; anything else is shown as it is
    local = timezone.localtime(_aware(moment), tz or timezone.get_current_timezone())
    return f"{local:{WHEN_FORMAT}} {zone_abbreviation(local)}"


def day_text(value: datetime | date | None, tz: tzinfo | None = None) -> str:
    """A calendar day; a moment is the day it falls on in ``tz`` (else the active zone)."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(_aware(value), tz or timezone.get_current_timezone()).date()
    if not isinstance(value, date):
        return str(value)
    return f"{value:{DAY_FORMAT}}"


def zone_abbreviation(local: datetime) -> str:
    """CET, CEST, EST, UTC; "+04" where the zone has no letters (as the tz database writes it)."""
    return local.tzname() or local.strftime("%z")


def iso_text(moment: datetime | date | None) -> str:
    """A machine-readable moment for ``<time datetime>`` and the countdown scripts (UTC)."""
    if moment is None or moment == "":
        return ""
    if not isinstance(moment, datetime):
        return moment.isoformat() if isinstance(moment, date) else str(moment)
    return _aware(moment).astimezone(UTC).isoformat()


def tel_href(phone: str | None) -> str:
    """``+49 30 1234-56`` as ``tel:+4930123456``: a phone number to dial from a link."""
    return "tel:" + _DIAL.sub("", phone or "")


def currency() -> str:
    return settings.REFINERY_CURRENCY


def money_text(amount: Decimal | float | int | None, *, cents: bool = False) -> str:
    """An amount with its currency: €12,000 or €12,000.50, always two decimals with ``cents``
    (a table's column); "" for none."""
    if amount is None or amount == "":
        return ""
    value = Decimal(str(amount))
    number = f"{abs(value):,.2f}"
    if number.endswith(".00") and not cents:
        number = number[:-3]
    return with_currency(number, negative=value < 0)


def with_currency(number: str, *, negative: bool = False) -> str:
    """A number already written (``1,200``, ``1.45 M``) with the installation's currency."""
    code = currency()
    symbol = SYMBOLS.get(code)
    sign = "-" if negative else ""
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{code} {number}"
