"""Normalizers shared by the web form, the API and the CSV import.

Each takes raw text as a person or a CRM export wrote it and returns the value Refinery stores,
so a form fill and an imported row of the same person store the same values. A normalizer
raises ``ValueError`` with a reason a user understands only where the input is unusable (an
invalid email, an oversized text); a value that is merely unknown (``"n/a"`` employees, an
unheard-of country) becomes empty, because not knowing something is no reason to refuse a
lead.

Pure Python and free of database access: the import calls these functions for every row.
"""

import re
import unicodedata
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

import pycountry
from email_validator import EmailNotValidError, validate_email

from .models import Channel, FitField, Lead, Seniority

# --- email ----------------------------------------------------------------------------------

# A full ``validate_email`` costs ~20 µs, most of it checking the domain, and an import runs
# it 100,000 times over a few thousand distinct domains. So the common case, a dot-atom local
# part of letters, digits, "_", "+" and "-" in any script (already NFC), is checked here and
# the domain by a cached full validation. Anything else (quoted local parts, other atext,
# combining marks, IDN domains) goes through ``validate_email`` whole: the fast path only
# accepts what it would accept, with the same result (a test compares them). It assumes
# email_validator's defaults (internationalized local parts allowed).
_PLAIN_LOCAL_PART = re.compile(r"[\w+-]+(?:\.[\w+-]+)*\Z")
_EMAIL_MAX_LENGTH = 254  # octets of UTF-8, as email_validator counts


def normalize_email(raw: str) -> str:
    """Return the address trimmed, validated and lower-cased entirely.

    Internationalized addresses (``さゆり.山田@matthaei.com``) are valid and kept. The whole
    address is lower-cased, local part included: deduplicating leads case-insensitively is a
    product decision (no real mailbox provider distinguishes case). Raises ``ValueError``
    with the reason when the address is missing or invalid.
    """
    address = (raw or "").strip()
    if not address:
        raise ValueError("email is missing")
    local, at, domain = address.rpartition("@")
    if (
        at
        and domain.isascii()
        and "xn--" not in domain
        and _PLAIN_LOCAL_PART.match(local)
        and (local.isascii() or unicodedata.is_normalized("NFC", local))
        and len(address.encode()) <= _EMAIL_MAX_LENGTH
    ):
        normalized_domain = _normalized_domain(domain.lower())
        if normalized_domain is not None:
            return f"{local.lower()}@{normalized_domain}"
    try:
        result = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"email {_quote(address)} is not a valid address: {exc}") from None
    return result.normalized.lower()


@lru_cache(maxsize=8192)
def _normalized_domain(domain: str) -> str | None:
    """The domain as ``validate_email`` normalizes it, or None when it rejects it."""
    try:
        result = validate_email(f"a@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return None
    return result.domain.lower()


def _quote(value: str, limit: int = 60) -> str:
    # Reasons end up in a 500-character column and on screen: echo only the start of a value.
    return repr(value if len(value) <= limit else value[:limit] + "…")


# --- country --------------------------------------------------------------------------------

# Spellings people and CRMs use that ISO 3166 (and so pycountry) does not know.
_COUNTRY_ALIASES = {
    "us": "US",
    "usa": "US",
    "united states": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "great britain": "GB",
    "britain": "GB",
    "deutschland": "DE",
    "españa": "ES",
    "espana": "ES",
    "holland": "NL",
    "the netherlands": "NL",
    "russia": "RU",
    "south korea": "KR",
    "korea": "KR",
    "turkey": "TR",
    "uae": "AE",
}


@lru_cache(maxsize=1024)
def normalize_country(raw: str) -> str:
    """Return the ISO 3166-1 alpha-2 code for a country name or code, or "" when empty or
    unknown. Case-insensitive; dots are ignored ("U.S."). Cached: a file repeats a few
    spellings thousands of times."""
    key = " ".join((raw or "").split()).casefold()
    if not key:
        return ""
    undotted = key.replace(".", "").strip()
    if key in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[key]
    if undotted in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[undotted]
    for candidate in (key, undotted):
        try:
            return pycountry.countries.lookup(candidate).alpha_2
        except LookupError:
            continue
    return ""


# --- numbers --------------------------------------------------------------------------------

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


# --- industry, seniority, fit values ----------------------------------------------------------

_WORD_SEPARATORS = re.compile(r"[\s_-]+")
# Capitalizing word by word would write "It Services": keep the usual spelling of these.
_ACRONYMS = {"it": "IT", "ai": "AI", "hr": "HR", "saas": "SaaS", "b2b": "B2B", "b2c": "B2C"}


@lru_cache(maxsize=1024)
def normalize_industry(raw: str) -> str:
    """Return the industry in one spelling: "FINANCIAL_SERVICES", "financial services" and
    "Financial  Services" are all "Financial Services". Underscores and hyphens become
    spaces, whitespace collapses, every word is capitalized. The same function normalizes
    fit criteria, so a criterion and a lead compare equal whatever CRM wrote them."""
    words = _WORD_SEPARATORS.split((raw or "").strip())
    return neutralize_formula(
        " ".join(_ACRONYMS.get(word.casefold(), word.capitalize()) for word in words if word)
    )


# Checked in this order; the first that matches wins. "Vice President" must not count as a
# president, and a Product Owner owns a backlog, not a company.
_SENIORITY_PATTERNS = (
    (
        Seniority.C_LEVEL.value,
        re.compile(
            r"\b(?:ceo|cto|cfo|coo|cmo|cio|ciso|cro|cpo|chief|founder|owner|managing director"
            r"|(?<!vice )(?<!vice-)president)\b"
        ),
    ),
    (Seniority.VP.value, re.compile(r"\b(?:vp|svp|evp|avp|vice[ -]president)\b")),
    (Seniority.DIRECTOR.value, re.compile(r"\b(?:director|head)\b")),
    (Seniority.MANAGER.value, re.compile(r"\b(?:manager|lead|supervisor)\b")),
)
_NOT_AN_OWNER = re.compile(r"\b(?:product|process|business) owner\b")


@lru_cache(maxsize=4096)
def seniority_from_title(title: str) -> str:
    """Return the ``Seniority`` value a job title implies ("" when there is no title).

    Whole words, case-insensitive: "Director of IT" is director, "VP of Sales" vp, "Sales
    Manager" manager; any other title ("Intern", "Procurement Specialist") is individual.
    A Managing Director runs the company (the UK and German top executive), so c_level.
    """
    text = " ".join((title or "").split()).casefold()
    if not text:
        return Seniority.UNKNOWN.value
    text = _NOT_AN_OWNER.sub(" ", text)
    for seniority, pattern in _SENIORITY_PATTERNS:
        if pattern.search(text):
            return seniority
    return Seniority.INDIVIDUAL.value


_SENIORITY_ALIASES = {
    "c-level": Seniority.C_LEVEL.value,
    "c level": Seniority.C_LEVEL.value,
    "clevel": Seniority.C_LEVEL.value,
    "c-suite": Seniority.C_LEVEL.value,
    "executive": Seniority.C_LEVEL.value,
    "founder": Seniority.C_LEVEL.value,
    "vice president": Seniority.VP.value,
    "director": Seniority.DIRECTOR.value,
    "head": Seniority.DIRECTOR.value,
    "individual": Seniority.INDIVIDUAL.value,
    "ic": Seniority.INDIVIDUAL.value,
    **{label.casefold(): value for value, label in Seniority.choices if value},
    **{value: value for value in Seniority.values if value},
}


def normalize_fit_value(field: str, raw: str) -> str:
    """Normalize one accepted value of an ideal-customer-profile criterion the way lead data
    is normalized, so criteria and leads compare equal: industries by ``normalize_industry``,
    countries to ISO codes ("" when unknown), seniorities to a ``Seniority`` value (values or
    labels such as "VP" and "C-level"; "" when unknown). Other fields are only trimmed."""
    if field == FitField.INDUSTRY:
        return normalize_industry(raw)
    if field == FitField.COUNTRY:
        return normalize_country(raw)
    if field == FitField.SENIORITY:
        key = " ".join((raw or "").replace("_", " ").split()).casefold()
        return _SENIORITY_ALIASES.get(key, "")
    return (raw or "").strip()


# --- free text ------------------------------------------------------------------------------

# OWASP "CSV injection": a spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def neutralize_formula(text: str) -> str:
    """Prefix text a spreadsheet would execute as a formula with a single quote.

    Leads are exported again to spreadsheets; the quote makes the cell plain text there
    (OWASP CSV injection). The value is otherwise unchanged."""
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def clean_text(raw: str, max_length: int, field_label: str) -> str:
    """Return free text trimmed, with newlines and control characters turned into single
    spaces and formulas neutralized. Raises ``ValueError`` when the result is longer than
    ``max_length``: an oversized field refuses the row, it is never silently truncated.

    Markup such as ``<script>`` is kept as text; templates escape it on output."""
    text = (raw or "").strip()
    if not text.isprintable():
        # str.split() already breaks on newlines, tabs and Unicode separators; NUL and the
        # other control characters are not whitespace to it, hence the substitution first.
        text = " ".join(_CONTROL_CHARACTERS.sub(" ", text).split())
    text = neutralize_formula(text)
    if len(text) > max_length:
        raise ValueError(f"{field_label} is longer than {max_length} characters")
    return text


_PHONE_MAX_LENGTH = 40
# Digits with the usual punctuation, a leading + and an optional extension ("x168", "ext. 12").
_PHONE = re.compile(
    r"\+?[\d\s().\-/]*\d[\d\s().\-/]*(?:\s*(?:x|ext\.?|extension|#)\s*\d{1,6})?\Z", re.IGNORECASE
)


def clean_phone(raw: str) -> str:
    """Return a phone number as written when it looks like one (digits, spaces, + ( ) - . /
    and an optional extension); a leading + is normal there and cannot start a formula in
    that alphabet. Anything else is treated as free text (neutralized). Raises ``ValueError``
    when longer than 40 characters."""
    text = (raw or "").strip()
    if len(text) <= _PHONE_MAX_LENGTH and _PHONE.match(text):
        return text
    return clean_text(text, _PHONE_MAX_LENGTH, "phone")


# --- dates ----------------------------------------------------------------------------------

# Salesforce US exports print dates month first ("04/09/2025" is April 9th), with an
# optional 12-hour time. Dots mean the European day-first order.
_US_DATE = re.compile(
    r"(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>[ap]m)?)?"
)
_DOTTED_DATE = re.compile(
    r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?"
)
_SLASHED_ISO_DATE = re.compile(r"(?P<year>\d{4})/(?P<month>\d{1,2})/(?P<day>\d{1,2})")


def parse_datetime_loose(raw: str) -> datetime | None:
    """Return an aware UTC datetime from the date formats CRM exports use, or None.

    ISO 8601 dates and times ("2025-11-30", "2025-04-25 22:30", "2025-04-25T22:30:00+02:00"),
    US month/day/year with an optional time ("04/09/2025", "4/9/2025 10:30 PM"), day.month.year
    and year/month/day. A value without a zone is taken as UTC.
    """
    text = (raw or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = _parse_numeric_date(text.casefold())
        if value is None:
            return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # "0001-01-01T00:00+01:00" is before year 1 in UTC
        return None


def _parse_numeric_date(text: str) -> datetime | None:
    for pattern in (_US_DATE, _DOTTED_DATE, _SLASHED_ISO_DATE):
        match = pattern.fullmatch(text)
        if match is None:
            continue
        parts = match.groupdict()
        hour = int(parts.get("hour") or 0)
        if parts.get("ampm"):
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if parts["ampm"] == "pm" else 0)
        try:
            return datetime(
                int(parts["year"]),
                int(parts["month"]),
                int(parts["day"]),
                hour,
                int(parts.get("minute") or 0),
                int(parts.get("second") or 0),
            )
        except ValueError:
            return None
    return None


# --- source and rating ----------------------------------------------------------------------

_CHANNEL_WORDS = {
    # Salesforce lead sources
    "web": Channel.WEB,
    "website": Channel.WEB,
    "web form": Channel.WEB,
    "web site": Channel.WEB,
    "partner referral": Channel.PARTNER,
    "partner": Channel.PARTNER,
    "reseller": Channel.PARTNER,
    "channel partner": Channel.PARTNER,
    "webinar": Channel.WEBINAR,
    "phone inquiry": Channel.PHONE,
    "phone": Channel.PHONE,
    "inbound call": Channel.PHONE,
    "call": Channel.PHONE,
    "trade show": Channel.EVENT,
    "tradeshow": Channel.EVENT,
    "event": Channel.EVENT,
    "conference": Channel.EVENT,
    "seminar": Channel.EVENT,
    "expo": Channel.EVENT,
    "meetup": Channel.EVENT,
    "purchased list": Channel.LIST,
    "list": Channel.LIST,
    "list import": Channel.LIST,
    "other": Channel.OTHER,
    # HubSpot original sources (underscores become spaces before the lookup)
    "organic search": Channel.ORGANIC_SEARCH,
    "seo": Channel.ORGANIC_SEARCH,
    "paid search": Channel.PAID_SEARCH,
    "google ads": Channel.PAID_SEARCH,
    "adwords": Channel.PAID_SEARCH,
    "bing ads": Channel.PAID_SEARCH,
    "ppc": Channel.PAID_SEARCH,
    "sem": Channel.PAID_SEARCH,
    "email marketing": Channel.EMAIL,
    "email": Channel.EMAIL,
    "e-mail": Channel.EMAIL,
    "newsletter": Channel.EMAIL,
    "social media": Channel.SOCIAL,
    "paid social": Channel.SOCIAL,
    "social": Channel.SOCIAL,
    "linkedin": Channel.SOCIAL,
    "facebook": Channel.SOCIAL,
    "twitter": Channel.SOCIAL,
    "instagram": Channel.SOCIAL,
    "referrals": Channel.REFERRAL,
    "referral": Channel.REFERRAL,
    "word of mouth": Channel.REFERRAL,
    "customer referral": Channel.REFERRAL,
    "employee referral": Channel.REFERRAL,
    "direct traffic": Channel.DIRECT,
    "direct": Channel.DIRECT,
    "offline": Channel.OFFLINE,
    "offline sources": Channel.OFFLINE,
    "outbound": Channel.OUTBOUND,
    "outbound prospecting": Channel.OUTBOUND,
    "prospecting": Channel.OUTBOUND,
    "cold call": Channel.OUTBOUND,
    "cold email": Channel.OUTBOUND,
    # Refinery's own values and labels, so an export of ours imports back unchanged.
    **{value.replace("_", " "): Channel(value) for value in Channel.values},
    **{label.casefold(): Channel(value) for value, label in Channel.choices},
}


@lru_cache(maxsize=1024)
def channel_from_source(raw: str) -> str:
    """Return the ``Channel`` value for a CRM lead-source label (Salesforce "Partner Referral",
    HubSpot "EMAIL_MARKETING", "Google Ads", ...); "other" when empty or unknown."""
    key = " ".join((raw or "").replace("_", " ").split()).casefold()
    return _CHANNEL_WORDS.get(key, Channel.OTHER).value


_RATINGS = {
    "hot": Lead.Rating.A.value,
    "warm": Lead.Rating.B.value,
    "cold": Lead.Rating.C.value,
    # Our own letters, so an export of ours imports back unchanged.
    **{value.casefold(): value for value in Lead.Rating.values if value},
}


def rating_from_external(raw: str) -> str:
    """Return the ``Lead.Rating`` for a CRM rating: Hot A, Warm B, Cold C ("" otherwise)."""
    return _RATINGS.get((raw or "").strip().casefold(), Lead.Rating.NONE.value)
