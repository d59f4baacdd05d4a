"""Contract rows as an import reads them: the CSV file's columns and records, one row's
cleaning (dates, amounts, seats, yes/no written as billing exports write them), and the
per-row report. The rules are described in ``renewals.services.imports``."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO

from accounts.models import Account
from accounts.services import normalize_domain
from kit import bounds, csvfiles
from kit.display import day_text
from leads import cleaning
from team.models import User

from .base import RenewalsError, Terms

# The rows are written in the request, all accounts together (``add_contracts_many``: 44
# statements for 1,000 rows on new accounts, 1.2 s here); a bigger export is split.
MAX_CONTRACT_ROWS = 5_000
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
INT_MAX = bounds.INT_MAX
# Contract.annual_value is DecimalField(max_digits=14, decimal_places=2).
VALUE_LIMIT = bounds.MONEY_LIMIT

# The fields of a row, in the order the report and the API name them.
FIELDS = (
    "account",
    "domain",
    "name",
    "number",
    "start_date",
    "end_date",
    "annual_value",
    "products",
    "seats",
    "auto_renew",
    "account_manager",
)
# Column names a billing export uses for each field (compared by ``kit.csvfiles.header_key``,
# with "-" folded as "_" is: "Auto-Renew" is "auto renew"). "account" (our id) has no column: a
# billing system's "Account ID" is its own number, not ours.
COLUMNS = {
    "domain": ("domain", "website", "web site", "web domain", "url", "website url", "company domain"),
    "name": (
        "account",
        "account name",
        "company",
        "company name",
        "customer",
        "customer name",
        "organization",
        "organisation",
    ),
    "number": (
        "contract number",
        "contract no",
        "contract no.",
        "contract #",
        "contract id",
        "contract",
        "subscription id",
        "subscription number",
    ),
    "start_date": (
        "start date",
        "start",
        "contract start",
        "contract start date",
        "term start",
        "service start date",
        "starts on",
    ),
    "end_date": ("end date", "end", "contract end", "contract end date", "term end", "ends on"),
    "annual_value": (
        "annual value",
        "arr",
        "acv",
        "amount",
        "annual contract value",
        "annual recurring revenue",
        "contract value",
    ),
    "products": ("products", "product", "plan", "product(s)"),
    "seats": ("seats", "licenses", "licences", "quantity", "seat count"),
    "auto_renew": ("auto renew", "autorenew", "auto renewal", "auto renews", "evergreen"),
    "account_manager": ("account manager", "am", "csm", "account manager email", "customer success manager"),
}
NEEDED_COLUMNS = {
    "domain": "Domain",
    "start_date": "Start Date",
    "end_date": "End Date",
    "annual_value": "Annual Value",
}
_YES = frozenset({"yes", "y", "true", "t", "1", "on", "x"})
_NO = frozenset({"no", "n", "false", "f", "0", "off", ""})


# --- the report ---------------------------------------------------------------------------


@dataclass
class RowResult:
    """One row's fate: ``status`` "created" (``contract_id`` set) or "refused" (``problems``
    maps each field at fault to its message)."""

    line: int
    status: str
    message: str
    contract_id: int | None = None
    account_id: int | None = None
    account_name: str = ""
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def created(self) -> bool:
        return self.status == "created"


@dataclass
class ImportReport:
    """Every row of a batch, in line order (a CSV's line in the file, or the position in a
    JSON list, from 1)."""

    rows: list[RowResult] = field(default_factory=list)

    @property
    def created(self) -> list[RowResult]:
        return [r for r in self.rows if r.status == "created"]

    @property
    def refused(self) -> list[RowResult]:
        return [r for r in self.rows if r.status == "refused"]


def refused_row(line: int, problems: dict[str, str], raw_name: str = "") -> RowResult:
    return RowResult(
        line=line,
        status="refused",
        message=" ".join(problems.values()),
        account_name=raw_name[:200],
        problems=problems,
    )


# --- reading a file -------------------------------------------------------------------------


HEADER_SPACES = "_-"
_FIELD_BY_HEADER = {
    csvfiles.header_key(name, spaces=HEADER_SPACES): key for key, names in COLUMNS.items() for name in names
}


def map_columns(headers: Sequence[str]) -> dict[str, int]:
    """The column index of each field found in the headers (the first column wins). Raises
    ``RenewalsError`` on ``file`` naming the needed columns that are missing."""
    columns = csvfiles.find_columns(headers, [_FIELD_BY_HEADER], spaces=HEADER_SPACES)
    missing = [label for key, label in NEEDED_COLUMNS.items() if key not in columns]
    if missing:
        found = csvfiles.describe_headers(headers, count_rest=False)
        raise RenewalsError(
            f"The file has no {', '.join(missing)} column (needed: Domain, Start Date, End Date and "
            f"Annual Value; see the accepted names on the import page). Its columns are: {found}.",
            field="file",
        )
    return columns


def read_csv(file: BinaryIO) -> tuple[list[dict[str, str]], list[int]]:
    """The rows of a contracts CSV as field -> text, with the line each starts on. The file is
    read with the reader every import shares (``kit.csvfiles``: UTF-8 with or without a
    byte-order mark, quoted cells spanning lines, blank rows skipped). Raises
    ``RenewalsError`` on ``file`` for a file refused whole."""
    records = csvfiles.records(file)
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    try:
        headers = csvfiles.header_row(records)
        columns = tuple(map_columns(headers).items())
        for line, cells in records:
            if len(rows) >= MAX_CONTRACT_ROWS:
                raise RenewalsError(
                    f"The file has more than {MAX_CONTRACT_ROWS:,} contracts: split it into smaller files.",
                    field="file",
                )
            rows.append(csvfiles.cells_by_key(cells, columns))
            lines.append(line)
    except csvfiles.ImportFormatError as exc:
        raise RenewalsError(str(exc), field="file") from None
    finally:
        records.close()
    if not rows:
        raise RenewalsError("The file has a header row but no contracts.", field="file")
    return rows, lines


# --- cleaning one row -------------------------------------------------------------------------


@dataclass
class ContractRow:
    """A row that passed every check of its own: which account, which terms, which AM."""

    line: int
    account_id: int | None
    domain: str
    name: str
    terms: Terms
    account_manager: str
    am: User | None = None
    account: Account | None = None


def _text(value: Any) -> str:
    """A JSON value as the text a CSV cell would hold; ``TypeError`` for lists and objects."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str | int | float | Decimal):
        return str(value)
    raise TypeError


def parse_date(raw: str, label: str) -> date:
    """A date in the formats the module's docstring lists; ``ValueError`` with the reason."""
    text = raw.strip()
    if not text:
        raise ValueError(f"Give the {label}.")
    try:
        day = datetime.fromisoformat(text).date()  # an ISO date, or the date of an ISO time
    except ValueError:
        moment = cleaning.parse_datetime_loose(text)
        if moment is None:
            raise ValueError(
                f"The {label} {text[:40]!r} is not a date: write it as 2026-03-31, 03/31/2026 or 31.03.2026."
            ) from None
        day = moment.date()
    if not bounds.date_in_range(day):
        raise ValueError(f"The {label} {text[:40]!r} is not a plausible date ({bounds.DATE_RANGE}).")
    return day


_MINUS = re.compile(r"^([^\d\-\u2212]*)[-\u2212]\s*(?=[\d$€£a-z])", re.IGNORECASE)


def parse_amount(raw: str) -> Decimal:
    """An annual value as the module's docstring describes it (negative amounts come back
    negative, for ``Terms.problems`` to refuse); ``ValueError`` with the reason."""
    text = raw.strip()
    if not text:
        raise ValueError("Give the annual value, e.g. 12,000.00.")
    negative = False
    if text.startswith("(") and text.endswith(")"):  # accountants' negative
        negative, text = True, text[1:-1].strip()
    if match := _MINUS.match(text):
        negative, text = True, match.group(1) + text[match.end() :]
    if len(re.sub(r"\D", "", text)) > 16:
        raise ValueError("The annual value is too large.")
    amount = cleaning.parse_revenue(text)
    if amount is None:
        raise ValueError(
            f"The annual value {raw.strip()[:40]!r} is not an amount (e.g. 12,000.00 or 12.000,00)."
        )
    if amount >= VALUE_LIMIT:
        raise ValueError("The annual value is too large (below 1,000,000,000,000 a year).")
    return -amount if negative else amount


def parse_seats(raw: str) -> int | None:
    text = re.sub(r"[\s,'\u00a0\u202f]", "", raw)
    if not text:
        return None
    if not re.fullmatch(r"[-\u2212]?\d+", text):
        raise ValueError(f"Seats {raw.strip()[:40]!r} is not a whole number.")
    seats = int(text.replace("\u2212", "-"))
    if seats > INT_MAX:
        raise ValueError(f"Seats are at most {INT_MAX:,}.")
    return seats


def parse_yes_no(raw: str) -> bool:
    text = raw.strip().casefold()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(f"Auto renew {raw.strip()[:40]!r} is neither yes nor no.")


def _sentence(message: str) -> str:
    message = message.strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def clean_row(line: int, raw: Mapping[str, Any], today: date) -> ContractRow | RowResult:
    """Check one row on its own (no database): a ``ContractRow``, or a refused ``RowResult``
    naming every problem of the row."""
    if not isinstance(raw, Mapping):
        return refused_row(line, {"non_field_errors": "Each row is an object with the contract's fields."})
    text: dict[str, str] = {}
    problems: dict[str, str] = {}
    for key in FIELDS:
        try:
            text[key] = _text(raw.get(key))
        except TypeError:
            text[key] = ""
            problems[key] = f"Give one value for {key.replace('_', ' ')}, not a list or an object."
        # A lone surrogate (JSON's "\ud800") is no text a database stores.
        if problem := bounds.utf8_problem(text[key]):
            text[key] = ""
            problems[key] = problem
    account_id = None
    if text["account"].strip():
        try:
            account_id = int(text["account"].strip())
        except ValueError:
            account_id = 0
        if not 1 <= account_id <= INT_MAX:
            problems["account"] = "Give an account's id (a whole number)."
    domain = ""
    if account_id is None and "domain" not in problems:
        try:
            domain = normalize_domain(text["domain"])
        except ValueError as exc:
            problems["domain"] = _sentence(str(exc))
    cleaned: dict[str, Any] = {}
    for key, clean in (
        ("name", lambda v: cleaning.clean_text(" ".join(v.split()), 200, "the account name")),
        ("number", lambda v: cleaning.clean_text(v, 64, "the contract number")),
        ("products", lambda v: cleaning.clean_text(v, 300, "products")),
        ("start_date", lambda v: parse_date(v, "start date")),
        ("end_date", lambda v: parse_date(v, "end date")),
        ("annual_value", parse_amount),
        ("seats", parse_seats),
        ("auto_renew", parse_yes_no),
        ("account_manager", lambda v: v.strip()[:254]),
    ):
        if key in problems:
            continue
        try:
            cleaned[key] = clean(text[key])
        except ValueError as exc:
            problems[key] = _sentence(str(exc))
    if problems:
        return refused_row(line, problems, text["name"].strip())
    terms = Terms(
        start_date=cleaned["start_date"],
        end_date=cleaned["end_date"],
        annual_value=cleaned["annual_value"],
        products=cleaned["products"],
        seats=cleaned["seats"],
        auto_renew=cleaned["auto_renew"],
        number=cleaned["number"],
    )
    problems = terms.problems()
    if "end_date" not in problems and terms.end_date < today:
        problems["end_date"] = (
            f"The contract ended on {day_text(terms.end_date)}: import current and future terms only."
        )
    if problems:
        return refused_row(line, problems, cleaned["name"])
    return ContractRow(
        line=line,
        account_id=account_id,
        domain=domain,
        name=cleaned["name"],
        terms=terms,
        account_manager=cleaned["account_manager"],
    )
