"""Reading an uploaded CRM export: which CRM wrote it, its rows as canonical fields, and each
row cleaned or refused with a reason a person understands.

Streaming throughout: a file is read row by row with the kit's CSV reader (``kit.csvfiles``:
decoding, the byte-order mark, line numbers, a file refused whole with ``ImportFormatError``),
never whole into memory. Pure Python and free of database access;
``leads.services.run_import`` does the writing, after ``kit.csvfiles.count_rows`` has read the
whole file once, so an import fails before writing a single row.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
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


class CsvRows(Iterator[tuple[int, dict[str, str]]]):
    """The data rows of an uploaded export, streamed: ``(line, raw)`` pairs where ``raw`` maps
    each canonical key found in the headers to the cell's text, untouched.

    The header is read on creation, so ``file_format`` and ``columns`` are known before the
    first row and a file without an email column fails at once (``ImportFormatError``).

    ``line`` is the 1-based physical line on which the row starts, the header being line 1
    (``kit.csvfiles``). (A spreadsheet numbers rows, not lines; the two agree unless a cell
    holds a line break.) Rows with fewer cells than headers read the missing ones as "";
    extra cells are ignored; rows with nothing but empty cells are skipped.
    """

    def __init__(self, binary_file: BinaryIO | File) -> None:
        self._records = csvfiles.records(binary_file)
        self.headers = csvfiles.header_row(self._records)
        self.file_format = detect_format(self.headers)
        try:
            self.columns = map_headers(self.headers, self.file_format)
        except ImportFormatError:
            self.close()
            raise
        self._items = tuple(self.columns.items())

    def __next__(self) -> tuple[int, dict[str, str]]:
        line, cells = next(self._records)
        return line, csvfiles.cells_by_key(cells, self._items)

    def close(self) -> None:
        """Stop reading and hand the file back to its owner, still open."""
        self._records.close()


def iter_rows(binary_file: BinaryIO | File) -> CsvRows:
    """Stream the data rows of an export opened in binary mode, from its start: an iterator of
    ``(line, raw)`` with ``file_format`` and ``columns`` attributes. See ``CsvRows``."""
    return CsvRows(binary_file)


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
