"""Merge fields: ``{{ lead.first_name }}`` in a template's subject or body is replaced by the
recipient's value, ``{{ sender.name }}`` by the sender's.

Deliberately not Django's template language: a template is written by users and must not
reach attributes, filters or tags; only the fields listed here exist. A field with no value
(a lead without a first name) stops the send with a message naming it, instead of sending
"Hi ,". ``{{ lead.first_name | there }}`` gives a fallback for when it is empty.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from kit.errors import Refused

# The recipient's fields (a lead or a contact; for a contact, the account's name is the company).
RECIPIENT_FIELDS = {
    "first_name": "First name",
    "last_name": "Last name",
    "name": "Full name",
    "email": "Email",
    "company": "Company",
    "title": "Job title",
    "phone": "Phone",
}
SENDER_FIELDS = {
    "first_name": "First name",
    "last_name": "Last name",
    "name": "Full name",
    "email": "Email",
    "signature": "Signature",
}
FIELDS = {f"lead.{key}": label for key, label in RECIPIENT_FIELDS.items()} | {
    f"sender.{key}": label for key, label in SENDER_FIELDS.items()
}

# Anything between double braces is a merge field: a name that is not in FIELDS is refused,
# never left in the email as written.
_FIELD = re.compile(r"\{\{\s*([^}|]*?)\s*(?:\|\s*([^}]*?)\s*)?\}\}")


class MergeError(Refused):
    """A merge field that is unknown or has no value for this recipient."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def recipient_values(person, *, company: str = "") -> dict[str, str]:
    """The merge values of a lead or a contact (anything with the lead's name fields)."""
    first = (getattr(person, "first_name", "") or "").strip()
    last = (getattr(person, "last_name", "") or "").strip()
    return {
        "lead.first_name": first,
        "lead.last_name": last,
        "lead.name": f"{first} {last}".strip(),
        "lead.email": getattr(person, "email", "") or "",
        "lead.company": (company or getattr(person, "company", "") or "").strip(),
        "lead.title": (getattr(person, "title", "") or "").strip(),
        "lead.phone": (getattr(person, "phone", "") or "").strip(),
    }


def sender_values(user, *, signature: str = "", address: str = "") -> dict[str, str]:
    first = (user.first_name or "").strip()
    last = (user.last_name or "").strip()
    return {
        "sender.first_name": first,
        "sender.last_name": last,
        "sender.name": f"{first} {last}".strip() or user.username,
        "sender.email": address or user.email or "",
        "sender.signature": signature.strip(),
    }


def fields_in(text: str) -> list[str]:
    return [match.group(1) for match in _FIELD.finditer(text)]


def render_text(text: str, values: Mapping[str, str], *, where: str) -> str:
    """``text`` with every merge field replaced; ``MergeError`` (on ``where``, the form field)
    for an unknown field or one with no value and no fallback."""
    unknown = sorted({name for name in fields_in(text) if name not in FIELDS})
    if unknown:
        raise MergeError(
            "Unknown merge field " + ", ".join(f"{{{{ {name} }}}}" for name in unknown) + ". "
            "Use one of: " + ", ".join(f"{{{{ {name} }}}}" for name in FIELDS) + ".",
            field=where,
        )
    missing: list[str] = []

    def replace(match: re.Match) -> str:
        name, fallback = match.group(1), match.group(2)
        value = values.get(name, "")
        if value:
            return value
        if fallback:
            return fallback
        missing.append(name)
        return ""

    result = _FIELD.sub(replace, text)
    if missing:
        names = ", ".join(f"{{{{ {name} }}}}" for name in dict.fromkeys(missing))
        raise MergeError(
            f"{names} has no value for this recipient: fill it in, write the text yourself, or give a "
            "fallback such as {{ lead.first_name | there }}.",
            field=where,
        )
    return result


def render(*, subject: str, body: str, values: Mapping[str, str]) -> Rendered:
    return Rendered(
        subject=render_text(subject, values, where="subject"), body=render_text(body, values, where="body")
    )
