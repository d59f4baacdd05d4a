"""Emails and free text: an email normalized (or refused with a reason), text trimmed,
bounded and made safe to open in a spreadsheet, phone numbers."""

import re
import unicodedata
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

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
    if not raw:
        return ""  # most optional columns of most rows: an import asks this a million times
    text = raw.strip()
    if not text.isprintable():
        # str.split() already breaks on newlines, tabs and Unicode separators; NUL and the
        # other control characters are not whitespace to it, hence the substitution first.
        text = " ".join(_CONTROL_CHARACTERS.sub(" ", text).split())
    if text.startswith(_FORMULA_STARTS):  # neutralize_formula, inlined for the same reason
        text = "'" + text
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
