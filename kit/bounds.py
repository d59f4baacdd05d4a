"""Sane ranges for every date, time, amount, count and id a person or a client may send: one
place, used by the forms, the API serializers, the list filters and the imports.

- **Dates** lie between 1990-01-01 and 2100-12-31 (a contract term, a close date, a filter's
  bounds). Nothing this CRM records happened before 1990 or is planned past 2100, and the
  bounds keep date arithmetic (a renewal's next term, decay of engagement) far from Python's
  year 1 and 9999.
- **Times** lie in the same range, and carry a UTC offset of at most 15:59 either way
  (PostgreSQL refuses a larger one; real zones span -12:00 to +14:00). Checks that depend
  on now (an activity is not in the future, a follow-up is within a year) stay with the form
  or serializer that knows now.
- **Money** is zero or more and below 1,000,000,000,000, with at most two decimals: what a
  ``DecimalField(max_digits=14, decimal_places=2)`` column holds.
- **Counts** (seats, employees) are whole numbers from 0 to 2,147,483,647, PostgreSQL's
  ``integer``.
- **Ids** are whole numbers from 1 to 2,147,483,647: ``1.5``, ``true`` or ``"1e3"`` are
  refused, not read as 1 or 1000.
- **Text** must be encodable as UTF-8: a lone surrogate (``"\\ud800"`` in JSON) is refused
  with the field's name, never passed to the database.

The Django validators below work in forms and in DRF fields alike (DRF turns a Django
``ValidationError`` into a 400 on the field).
"""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django_filters.fields import DateRangeField, IsoDateTimeField, IsoDateTimeRangeField, RangeField
from rest_framework import serializers

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

EARLIEST_DATE = date(1990, 1, 1)
LATEST_DATE = date(2100, 12, 31)
EARLIEST_MOMENT = datetime.combine(EARLIEST_DATE, time.min, tzinfo=UTC)
LATEST_MOMENT = datetime.combine(LATEST_DATE, time.max, tzinfo=UTC)
MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)
INT_MAX = 2**31 - 1
MONEY_LIMIT = Decimal(10) ** 12  # DecimalField(max_digits=14, decimal_places=2)
MONEY_MAX = MONEY_LIMIT - Decimal("0.01")

DATE_RANGE = f"between {EARLIEST_DATE:%Y-%m-%d} and {LATEST_DATE:%Y-%m-%d}"
DATE_RANGE_MESSAGE = f"Enter a date {DATE_RANGE}."
MOMENT_RANGE_MESSAGE = f"Enter a time {DATE_RANGE}."
OFFSET_MESSAGE = "Give a UTC offset between -15:59 and +15:59."
MONEY_MESSAGES: dict[str, "StrOrPromise"] = {
    "invalid": "Enter an amount, e.g. 12000 or 12000.50.",
    "min_value": "Enter an amount of zero or more.",
    "max_value": "Enter an amount below 1,000,000,000,000.",
    "max_digits": "Enter an amount below 1,000,000,000,000.",
    "max_whole_digits": "Enter an amount below 1,000,000,000,000.",
    "max_decimal_places": "Use at most two decimals.",
    "max_string_length": "Enter an amount below 1,000,000,000,000.",
}
COUNT_MESSAGES: dict[str, "StrOrPromise"] = {
    "invalid": "Enter a whole number, e.g. 25.",
    "min_value": "Enter a whole number of zero or more.",
    "max_value": f"Enter a whole number up to {INT_MAX:,}.",
    "max_string_length": f"Enter a whole number up to {INT_MAX:,}.",
}
ID_MESSAGE = "Give an id: a whole number."


# --- checks ----------------------------------------------------------------------------------


def date_in_range(value: date) -> bool:
    """Whether a date (or the day of a time) lies in the sane range."""
    if isinstance(value, datetime):
        return moment_in_range(value)
    return EARLIEST_DATE <= value <= LATEST_DATE


# The range as naive UTC times, for ``moment_in_range`` (an import asks it of every date).
_EARLIEST_NAIVE = EARLIEST_MOMENT.replace(tzinfo=None)
_LATEST_NAIVE = LATEST_MOMENT.replace(tzinfo=None)


def moment_in_range(value: datetime) -> bool:
    """Whether a time lies in the sane range with a usable UTC offset (a naive time counts as
    UTC)."""
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        return False
    try:
        naive = value.replace(tzinfo=None) - (offset or timedelta(0))
    except OverflowError:  # before year 1 or after 9999 in UTC
        return False
    return _EARLIEST_NAIVE <= naive <= _LATEST_NAIVE


def moment_or_none(value: datetime | None) -> datetime | None:
    """The time if it is sane, else None: for imports, where an unreadable detail is no
    reason to refuse a row."""
    return value if value is not None and moment_in_range(value) else None


def utf8_problem(value: str) -> str | None:
    """Why a string cannot be stored (a lone surrogate), or None."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"Remove the character U+{ord(value[exc.start]):04X} (a lone surrogate, not text)."
    return None


# --- validators (forms and DRF fields) ------------------------------------------------------------


def validate_date(value: date) -> None:
    if value is not None and not date_in_range(value):
        raise ValidationError(DATE_RANGE_MESSAGE, code="date_range")


def validate_moment(value: datetime) -> None:
    if value is None:
        return
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise ValidationError(OFFSET_MESSAGE, code="utc_offset")
    if not moment_in_range(value):
        raise ValidationError(MOMENT_RANGE_MESSAGE, code="date_range")


def validate_utf8(value: str) -> None:
    if isinstance(value, str) and (problem := utf8_problem(value)):
        raise ValidationError(problem, code="surrogate")


# --- form fields ----------------------------------------------------------------------------------


class DateField(forms.DateField):
    """A date in the sane range."""

    default_validators = [validate_date]
    default_error_messages = {"invalid": "Enter a date, e.g. 2026-03-31."}


class DateTimeField(forms.DateTimeField):
    """A time in the sane range, with a usable UTC offset."""

    default_validators = [validate_moment]
    default_error_messages = {"invalid": "Enter a date and time."}


class MoneyField(forms.DecimalField):
    """An amount of money: zero or more, below 10^12, two decimals at most, in the
    installation's currency (the schema says which)."""

    default_error_messages = MONEY_MESSAGES

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", f"An amount in {settings.REFINERY_CURRENCY}.")
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("max_value", MONEY_MAX)
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)


class CountField(forms.IntegerField):
    """A count (seats, employees): a whole number from 0 to 2^31 - 1."""

    default_error_messages = COUNT_MESSAGES

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", INT_MAX)
        super().__init__(**kwargs)


# --- list filters (django-filter; the page and the API share them) --------------------------------


class _FilterDateField(DateField):
    default_error_messages = {"invalid": "Enter a valid date."}


class _FilterDateTimeField(IsoDateTimeField):
    default_validators = [validate_moment]


class FilterDateRangeField(DateRangeField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # RangeField's own __init__, with bounded parts instead of DateRangeField's.
        RangeField.__init__(self, (_FilterDateField(), _FilterDateField()), *args, **kwargs)


class FilterDateTimeRangeField(IsoDateTimeRangeField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        RangeField.__init__(self, (_FilterDateTimeField(), _FilterDateTimeField()), *args, **kwargs)


class DateFromToRangeFilter(django_filters.DateFromToRangeFilter):
    """``?x_after=&x_before=`` dates, each in the sane range (else the filter is invalid: a 400
    on the API, the field's error on the page)."""

    field_class = FilterDateRangeField


class IsoDateTimeFromToRangeFilter(django_filters.IsoDateTimeFromToRangeFilter):
    """``?x_after=&x_before=`` ISO times, each in the sane range with a usable UTC offset."""

    field_class = FilterDateTimeRangeField


# --- API fields (DRF) ----------------------------------------------------------------------------


class ApiDateField(serializers.DateField):
    """A date in the sane range."""

    default_validators = [validate_date]


class ApiDateTimeField(serializers.DateTimeField):
    """A time in the sane range. An offset beyond ±15:59 is refused before DRF converts the
    time to UTC."""

    default_validators = [validate_moment]

    def enforce_timezone(self, value: datetime) -> datetime:
        validate_moment_offset(value)
        return super().enforce_timezone(value)


def validate_moment_offset(value: datetime) -> None:
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise serializers.ValidationError(OFFSET_MESSAGE, code="utc_offset")


class ApiMoneyField(serializers.DecimalField):
    """An amount of money: zero or more, below 10^12, two decimals at most."""

    default_error_messages = MONEY_MESSAGES

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("max_value", MONEY_MAX)
        super().__init__(**kwargs)


class ApiWholeNumberField(serializers.IntegerField):
    """A whole number from ``min_value`` to 2^31 - 1; ``1.5``, ``1.0``, ``true`` and ``"1e3"``
    are refused (DRF's own field takes 1.5 as 1)."""

    MIN_VALUE = 0

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", self.MIN_VALUE)
        kwargs.setdefault("max_value", INT_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        number = whole_number(data)
        if number is None:
            self.fail("invalid")
        return super().to_internal_value(number)


class ApiCountField(ApiWholeNumberField):
    """A count: a whole number from 0 to 2^31 - 1."""

    default_error_messages = COUNT_MESSAGES


class ApiIdField(ApiWholeNumberField):
    """An object's id: a whole number from 1 to 2^31 - 1."""

    MIN_VALUE = 1
    default_error_messages = {"invalid": ID_MESSAGE, "min_value": ID_MESSAGE, "max_value": ID_MESSAGE}


class ApiPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An object chosen by its id: the id must be a whole number in range (DRF's own field
    takes the JSON number 1.5, or ``true``, as the id 1)."""

    def to_internal_value(self, data: Any):
        pk = whole_number(data)
        if pk is None:
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= pk <= INT_MAX:
            self.fail("does_not_exist", pk_value=pk)
        return super().to_internal_value(pk)


def whole_number(data: Any) -> int | None:
    """``data`` as an int if it is one (a JSON integer, or a string of digits with an optional
    sign), else None: ``1.5``, ``1.0``, ``true``, ``"1e3"`` and ``"²"`` are not."""
    if isinstance(data, bool):
        return None
    if isinstance(data, int):
        return data
    if isinstance(data, str):
        text = data.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if digits.isascii() and digits.isdecimal() and len(digits) <= 20:
            return int(text)
    return None
