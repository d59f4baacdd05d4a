"""A list as a CSV file, streamed: the leads, contacts, accounts, opportunities and contracts
exports (their columns in each app's ``exports.py``) from the list pages and the API.

A column is a header, the ``values_list`` keys it reads (a field, or one across a relation such
as ``owner__first_name``: a join in the one query, never a query per row) and a formatter from
those values to the cell. The rows are read with ``.iterator(chunk_size=EXPORT_CHUNK)`` (on
PostgreSQL a server-side cursor, so a million rows hold one chunk in memory at a time) and
written through ``kit.csvfiles.csv_lines``: formula-safe cells, the byte-order mark spreadsheet
tools need for UTF-8. Under ASGI the rows come from ``aiterator`` (``acsv_lines``), since Django
reads a synchronous iterator whole before sending a byte there.

What a cell says, whatever the viewer's zone: moments in ISO 8601 UTC with a ``Z``, days as
``YYYY-MM-DD``, amounts as plain numbers (``12000.50``, the currency in a column of its own),
yes/no, a choice's label.
"""

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer

from .csvfiles import acsv_lines, csv_lines, safe_cell

EXPORT_CHUNK = 2000  # rows a fetch reads from the cursor
# Lines sent as one piece of the response: a piece per row would be a write (and, under ASGI, a
# message) per row; 500 rows are some 150 KB.
BLOCK_LINES = 500


def plain(value: Any) -> Any:
    """The value as it is (``None`` becomes an empty cell)."""
    return value


def utc(value: datetime | None) -> str:
    """A moment in ISO 8601 UTC: ``2026-12-07T09:30:00Z``. (Called for every moment of every
    row: the database's moments are already UTC, so most need no conversion.)"""
    if value is None:
        return ""
    offset = value.utcoffset()
    if offset:  # naive moments are the database's (SQLite's), in UTC
        value = value.astimezone(UTC)
    return value.isoformat(timespec="seconds")[:19] + "Z"


def day(value: date | None) -> str:
    """A day as ``YYYY-MM-DD``."""
    return "" if value is None else value.isoformat()


def amount(value: Decimal | float | int | None) -> str:
    """An amount as a plain number with its cents (``12000.50``): no symbol, no thousands
    separator."""
    if value is None:
        return ""
    return f"{Decimal(str(value)):.2f}"


def yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


# Formatters whose cells are never a formula (digits, dates, yes/no, a label from the code): the
# row skips ``safe_cell`` for them. Text from the database always goes through it.
CHECKED: set[Callable[..., Any]] = {utc, day, amount, yes_no}


def labels(choices: Mapping[str, str] | Sequence[tuple[str, str]]) -> Callable[[str | None], str]:
    """A formatter writing a stored choice as its label (``nurture`` -> ``Nurture``)."""
    names = {str(key): str(label) for key, label in dict(choices).items()}

    def label(value: str | None) -> str:
        return "" if value in (None, "") else names.get(str(value), str(value))

    return label


def person(first_name: str | None, last_name: str | None, username: str | None) -> str:
    """A user's name as the pages write it (``User.__str__``): full name, else the username."""
    return f"{first_name or ''} {last_name or ''}".strip() or (username or "")


@dataclass(frozen=True)
class Column:
    """One column of an export: its header, the ``values_list`` keys its cell is made from, and
    the formatter given those values (one key: the value; several: one argument each)."""

    header: str
    keys: tuple[str, ...]
    format: Callable[..., Any] = field(default=plain)

    @classmethod
    def of(cls, header: str, *keys: str, format: Callable[..., Any] = plain) -> "Column":
        return cls(header, keys or (header,), format)

    @classmethod
    def constant(cls, header: str, value: Callable[[], Any]) -> "Column":
        """A column whose every cell is ``value()`` (read once per row, no database column)."""
        return cls(header, (), value)


def _chunk(values: Iterator) -> list:
    return list(islice(values, EXPORT_CHUNK))


def _blocks(lines: Iterator[str]) -> Iterator[str]:
    block: list[str] = []
    for line in lines:
        block.append(line)
        if len(block) >= BLOCK_LINES:
            yield "".join(block)
            block = []
    if block:
        yield "".join(block)


async def _ablocks(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    block: list[str] = []
    async for line in lines:
        block.append(line)
        if len(block) >= BLOCK_LINES:
            yield "".join(block)
            block = []
    if block:
        yield "".join(block)


class Export:
    """The columns of one kind of export, and how its rows are read and written."""

    def __init__(self, columns: Sequence[Column], *, annotations: Mapping[str, Any] | None = None):
        """``annotations``: expressions the columns read by name (a correlated subquery, say),
        added to the one query."""
        self.columns = list(columns)
        self.annotations = dict(annotations or {})
        self.header = [column.header for column in self.columns]
        keys: list[str] = []
        cells = []
        names: dict[str, Any] = {"safe": safe_cell}
        for n, column in enumerate(self.columns):
            start = len(keys)
            keys.extend(column.keys)
            args = ", ".join(f"v[{i}]" for i in range(start, len(keys)))
            if column.format is plain:
                cell = args
            else:
                names[f"f{n}"] = column.format
                cell = f"f{n}({args})"
            cells.append(cell if column.format in CHECKED else f"safe({cell})")
        self.keys = keys
        # One list display per row, made once from the columns: a loop over the columns for
        # every row cost more than formatting the cells (a million rows, 32 columns).
        self.row: Callable[[Sequence[Any]], list[Any]] = eval(f"lambda v: [{', '.join(cells)}]", names)

    def values(self, queryset: QuerySet) -> QuerySet:
        """The one query an export sends: the columns' values of ``queryset``'s rows, in its order."""
        if self.annotations:
            queryset = queryset.annotate(**self.annotations)
        return queryset.values_list(*self.keys)

    def rows(self, queryset: QuerySet) -> Iterator[list[Any]]:
        """Every row of ``queryset``, a chunk at a time (one query whatever the count)."""
        row = self.row
        for values in self.values(queryset).iterator(chunk_size=EXPORT_CHUNK):
            yield row(values)

    async def arows(self, queryset: QuerySet) -> AsyncIterator[list[Any]]:
        """``rows`` for an asynchronous response. Not ``aiterator()``: for ``values_list`` it
        runs the query in the event loop's thread (Django 5.2 starts a values iterable eagerly),
        which Django refuses; here each chunk is fetched in the database's thread, as
        ``aiterator`` does for model rows."""
        row = self.row
        # A generator: nothing runs until the first chunk is asked for, in that thread.
        values = self.values(queryset).iterator(chunk_size=EXPORT_CHUNK)
        fetch = sync_to_async(_chunk)
        while chunk := await fetch(values):
            for one in chunk:
                yield row(one)

    def lines(self, queryset: QuerySet) -> Iterator[str]:
        """The CSV file as lines (header first), for a test or a command."""
        return csv_lines(self.header, self.rows(queryset), checked=True)

    def response(self, request, queryset: QuerySet, *, name: str) -> StreamingHttpResponse:
        """``queryset`` streamed as ``<name>-<today>.csv`` (today in UTC, as the cells are)."""
        content: Iterator[str] | AsyncIterator[str]
        if isinstance(getattr(request, "_request", request), ASGIRequest):  # a DRF request wraps Django's
            content = _ablocks(acsv_lines(self.header, self.arows(queryset), checked=True))
        else:
            content = _blocks(csv_lines(self.header, self.rows(queryset), checked=True))
        response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
        filename = f"{name}-{timezone.now().astimezone(UTC):%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        # A list someone may not see tomorrow: no shared cache keeps it.
        response["Cache-Control"] = "private, no-store"
        return response


# --- the API's export actions -----------------------------------------------------------------


class CsvRenderer(BaseRenderer):
    """Lets a client ask for ``Accept: text/csv``. The file itself is a streamed response the
    view returns; what this renders is only a refusal (bad filters, 403) asked for as CSV: a
    ``field,message`` file rather than a 406."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        lines = [["field", "message"]]
        for key, messages in (data or {}).items() if isinstance(data, dict) else [("detail", data)]:
            for message in messages if isinstance(messages, list) else [messages]:
                lines.append([key, str(message)])
        return "".join(csv_lines(lines[0], lines[1:])).encode("utf-8")


EXPORT_RENDERERS = [JSONRenderer, CsvRenderer]


def export_schema(what: str):
    """``extend_schema`` for an export action: the list's filters as query parameters, a
    ``text/csv`` answer (and the errors ``config.schema`` adds)."""
    return extend_schema(
        filters=True,
        # ``?format=`` is DRF's (the renderers': json or csv); the answer is a CSV file either way.
        parameters=[OpenApiParameter("format", exclude=True)],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description=f"The {what} the filters select, as a CSV file (UTF-8 with a byte-order "
                "mark, a header row, formula-safe cells, times in ISO 8601 UTC), streamed.",
            )
        },
        description=f"Every one of the {what} you see that the filters select (the list's own "
        "filters, not paged), as a CSV file; a filter value the list refuses is a 400 naming it.",
    )


def refused_page(request, *, what: str, errors: Mapping[str, Sequence[str]], back: str):
    """The page an export link answers when the list's filters have errors (400): the messages
    per filter and the way back to the list, where the same errors show beside the fields."""
    context = {
        "what": what,
        "errors": {name: list(messages) for name, messages in errors.items()},
        "back": back,
    }
    return render(request, "_export_refused.html", context, status=400)
