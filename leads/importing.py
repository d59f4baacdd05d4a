"""Reading an uploaded lead file (any CSV, or the first sheet of an XLSX workbook): which CRM
wrote it, which column fills which field (suggested, or as the person mapped it), its rows as
canonical fields, and each row cleaned, shortened with a warning, or refused with a reason a
person understands.

Streaming throughout: a CSV is read row by row with the kit's CSV reader (``kit.csvfiles``:
decoding, the byte-order mark, line numbers, a file refused whole with ``ImportFormatError``),
an XLSX with openpyxl's read-only mode; never whole into memory. Pure Python and free of
database access (the saved mappings are handed in by the caller); ``leads.services.run_import``
does the writing, after ``count_rows`` has read the whole file once, so an import fails before
writing a single row.
"""

import hashlib
from collections import Counter
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import BinaryIO

from django.core.files import File

from kit import bounds, csvfiles
from kit.csvfiles import ImportFormatError

from . import cleaning


class RowRefused(ValueError):
    """One row cannot be imported; ``str(exc)`` says why, every problem of the row at once."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


CANONICAL_KEYS = (
    "external_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
    "company",
    "industry",
    "employees",
    "annual_revenue",
    "country",
    "source",
    "external_status",
    "rating",
    "external_created_at",
    "source_stage",
    "source_score",
    # What the person last did, in the source's words: each date becomes an activity
    # (``leads.services.import_activity``).
    "last_activity_at",
    "last_engagement_at",
    "recent_conversion_at",
    "recent_conversion",
)

# How the mapping screen names each canonical key.
FIELD_LABELS = {
    "email": "Email",
    "first_name": "First name",
    "last_name": "Last name",
    "company": "Company",
    "title": "Job title",
    "phone": "Phone",
    "industry": "Industry",
    "employees": "Employees",
    "annual_revenue": "Annual revenue",
    "country": "Country",
    "source": "Source (channel)",
    "external_id": "Source id",
    "external_status": "Source status",
    "source_stage": "Source lifecycle stage",
    "source_score": "Source score",
    "rating": "Rating",
    "external_created_at": "Created date (first seen)",
    "last_activity_at": "Last activity date",
    "last_engagement_at": "Last engagement date",
    "recent_conversion_at": "Recent conversion date",
    "recent_conversion": "Recent conversion (form name)",
}

# Column labels exactly as each CRM prints them in the sample exports.
SALESFORCE_COLUMNS = {
    "Lead ID": "external_id",
    "First Name": "first_name",
    "Last Name": "last_name",
    "Title": "title",
    "Company": "company",
    "Email": "email",
    "Phone": "phone",
    "Lead Source": "source",
    "Lead Status": "external_status",
    "Industry": "industry",
    "No. of Employees": "employees",
    "Annual Revenue": "annual_revenue",
    "Country": "country",
    "Rating": "rating",
    "Created Date": "external_created_at",
    "Last Activity": "last_activity_at",
    "Last Activity Date": "last_activity_at",
}
HUBSPOT_COLUMNS = {
    "Record ID": "external_id",
    "First Name": "first_name",
    "Last Name": "last_name",
    "Email": "email",
    "Phone Number": "phone",
    "Job Title": "title",
    "Company Name": "company",
    "Industry": "industry",
    "Number of Employees": "employees",
    "Annual Revenue": "annual_revenue",
    "Country/Region": "country",
    "Lead Status": "external_status",
    "Original Source": "source",
    "Create Date": "external_created_at",
    "Lifecycle Stage": "source_stage",
    "HubSpot Score": "source_score",
    "Last Activity Date": "last_activity_at",
    "Last Engagement Date": "last_engagement_at",
    "Recent Conversion Date": "recent_conversion_at",
    "Recent Conversion": "recent_conversion",
}
GENERIC_COLUMNS = {
    "external_id": ("id", "external id", "lead id", "record id", "contact id"),
    "first_name": ("first name", "firstname", "given name", "forename"),
    "last_name": ("last name", "lastname", "surname", "family name"),
    "email": ("email", "e-mail", "email address", "e-mail address", "mail", "work email"),
    "phone": ("phone", "phone number", "telephone", "tel", "mobile", "mobile phone"),
    "title": ("title", "job title", "jobtitle", "position", "role"),
    "company": ("company", "company name", "organization", "organisation", "account name"),
    "industry": ("industry", "sector"),
    "employees": (
        "employees",
        "number of employees",
        "no. of employees",
        "employee count",
        "company size",
        "headcount",
    ),
    "annual_revenue": ("annual revenue", "revenue"),
    "country": ("country", "country/region", "country code"),
    "source": ("source", "lead source", "original source", "channel"),
    "external_status": ("status", "lead status"),
    "rating": ("rating",),
    "external_created_at": ("created", "created date", "create date", "created at", "date created"),
    "source_stage": ("lifecycle stage", "lifecyclestage", "stage"),
    "source_score": ("score", "lead score", "hubspot score"),
    "last_activity_at": ("last activity", "last activity date"),
    "last_engagement_at": ("last engagement", "last engagement date"),
    "recent_conversion_at": ("recent conversion date", "last conversion date"),
    "recent_conversion": ("recent conversion", "last conversion"),
}
FORMATS = ("salesforce", "hubspot", "generic")

# Headers only one CRM prints; two of them are enough to recognize the file.
_FORMAT_MARKERS = {
    "salesforce": {"lead id", "lead source", "no. of employees", "created date"},
    "hubspot": {"record id", "original source", "country/region", "create date", "lifecycle stage"},
}


# Case, surrounding and repeated whitespace and snake_case do not distinguish headers. Unlike
# the contract import's, a "-" does: folding it would start matching headers this import has
# always ignored ("E mail", "First-Name").
_COLUMNS_BY_FORMAT = {
    "salesforce": {csvfiles.header_key(label): key for label, key in SALESFORCE_COLUMNS.items()},
    "hubspot": {csvfiles.header_key(label): key for label, key in HUBSPOT_COLUMNS.items()},
}
_GENERIC_BY_HEADER = {
    csvfiles.header_key(label): key for key, labels in GENERIC_COLUMNS.items() for label in labels
}


def detect_format(headers: Sequence[str]) -> str:
    """Return which CRM wrote a file with these headers: "salesforce", "hubspot" or
    "generic" (any CSV with recognizable column names)."""
    keys = {csvfiles.header_key(header) for header in headers}
    scores = {name: len(markers & keys) for name, markers in _FORMAT_MARKERS.items()}
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] >= 2 else "generic"


def map_headers(headers: Sequence[str], file_format: str) -> dict[str, int]:
    """Return the column index of each canonical key found in the headers.

    The format's own labels come first, then the generic names (so a customized CRM report
    with an extra "Mobile" column still maps it). When two columns map to one key the first
    wins. Raises ``ImportFormatError`` when there is no email column.
    """
    specific = _COLUMNS_BY_FORMAT.get(file_format, {})
    columns = csvfiles.find_columns(headers, (specific, _GENERIC_BY_HEADER))
    if "email" not in columns:
        raise ImportFormatError(
            f"No email column found (expected a column named e.g. 'Email' or 'Email Address'). "
            f"The file's columns are: {csvfiles.describe_headers(headers)}"
        )
    return dict(sorted(columns.items(), key=lambda item: item[1]))


def external_system(file_format: str) -> str:
    """The source system a lead's ``external_system`` names for a file of this format:
    "salesforce", "hubspot", or "" for a generic file (whose ids match nothing known)."""
    return file_format if file_format in ("salesforce", "hubspot") else ""


def mapping_signature(headers: Sequence[str]) -> str:
    """What a saved mapping is found by: the sha256 of the normalised header row, so the same
    report exported again (another day, other rows) gets its mapping back whole."""
    normalised = "\x1f".join(csvfiles.header_key(header) for header in headers)
    return hashlib.sha256(normalised.encode()).hexdigest()


def mapping_columns(headers: Sequence[str], mapping: Sequence[str]) -> dict[str, str]:
    """A confirmed mapping as ``ImportMapping.columns`` keeps it: normalised header -> key
    ("" for an ignored column); the first of two columns with the same header wins."""
    columns: dict[str, str] = {}
    for header, key in zip(headers, mapping, strict=False):
        columns.setdefault(csvfiles.header_key(header), key)
    return columns


def suggest_mapping(
    headers: Sequence[str],
    *,
    exact: Mapping[str, str] | None = None,
    learned: Mapping[str, str] | None = None,
) -> list[str]:
    """Each column's suggested key ("" = ignored), aligned with ``headers``.

    ``exact`` is the saved mapping whose signature matches this header row: it decides every
    column. Otherwise each column takes, in order, what a saved mapping said for a header of
    that name (``learned``, normalised header -> key, ignoring included), then the format's
    own labels (Salesforce, HubSpot), then the generic names. A key goes to one column only,
    the first that names it.
    """
    keys = [csvfiles.header_key(header) for header in headers]
    if exact is not None:
        suggested = [exact.get(key, "") for key in keys]
        return _one_column_per_key(suggested)
    specific = _COLUMNS_BY_FORMAT.get(detect_format(headers), {})
    decided: dict[int, str] = {}
    taken: set[str] = set()
    for table in (learned or {}, specific, _GENERIC_BY_HEADER):
        for index, key in enumerate(keys):
            if index in decided or key not in table:
                continue
            value = table[key]
            if value and (value in taken or value not in CANONICAL_KEYS):
                continue
            decided[index] = value
            if value:
                taken.add(value)
    return [decided.get(index, "") for index in range(len(keys))]


def _one_column_per_key(mapping: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for key in mapping:
        keep = key in CANONICAL_KEYS and key not in seen
        result.append(key if keep else "")
        if keep:
            seen.add(key)
    return result


def columns_from_mapping(headers: Sequence[str], mapping: Sequence[str]) -> dict[str, int]:
    """The column index of each canonical key a confirmed mapping names (entries beyond the
    header row are ignored). Raises ``ImportFormatError`` for an unknown key, a key given to
    two columns, or no email column."""
    columns: dict[str, int] = {}
    for index, key in enumerate(mapping[: len(headers)]):
        if not key:
            continue
        if key not in CANONICAL_KEYS:
            raise ImportFormatError(f"Column {index + 1} is mapped to an unknown field {key[:40]!r}.")
        if key in columns:
            raise ImportFormatError(f"Two columns are mapped to {FIELD_LABELS[key].lower()}.")
        columns[key] = index
    if "email" not in columns:
        raise ImportFormatError("No column is mapped to the email.")
    return columns


# --- reading a sheet ------------------------------------------------------------------------

SHEET_TYPES = ("csv", "xlsx")


def sheet_type_of(name: str, head: bytes) -> str:
    """ "xlsx" for a workbook (by its name or its zip signature), else "csv"."""
    if name.lower().endswith((".xlsx", ".xlsm")) or head.startswith(b"PK\x03\x04"):
        return "xlsx"
    return "csv"


def _records(binary_file: BinaryIO | File, sheet_type: str) -> Generator[tuple[int, list[str]], None, None]:
    if sheet_type == "xlsx":
        return _xlsx_records(binary_file)
    return csvfiles.records(binary_file)


def _xlsx_records(binary_file: BinaryIO | File) -> Generator[tuple[int, list[str]], None, None]:
    """``(row number, cells as text)`` of each row of the workbook's first sheet that has a
    non-blank cell, streamed (openpyxl's read-only mode)."""
    from openpyxl import load_workbook  # imported when a workbook comes: most imports are CSV

    if binary_file.seekable():
        binary_file.seek(0)
    try:
        workbook = load_workbook(binary_file, read_only=True, data_only=True)
    # An uploaded workbook is anyone's bytes: openpyxl fails on a broken one with whatever its
    # zip and XML layers raise (BadZipFile, KeyError, ParseError, InvalidFileException...).
    except Exception as exc:
        raise ImportFormatError(
            "The file is not a readable XLSX workbook; save it again from the spreadsheet "
            "(as .xlsx or CSV UTF-8) and upload it again."
        ) from exc
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = [_cell_text(value) for value in values]
                if any(cell.strip() for cell in cells):
                    yield number, cells
        except Exception as exc:  # as above: a damaged sheet fails in many ways
            raise ImportFormatError("The workbook is damaged: its first sheet cannot be read.") from exc
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    """A workbook cell as the text a CSV would hold: dates ISO, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


class SheetRows(Iterator[tuple[int, dict[str, str]]]):
    """The data rows of an uploaded file, streamed: ``(line, raw)`` pairs where ``raw`` maps
    each mapped canonical key to the cell's text, untouched; ``last_cells`` holds the current
    row's cells as read (for a refused row's download).

    The header is read on creation, so ``headers``, ``file_format`` and ``columns`` are known
    before the first row, and a file without an email column fails at once
    (``ImportFormatError``). With a ``mapping`` (aligned with the header row: a key or "" per
    column) the columns are those it names; without, they are recognised from the headers.

    For a CSV, ``line`` is the 1-based physical line on which the row starts, the header being
    line 1 (``kit.csvfiles``); for an XLSX, the sheet's row number. Rows with fewer cells than
    headers read the missing ones as ""; extra cells are ignored; rows with nothing but empty
    cells are skipped.
    """

    def __init__(
        self, binary_file: BinaryIO | File, *, sheet_type: str = "csv", mapping: Sequence[str] | None = None
    ) -> None:
        self._records = _records(binary_file, sheet_type)
        self.last_cells: list[str] = []
        try:
            self.headers = csvfiles.header_row(self._records)
            self.file_format = detect_format(self.headers)
            if mapping is None:
                self.columns = map_headers(self.headers, self.file_format)
            else:
                self.columns = columns_from_mapping(self.headers, mapping)
        except ImportFormatError:
            self.close()
            raise
        self._items = tuple(self.columns.items())

    def __next__(self) -> tuple[int, dict[str, str]]:
        line, cells = next(self._records)
        self.last_cells = cells
        return line, csvfiles.cells_by_key(cells, self._items)

    def close(self) -> None:
        """Stop reading and hand the file back to its owner, still open."""
        self._records.close()


CsvRows = SheetRows


def iter_rows(
    binary_file: BinaryIO | File, *, sheet_type: str = "csv", mapping: Sequence[str] | None = None
) -> SheetRows:
    """Stream the data rows of a file opened in binary mode, from its start: an iterator of
    ``(line, raw)`` with ``headers``, ``file_format``, ``columns`` and ``last_cells``
    attributes. See ``SheetRows``."""
    return SheetRows(binary_file, sheet_type=sheet_type, mapping=mapping)


def count_rows(binary_file: BinaryIO | File, *, sheet_type: str = "csv") -> int:
    """Count the data rows (the header aside) from the file's start, for progress; fails
    early (``ImportFormatError``) on a file that cannot be read."""
    if sheet_type != "xlsx":
        return csvfiles.count_rows(binary_file)
    return max(sum(1 for _ in _xlsx_records(binary_file)) - 1, 0)


def read_headers(binary_file: BinaryIO | File, *, sheet_type: str = "csv") -> list[str]:
    """The header row of a file ([] for an empty one); the file is left open."""
    records = _records(binary_file, sheet_type)
    try:
        return next(records)[1]
    except StopIteration:
        return []
    finally:
        records.close()


@dataclass(frozen=True, slots=True)
class Preview:
    """The top of a file, for the mapping screen."""

    headers: list[str]
    samples: list[list[str]]  # the first data rows, each padded or cut to the headers
    file_format: str


def preview(binary_file: BinaryIO | File, *, sheet_type: str = "csv", rows: int = 3) -> Preview:
    """Read the header row and the first ``rows`` data rows. Raises ``ImportFormatError`` for
    a file without a header row or that cannot be read; no column needs to be recognised."""
    records = _records(binary_file, sheet_type)
    try:
        headers = csvfiles.header_row(records)
        width = len(headers)
        samples: list[list[str]] = []
        while len(samples) < rows:
            cells = next(records, None)
            if cells is None:
                break
            samples.append((cells[1] + [""] * width)[:width])
    finally:
        records.close()
    return Preview(headers=headers, samples=samples, file_format=detect_format(headers))


@dataclass(slots=True)
class StatusValues:
    """The distinct source statuses and lifecycle stages of a file, with their row counts;
    ``complete`` is false when there were more distinct values than were collected."""

    statuses: Counter[str] = field(default_factory=Counter)
    stages: Counter[str] = field(default_factory=Counter)
    complete: bool = True


def status_values(
    binary_file: BinaryIO | File,
    *,
    sheet_type: str = "csv",
    mapping: Sequence[str] | None = None,
    limit: int = 200,
) -> StatusValues:
    """Collect the distinct ``external_status`` and ``source_stage`` values (as ``clean_row``
    stores them) under a mapping (or the suggested one), at most ``limit`` of each, for the
    status map. No email column is needed: the mapping may still be unfinished."""
    found = StatusValues()
    if mapping is None:
        headers = read_headers(binary_file, sheet_type=sheet_type)
        mapping = suggest_mapping(headers)
    wanted = [
        (key, counter, mapping.index(key))
        for key, counter in (("external_status", found.statuses), ("source_stage", found.stages))
        if key in mapping
    ]
    if not wanted:
        return found
    records = _records(binary_file, sheet_type)
    try:
        csvfiles.header_row(records)
        for _, cells in records:
            for _key, counter, index in wanted:
                value = _status_text(cells[index]) if index < len(cells) else ""
                if not value:
                    continue
                if value in counter or len(counter) < limit:
                    counter[value] += 1
                else:
                    found.complete = False
    finally:
        records.close()
    return found


def _status_text(raw: str) -> str:
    try:
        return _shortened(raw, _STATUS_MAX_LENGTH, "status", [])
    except ValueError:
        return ""


# --- cleaning a row -------------------------------------------------------------------------

# Lead model limits; the label is how a warning or a refusal names the field. A longer value
# is shortened with a warning: a company name pasted five times over is no reason to lose the
# person. An id is not text to shorten (a cut id would match another record): refused.
_TEXT_FIELDS = (
    ("first_name", 100, "first name"),
    ("last_name", 100, "last name"),
    ("company", 200, "company"),
    ("title", 150, "title"),
    ("external_status", 100, "external status"),
    ("source_stage", 100, "source stage"),
    ("source_score", 40, "source score"),
    ("recent_conversion", 200, "recent conversion"),
)
# The columns saying when the person last did something, read like the created date.
ACTIVITY_DATE_KEYS = ("recent_conversion_at", "last_engagement_at", "last_activity_at")
_EXTERNAL_ID_MAX_LENGTH = 64
_INDUSTRY_MAX_LENGTH = 100
_STATUS_MAX_LENGTH = 100


def _shortened(
    raw: str, max_length: int, label: str, warnings: list[str], problems: list[str] | None = None
) -> str:
    """``cleaning.clean_text``, but a value longer than ``max_length`` is cut to it and a
    warning added, instead of refusing the row; with ``problems`` (no shortening) the refusal
    is added there instead."""
    try:
        return cleaning.clean_text(raw, max_length, label)
    except ValueError as exc:
        if problems is not None:
            problems.append(str(exc))
            return ""
        text = cleaning.clean_text(raw, len(raw) + 1, label)
    warnings.append(f"{label}: shortened from {len(text):,} to {max_length:,} characters")
    return text[:max_length]


@dataclass(slots=True)
class CleanRow:
    """One import row with every field normalized as ``Lead`` stores it; ``warnings`` says
    what was changed to keep it (a value shortened)."""

    email: str
    first_name: str
    last_name: str
    company: str
    title: str
    seniority: str
    industry: str
    employees: int | None
    annual_revenue: Decimal | None
    country: str
    phone: str
    source: str
    external_id: str
    external_status: str
    rating: str
    external_created_at: datetime | None
    source_stage: str = ""
    source_score: str = ""
    # When the source says the person last did something (``ACTIVITY_DATE_KEYS``), and the
    # form of their recent conversion.
    activity_dates: dict[str, datetime] = field(default_factory=dict)
    recent_conversion: str = ""
    warnings: list[str] = field(default_factory=list)


def clean_row(raw: dict[str, str], *, shorten: bool = True) -> CleanRow:
    """Clean one raw row from ``iter_rows``. Raises ``RowRefused`` when the email is missing
    or invalid, the source id or the phone is too long; the reason lists every problem of the
    row ("; "-joined). A text longer than its column is shortened, with a warning in
    ``warnings`` (an import keeps the person); with ``shorten=False`` it is refused (a person
    typing one prospect, or an API client, is told and corrects it). Unreadable numbers, dates and countries become empty instead: an unknown
    detail is no reason to lose a lead."""
    problems: list[str] = []
    # A lone surrogate (JSON's "\ud800", through the prospects API) is no text a database
    # stores: the row is refused, naming the field. The row's text is encoded at once (one
    # call, not one per cell); only a row that fails, or holds other than text, is looked at
    # cell by cell.
    try:
        "".join(raw.values()).encode()
    except (UnicodeEncodeError, TypeError):
        for key, value in raw.items():
            if isinstance(value, str) and (problem := bounds.utf8_problem(value)):
                problems.append(f"{key.replace('_', ' ')}: {problem}")
        if problems:
            raise RowRefused("; ".join(problems)) from None
    get = raw.get
    warnings: list[str] = []
    try:
        email = cleaning.normalize_email(get("email", ""))
    except ValueError as exc:
        problems.append(str(exc))
        email = ""
    refuse_long = None if shorten else problems
    text = {
        key: _shortened(get(key, ""), max_length, label, warnings, refuse_long)
        for key, max_length, label in _TEXT_FIELDS
    }
    industry = _shortened(
        cleaning.normalize_industry(get("industry", "")),
        _INDUSTRY_MAX_LENGTH,
        "industry",
        warnings,
        refuse_long,
    )
    external_id = ""
    try:
        external_id = cleaning.clean_text(get("external_id", ""), _EXTERNAL_ID_MAX_LENGTH, "external id")
    except ValueError as exc:
        problems.append(str(exc))
    phone = ""
    try:
        phone = cleaning.clean_phone(get("phone", ""))
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        raise RowRefused("; ".join(problems))
    return CleanRow(
        email=email,
        first_name=text["first_name"],
        last_name=text["last_name"],
        company=text["company"],
        title=text["title"],
        seniority=cleaning.seniority_from_title(get("title", "")),
        industry=industry,
        employees=cleaning.parse_employees(get("employees", "")),
        annual_revenue=cleaning.parse_revenue(get("annual_revenue", "")),
        country=cleaning.normalize_country(get("country", "")),
        phone=phone,
        source=cleaning.channel_from_source(get("source", "")),
        external_id=external_id,
        external_status=text["external_status"],
        rating=cleaning.rating_from_external(get("rating", "")),
        external_created_at=_moment(get("external_created_at", "")),
        source_stage=text["source_stage"],
        source_score=text["source_score"],
        activity_dates={key: moment for key in ACTIVITY_DATE_KEYS if (moment := _moment(get(key, "")))},
        recent_conversion=text["recent_conversion"],
        warnings=warnings,
    )


def _moment(raw: str) -> datetime | None:
    """A date column (created, last activity...): the moment, or None when it is empty or
    unreadable (an unknown detail is no reason to lose a lead). A future moment is kept as
    written; the writer clamps what it records to the import's time."""
    if not raw:
        return None  # most rows leave most date columns empty, or the file has none
    return bounds.moment_or_none(cleaning.parse_datetime_loose(raw))
