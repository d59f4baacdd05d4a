"""Outbound prospecting: target accounts and the prospects outbound SDRs add to them.

A target account is an account with a ``prospector``, the outbound SDR who works it. Managers
create target accounts and assign (or unassign) them to the outbound SDRs of the teams they
run. The account's SDR (or their manager) adds prospects: by hand, from a CSV file or through
the API, all through ``add_prospects``.

A prospect is a lead and a contact at once. Each row is cleaned as the CRM import cleans it
(``leads.importing.clean_row``), then checked against the leads and contacts that exist and
against the rows before it in the same batch; a refused row is reported with its line and the
reason and never blocks the others. The rows that pass are created in one transaction:
``leads.services.capture_many`` makes the leads (outbound, working, in the SDR's hands, not
routed, 0 engagement points) and the contacts at the account are linked to them. When a
concurrent capture creates one of those people first, the batch is rolled back and checked
again, so nobody is ever both refused and half-created.

The accessors (``visible_targets``, ``target_for``) decide which accounts a page or endpoint
may show: 403 for roles with no target accounts, 404 for an account the user may not see.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import (
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from leads import cleaning, importing
from leads.models import TOUCH_KINDS, Activity, ActivityKind, ActivitySource, Channel, Lead
from leads.services import Capture, capture_many
from sdr.models import Enrollment
from team.access import can_manage_reps, managed_teams
from team.models import Role, User

from ..models import Account, Contact
from .handoff import AccountsError

# A prospect list is read and written in one request: beyond this, split the file.
MAX_PROSPECT_ROWS = 5_000
# The row keys a prospect may carry; anything else (a CRM's "company" column) is ignored: the
# company is the account.
PROSPECT_FIELDS = ("email", "first_name", "last_name", "title", "phone", "country", "industry", "employees")
VIAS = (ActivitySource.MANUAL, ActivitySource.IMPORT, ActivitySource.API)
RACE_ATTEMPTS = 3


class DuplicateDomain(AccountsError):
    """An account already has the domain; ``account`` is that account (to link to it)."""

    def __init__(self, message: str, account: Account) -> None:
        super().__init__(message, field="domain")
        self.account = account


# --- who sees what --------------------------------------------------------------------------


def can_see_targets(user) -> bool:
    """Outbound SDRs work their target accounts; managers (and superusers) oversee them."""
    return user.is_authenticated and (user.role == Role.OUTBOUND_SDR or can_manage_reps(user))


def can_manage_targets(user) -> bool:
    return can_manage_reps(user)


def visible_targets(user) -> QuerySet[Account]:
    """The target accounts this user sees: an outbound SDR's own, a manager's teams' SDRs'
    (all for a superuser). 403 for every other role."""
    if not can_see_targets(user):
        raise PermissionDenied("Your role has no target accounts.")
    targets = Account.objects.filter(prospector__isnull=False)
    if user.is_superuser:
        return targets
    if user.role == Role.OUTBOUND_SDR:
        return targets.filter(prospector=user)
    return targets.filter(prospector__team__in=managed_teams(user))


def target_for(user, pk) -> Account:
    """One account for the target page: one of ``visible_targets``, or, for a manager, an
    account nobody prospects yet (so they can assign it). 404 for anything else."""
    accounts = visible_targets(user)
    if can_manage_targets(user):
        accounts = Account.objects.filter(Q(pk__in=accounts.values("pk")) | Q(prospector__isnull=True))
    try:
        # The calendar gives the zone the page shows due times in.
        return accounts.select_related("prospector__team__calendar").get(pk=pk)
    except (Account.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such target account.") from None


def assignable_prospectors(user) -> QuerySet[User]:
    """The outbound SDRs a manager may give a target account to: active, in teams they run."""
    if not can_manage_targets(user):
        return User.objects.none()
    return User.objects.filter(team__in=managed_teams(user), role=Role.OUTBOUND_SDR, is_active=True).order_by(
        "first_name", "last_name", "username"
    )


def _count(queryset: QuerySet, column: str) -> Coalesce:
    """Rows of ``queryset`` per outer account, as a correlated subquery: counting two kinds of
    row with joins would multiply them."""
    counted = queryset.order_by().values(column).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def with_counts(accounts: QuerySet[Account]) -> QuerySet[Account]:
    """What the target list shows beside each account, in the same query: prospects, active
    cadences among them, and the last touch on any of them."""
    touches = Activity.objects.filter(lead__contact__account=OuterRef("pk"), kind__in=TOUCH_KINDS).order_by(
        "-occurred_at"
    )
    return accounts.annotate(
        prospect_count=_count(Contact.objects.filter(account=OuterRef("pk")), "account"),
        active_cadences=_count(
            Enrollment.objects.filter(lead__contact__account=OuterRef("pk"), state=Enrollment.State.ACTIVE),
            "lead__contact__account",
        ),
        last_touch_at=Subquery(touches.values("occurred_at")[:1]),
    )


def prospects_of(account: Account) -> QuerySet[Contact]:
    """The account's contacts with their leads and each lead's latest enrollment (in
    ``lead.enrollment_list``, newest first): three queries whatever their number."""
    enrollments = (
        Enrollment.objects.select_related("cadence", "step")
        .annotate(total_steps=Count("cadence__steps"))
        .order_by("-started_at", "-id")
    )
    return (
        account.contacts.select_related("lead", "lead__owner")
        .prefetch_related(Prefetch("lead__enrollments", queryset=enrollments, to_attr="enrollment_list"))
        .order_by("last_name", "first_name", "id")
    )


# --- target accounts ------------------------------------------------------------------------

# A label: letters or digits (any script), inner hyphens; at least two labels.
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+{_LABEL}\Z")


def normalize_domain(raw: str) -> str:
    """The company's web domain as accounts store it: lower case, without scheme, path, port
    or a leading "www." ("https://www.Acme.com/about" is "acme.com"). Raises ``ValueError``
    with a reason when it is not a domain."""
    text = (raw or "").strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = text.rpartition("@")[2].split(":")[0].rstrip(".")
    text = text.removeprefix("www.")
    if not text:
        raise ValueError("enter the company's web domain, e.g. acme.com")
    if len(text) > 253 or not _DOMAIN.match(text) or "_" in text:
        raise ValueError(f"{raw.strip()[:60]!r} is not a web domain (e.g. acme.com)")
    return text


def _check_prospector(by: User, prospector: User) -> None:
    if prospector.role != Role.OUTBOUND_SDR or not prospector.is_active:
        raise AccountsError(f"{prospector} is not an active outbound SDR.", field="prospector")
    if not assignable_prospectors(by).filter(pk=prospector.pk).exists():
        raise AccountsError(f"{prospector} is not in a team you manage.", field="prospector")


def _domain_taken(domain: str) -> DuplicateDomain | None:
    existing = Account.objects.select_related("prospector").filter(domain=domain).first()
    if existing is None:
        return None
    if existing.prospector_id:
        who = f"a target account prospected by {existing.prospector}"
    else:
        who = "an account nobody prospects yet: open it to assign it instead"
    return DuplicateDomain(f"{existing.name} already has the domain {domain} ({who}).", existing)


def create_target_account(
    *,
    by: User,
    name: str,
    domain: str,
    prospector: User,
    industry: str = "",
    country: str = "",
    employees: int | None = None,
    now: datetime | None = None,
) -> Account:
    """A manager names a company for one of their outbound SDRs to prospect. The domain is
    unique among accounts: a company already known is assigned, not created twice."""
    if not can_manage_targets(by):
        raise AccountsError("Only a manager creates target accounts.")
    name = " ".join((name or "").split())
    if not name:
        raise AccountsError("Name the company.", field="name")
    name = _clean(lambda: cleaning.clean_text(name, 200, "the name"), "name")
    domain = _clean(lambda: normalize_domain(domain), "domain")
    industry = _clean(
        lambda: cleaning.clean_text(cleaning.normalize_industry(industry or ""), 100, "the industry"),
        "industry",
    )
    country_code = cleaning.normalize_country(country or "")
    if (country or "").strip() and not country_code:
        raise AccountsError(f"{country.strip()[:40]!r} is not a country we know.", field="country")
    if employees is not None and employees < 0:
        raise AccountsError("The number of employees cannot be negative.", field="employees")
    _check_prospector(by, prospector)
    if taken := _domain_taken(domain):
        raise taken
    try:
        with transaction.atomic():
            return Account.objects.create(
                name=name,
                domain=domain,
                industry=industry,
                country=country_code,
                employees=employees,
                prospector=prospector,
                created_at=now or timezone.now(),
            )
    except IntegrityError:
        # Created by someone else a moment ago: the same answer as if we had seen it.
        taken = _domain_taken(domain)
        if taken is None:
            # The lower-case check of the database disagrees with Python's on some letters.
            raise AccountsError(f"{domain!r} cannot be stored as a domain.", field="domain") from None
        raise taken from None


def _clean(normalize, field_name: str):
    """A normalizer's value, or its reason as the refusal of ``field_name``."""
    try:
        return normalize()
    except ValueError as exc:
        message = str(exc)
        raise AccountsError(message[:1].upper() + message[1:] + ".", field=field_name) from None


def assign_prospector(*, account_id: int, by: User, prospector: User | None) -> Account:
    """A manager gives a target account to one of their outbound SDRs, or (``prospector``
    empty) makes it a plain account again. Prospects already added stay with the SDR who owns
    their leads (a manager moves leads from the team page)."""
    if not can_manage_targets(by):
        raise AccountsError("Only a manager assigns target accounts.")
    if prospector is not None:
        _check_prospector(by, prospector)
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account_id)
        current = account.prospector
        if (
            current is not None
            and not by.is_superuser
            and not managed_teams(by).filter(pk=current.team_id).exists()
        ):
            raise AccountsError(f"{account} is prospected by {current}, outside the teams you manage.")
        if account.prospector_id == (prospector.pk if prospector else None):
            return account
        account.prospector = prospector
        account.save(update_fields=["prospector"])
    return account


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
    allowed = (
        by.pk == prospector.pk
        or by.is_superuser
        or (by.role == Role.MANAGER and prospector.team is not None and prospector.team.manager_id == by.pk)
    )
    if not allowed:
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
            row = importing.clean_row(text)
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
    rows, lines = [], []
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
    except importing.ImportFormatError as exc:
        raise AccountsError(str(exc), field="file") from None
    if not rows:
        raise AccountsError("The file has a header row but no prospects.", field="file")
    return add_prospects(account_id=account_id, by=by, rows=rows, via=ActivitySource.IMPORT, lines=lines)
