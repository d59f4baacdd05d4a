"""Reading an uploaded CRM export: which CRM wrote it, its rows as canonical fields, and each
row cleaned or refused with a reason a person understands.

Streaming throughout: a file is read row by row through ``csv``, never whole into memory.
Pure Python and free of database access; ``leads.services.run_import`` does the writing.

Undecodable bytes fail the whole file (``ImportFormatError`` naming the line of the first
one) rather than refusing rows one by one. A file that is not UTF-8 is nearly always a file
saved in another encoding (Excel's plain "CSV" is Windows-1252): every accented name in it
would be refused or stored garbled, and the fix is the same for all of them, saving it as
"CSV UTF-8". ``count_rows`` reads the whole file first, so the import fails before writing
a single row.
"""

import codecs
import csv
import io
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import BinaryIO

from django.core.files import File

from kit import bounds

from . import cleaning


class ImportFormatError(Exception):
    """The file as a whole cannot be imported (no email column, not UTF-8, broken CSV)."""


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
)

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
    # "Lifecycle Stage" and "HubSpot Score" have no Refinery field: they are ignored.
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
}
FORMATS = ("salesforce", "hubspot", "generic")

# Headers only one CRM prints; two of them are enough to recognize the file.
_FORMAT_MARKERS = {
    "salesforce": {"lead id", "lead source", "no. of employees", "created date"},
    "hubspot": {"record id", "original source", "country/region", "create date", "lifecycle stage"},
}


def _header_key(header: str) -> str:
    # Case, surrounding and repeated whitespace and snake_case do not distinguish headers.
    return " ".join(header.replace("_", " ").split()).casefold()


_COLUMNS_BY_FORMAT = {
    "salesforce": {_header_key(label): key for label, key in SALESFORCE_COLUMNS.items()},
    "hubspot": {_header_key(label): key for label, key in HUBSPOT_COLUMNS.items()},
}
_GENERIC_BY_HEADER = {_header_key(label): key for key, labels in GENERIC_COLUMNS.items() for label in labels}


def detect_format(headers: Sequence[str]) -> str:
    """Return which CRM wrote a file with these headers: "salesforce", "hubspot" or
    "generic" (any CSV with recognizable column names)."""
    keys = {_header_key(header) for header in headers}
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
    columns: dict[str, int] = {}
    for table in (specific, _GENERIC_BY_HEADER):
        for index, header in enumerate(headers):
            key = table.get(_header_key(header))
            if key is not None and key not in columns and index not in columns.values():
                columns[key] = index
    if "email" not in columns:
        found = ", ".join(repr(header[:40]) for header in headers[:20]) or "none"
        if len(headers) > 20:
            found += f" and {len(headers) - 20} more"
        raise ImportFormatError(
            f"No email column found (expected a column named e.g. 'Email' or 'Email Address'). "
            f"The file's columns are: {found}"
        )
    return dict(sorted(columns.items(), key=lambda item: item[1]))


class CsvRows(Iterator[tuple[int, dict[str, str]]]):
    """The data rows of an uploaded export, streamed: ``(line, raw)`` pairs where ``raw`` maps
    each canonical key found in the headers to the cell's text, untouched.

    The header is read on creation, so ``file_format`` and ``columns`` are known before the
    first row and a file without an email column fails at once (``ImportFormatError``).

    ``line`` is the 1-based physical line on which the row starts, the header being line 1:
    what a text editor or ``grep -n`` shows, right even after a quoted cell spanning several
    lines. (A spreadsheet numbers rows, not lines; the two agree unless a cell holds a
    line break.) Rows with fewer cells than headers read the missing ones as ""; extra
    cells are ignored; rows with nothing but empty cells are skipped.
    """

    def __init__(self, binary_file: BinaryIO | File) -> None:
        self._records = _records(binary_file)
        try:
            _, self.headers = next(self._records)
        except StopIteration:
            raise ImportFormatError("The file is empty: it has no header row.") from None
        self.file_format = detect_format(self.headers)
        try:
            self.columns = map_headers(self.headers, self.file_format)
        except ImportFormatError:
            self.close()
            raise
        self._items = tuple(self.columns.items())

    def __next__(self) -> tuple[int, dict[str, str]]:
        line, cells = next(self._records)
        width = len(cells)
        return line, {key: cells[index] if index < width else "" for key, index in self._items}

    def close(self) -> None:
        """Stop reading and hand the file back to its owner, still open."""
        self._records.close()


def iter_rows(binary_file: BinaryIO | File) -> CsvRows:
    """Stream the data rows of an export opened in binary mode, from its start: an iterator of
    ``(line, raw)`` with ``file_format`` and ``columns`` attributes. See ``CsvRows``."""
    return CsvRows(binary_file)


def read_headers(binary_file: BinaryIO | File) -> list[str]:
    """Return the header row of an export (for a preview); the file is left open."""
    records = _records(binary_file)
    try:
        return next(records)[1]
    except StopIteration:
        return []
    finally:
        records.close()


def count_rows(binary_file: BinaryIO | File) -> int:
    """Count the data rows ``iter_rows`` will yield, reading from the file's start, for
    progress. Streams without building rows; also fails early (``ImportFormatError``) on a file that is not UTF-8 text."""
    return max(sum(1 for _ in _records(binary_file)) - 1, 0)


def _records(binary_file: BinaryIO | File) -> Generator[tuple[int, list[str]], None, None]:
    """``(first line, cells)`` of each CSV record that has a non-blank cell, header included."""
    if binary_file.seekable():
        binary_file.seek(0)
    # utf-8-sig drops the byte-order mark spreadsheet tools write; newline="" hands line
    # endings inside quoted cells to csv untouched, as its documentation requires.
    text = io.TextIOWrapper(binary_file, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    line = 1
    undecodable = False
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield line, cells
            # reader.line_num counts the physical lines read so far, multi-line cells included.
            line = reader.line_num + 1
    except UnicodeDecodeError:
        undecodable = True
    except csv.Error as exc:
        raise ImportFormatError(f"Line {line} is not valid CSV ({exc}); is a quote missing?") from None
    finally:
        # A TextIOWrapper closes its buffer when it goes: the file belongs to the caller.
        if not text.closed:
            text.detach()
    if undecodable:
        where = (
            f" (line {_first_undecodable_line(binary_file)} has bytes that are not UTF-8)"
            if binary_file.seekable()
            else ""
        )
        raise ImportFormatError(
            f'The file is not UTF-8 text{where}. Save it as "CSV UTF-8" and upload it again.'
        )


# The shared reader (decoding, BOM, line numbers) for other imports without an email column.
iter_records = _records


def _first_undecodable_line(binary_file: BinaryIO | File) -> int:
    # The text layer decodes ahead in chunks, so its position does not tell the line: scan
    # the bytes again with an incremental decoder, counting line feeds up to the bad byte.
    binary_file.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    while chunk := binary_file.read(64 * 1024):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            return line + exc.object[: exc.start].count(b"\n")
        line += chunk.count(b"\n")
    return line


# --- cleaning a row -------------------------------------------------------------------------

# Lead model limits; the label is how a refusal names the field.
_TEXT_FIELDS = (
    ("first_name", 100, "first name"),
    ("last_name", 100, "last name"),
    ("company", 200, "company"),
    ("title", 150, "title"),
    ("external_id", 64, "external id"),
    ("external_status", 100, "external status"),
)
_INDUSTRY_MAX_LENGTH = 100


@dataclass(slots=True)
class CleanRow:
    """One import row with every field normalized as ``Lead`` stores it."""

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


def clean_row(raw: dict[str, str]) -> CleanRow:
    """Clean one raw row from ``iter_rows``. Raises ``RowRefused`` when the email is missing
    or invalid or a text field is longer than its column; the reason lists every problem
    of the row ("; "-joined). Unreadable numbers, dates and countries become empty instead:
    an unknown detail is no reason to lose a lead."""
    problems: list[str] = []
    # A lone surrogate (JSON's "\ud800", through the prospects API) is no text a database
    # stores: the row is refused, naming the field.
    for key, value in raw.items():
        if isinstance(value, str) and (problem := bounds.utf8_problem(value)):
            problems.append(f"{key.replace('_', ' ')}: {problem}")
    if problems:
        raise RowRefused("; ".join(problems))
    get = raw.get
    try:
        email = cleaning.normalize_email(get("email", ""))
    except ValueError as exc:
        problems.append(str(exc))
        email = ""
    text: dict[str, str] = {}
    for key, max_length, label in _TEXT_FIELDS:
        try:
            text[key] = cleaning.clean_text(get(key, ""), max_length, label)
        except ValueError as exc:
            problems.append(str(exc))
    try:
        industry = cleaning.clean_text(
            cleaning.normalize_industry(get("industry", "")), _INDUSTRY_MAX_LENGTH, "industry"
        )
    except ValueError as exc:
        problems.append(str(exc))
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
        external_id=text["external_id"],
        external_status=text["external_status"],
        rating=cleaning.rating_from_external(get("rating", "")),
        external_created_at=bounds.moment_or_none(
            cleaning.parse_datetime_loose(get("external_created_at", ""))
        ),
    )
