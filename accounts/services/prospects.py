"""Prospects: the people outbound SDRs add to a target account, by hand, from a CSV file or
through the API, all through ``add_prospects``.

A prospect is a lead and a contact at once. Each row is cleaned as the CRM import cleans it
(``leads.importing.clean_row``), then checked against the leads and contacts that exist and
against the rows before it in the same batch; a refused row is reported with its line and the
reason and never blocks the others. The rows that pass are created in one transaction:
``leads.services.capture_many`` makes the leads (outbound, working, in the SDR's hands, not
routed, 0 engagement points) and the contacts at the account are linked to them. When a
concurrent capture creates one of those people first, the batch is rolled back and checked
again, so nobody is ever both refused and half-created.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from django.db import IntegrityError, transaction
from django.utils import timezone

from kit.csvfiles import ImportFormatError
from leads import importing
from leads.models import ActivityKind, ActivitySource, Channel, Lead, LeadRedirect
from leads.services import Capture, capture_many
from team.models import User

from ..access import may_add_prospects
from ..models import Account, Contact
from .common import AccountsError

# A prospect list is read and written in one request: beyond this, split the file.
MAX_PROSPECT_ROWS = 5_000
# The row keys a prospect may carry; anything else (a CRM's "company" column) is ignored: the
# company is the account.
PROSPECT_FIELDS = ("email", "first_name", "last_name", "title", "phone", "country", "industry", "employees")
VIAS = (ActivitySource.MANUAL, ActivitySource.IMPORT, ActivitySource.API)
RACE_ATTEMPTS = 3


# --- prospects ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddedProspect:
    line: int
    email: str
    contact: Contact
    lead: Lead


@dataclass(frozen=True)
class RefusedProspect:
    line: int
    email: str
    reason: str


@dataclass
class ProspectResult:
    """What a batch did: the prospects created and the rows refused, each with its line (the
    file's line for a CSV, the 1-based position in the list otherwise)."""

    account: Account
    created: list[AddedProspect] = field(default_factory=list)
    refused: list[RefusedProspect] = field(default_factory=list)


@dataclass
class _Row:
    line: int
    clean: importing.CleanRow


class _Raced(Exception):
    """Someone created one of these people while the batch was being written."""


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _target_for_adding(account_id: int, by: User) -> Account:
    account = Account.objects.select_related("prospector__team").filter(pk=account_id).first()
    if account is None:
        raise AccountsError("No such account.")
    prospector = account.prospector
    if prospector is None:
        raise AccountsError(
            f"{account} is not a target account: a manager assigns it to an outbound SDR first."
        )
    if not may_add_prospects(by, account):
        raise AccountsError("Only the account's outbound SDR (or their manager) adds prospects to it.")
    if not prospector.is_active:
        raise AccountsError(f"{prospector} has left: a manager assigns {account} to another SDR first.")
    return account


def add_prospects(
    *,
    account_id: int,
    by: User,
    rows: Sequence[Mapping[str, Any]],
    via: str,
    lines: Sequence[int] | None = None,
    now: datetime | None = None,
) -> ProspectResult:
    """Add people to a target account as prospects of its outbound SDR (see the module's
    docstring). ``lines`` numbers the rows in the report (default 1, 2, 3...). Raises
    ``AccountsError`` when the batch as a whole is refused (not a target, not yours, too
    many rows); otherwise every row is either created or refused with its reason."""
    if via not in VIAS:
        raise ValueError(f"via must be one of {VIAS}, not {via!r}.")
    if len(rows) > MAX_PROSPECT_ROWS:
        raise AccountsError(
            f"At most {MAX_PROSPECT_ROWS:,} prospects at a time; this list has {len(rows):,}. Split it."
        )
    lines = list(lines) if lines is not None else list(range(1, len(rows) + 1))
    account = _target_for_adding(account_id, by)
    result = ProspectResult(account=account)
    clean: list[_Row] = []
    first_line: dict[str, int] = {}
    for line, raw in zip(lines, rows, strict=True):
        text = {key: _text(raw.get(key)) for key in PROSPECT_FIELDS}
        try:
            row = importing.clean_row(text, shorten=False)
        except importing.RowRefused as exc:
            result.refused.append(RefusedProspect(line, text["email"].strip()[:254], exc.reason))
            continue
        if row.email in first_line:
            result.refused.append(
                RefusedProspect(line, row.email, f"the same email as line {first_line[row.email]}")
            )
            continue
        first_line[row.email] = line
        clean.append(_Row(line, row))
    for _ in range(RACE_ATTEMPTS):
        try:
            created, known = _write(account, by, clean, via, now or timezone.now())
        except (_Raced, IntegrityError):
            continue
        result.created = created
        result.refused = sorted(result.refused + known, key=lambda r: r.line)
        return result
    raise AccountsError("Others were adding the same people at the same time; try again.")


def _write(
    account: Account, by: User, rows: list[_Row], via: str, now: datetime
) -> tuple[list[AddedProspect], list[RefusedProspect]]:
    """Check the rows against the leads and contacts that exist, and create the rest in one
    transaction. Raises ``_Raced`` (everything rolled back) when a lead appeared meanwhile."""
    emails = [r.clean.email for r in rows]
    with transaction.atomic():
        leads = {lead.email: lead for lead in Lead.objects.select_related("owner").filter(email__in=emails)}
        leads |= LeadRedirect.objects.survivors_by_email(set(emails) - leads.keys())  # merged addresses
        contacts = {
            contact.email: contact
            for contact in Contact.objects.select_related("account").filter(email__in=emails)
        }
        refused, fresh = [], []
        for row in rows:
            reasons = []
            if contact := contacts.get(row.clean.email):
                reasons.append(f"already a contact at {contact.account.name}")
            if lead := leads.get(row.clean.email):
                owner = f"owned by {lead.owner}" if lead.owner_id else "no owner"
                reasons.append(f"already a lead (status {lead.get_status_display()}, {owner})")
            if reasons:
                refused.append(RefusedProspect(row.line, row.clean.email, "; ".join(reasons)))
            else:
                fresh.append(row)
        if not fresh:
            return [], refused
        results = capture_many([_capture(account, by, row.clean, via, now) for row in fresh])
        if not all(r.created for r in results):
            raise _Raced
        new_contacts = Contact.objects.bulk_create(
            [
                Contact(
                    account=account,
                    lead=r.lead,
                    email=r.lead.email,
                    first_name=r.lead.first_name,
                    last_name=r.lead.last_name,
                    title=r.lead.title,
                    phone=r.lead.phone,
                    created_at=now,
                )
                for r in results
            ]
        )
    added = [
        AddedProspect(row.line, row.clean.email, contact, r.lead)
        for row, r, contact in zip(fresh, results, new_contacts, strict=True)
    ]
    return added, refused


def _capture(account: Account, by: User, row: importing.CleanRow, via: str, now: datetime) -> Capture:
    # The company is the account; what the row does not say about it, the account does.
    details = {
        "first_name": row.first_name,
        "last_name": row.last_name,
        "company": account.name[:200],
        "title": row.title,
        "seniority": row.seniority,
        "industry": row.industry or account.industry,
        "employees": row.employees if row.employees is not None else account.employees,
        "country": row.country or account.country,
        "phone": row.phone,
    }
    return Capture(
        email=row.email,
        details=details,
        via=via,
        source=Channel.OUTBOUND,
        activity_kind=ActivityKind.IMPORTED,
        note=f"Prospect at {account.name}, added by {by}.",
        actor=by,
        at=now,
        prospector=account.prospector,
    )


def import_prospects(*, account_id: int, by: User, file: BinaryIO) -> ProspectResult:
    """A CSV prospect list (any CRM export or a sheet with an email column), added at once
    with each refused row reported by its line in the file. The whole file is refused, with
    the reason, when it has no email column, is not UTF-8 text, or is too long."""
    _target_for_adding(account_id, by)  # refuse before reading a file that cannot be used
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    try:
        reader = importing.iter_rows(file)
        try:
            for line, raw in reader:
                if len(rows) >= MAX_PROSPECT_ROWS:
                    raise AccountsError(
                        f"The file has more than {MAX_PROSPECT_ROWS:,} prospects: split it into smaller files.",
                        field="file",
                    )
                rows.append(raw)
                lines.append(line)
        finally:
            reader.close()
    except ImportFormatError as exc:
        raise AccountsError(str(exc), field="file") from None
    if not rows:
        raise AccountsError("The file has a header row but no prospects.", field="file")
    return add_prospects(account_id=account_id, by=by, rows=rows, via=ActivitySource.IMPORT, lines=lines)
