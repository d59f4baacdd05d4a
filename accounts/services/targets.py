"""Target accounts: the named companies outbound SDRs prospect.

A target account is an account with a ``prospector``, the outbound SDR who works it. Managers
create target accounts and assign (or unassign) them to the outbound SDRs of the teams they
run (who may: ``accounts.access``). The domain is unique among accounts, so a company already
known is assigned, not created twice. ``with_counts`` and ``prospects_of`` are what the target
pages and the API show of them.
"""

import re
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import (
    Count,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
)
from django.utils import timezone

from kit.counting import correlated_count
from leads import cleaning
from leads.models import TOUCH_KINDS, Activity
from sdr.models import Enrollment
from team.models import User

from ..access import assignable_prospectors, can_manage_targets, is_prospector, manages_rep
from ..models import Account, Contact
from .common import AccountsError


class DuplicateDomain(AccountsError):
    """An account already has the domain; ``account`` is that account (to link to it)."""

    def __init__(self, message: str, account: Account) -> None:
        super().__init__(message, field="domain")
        self.account = account


def with_counts(accounts: QuerySet[Account]) -> QuerySet[Account]:
    """What the target list shows beside each account, in the same query: prospects, active
    cadences among them, and the last touch on any of them."""
    touches = Activity.objects.filter(lead__contact__account=OuterRef("pk"), kind__in=TOUCH_KINDS).order_by(
        "-occurred_at"
    )
    return accounts.annotate(
        prospect_count=correlated_count(Contact.objects.filter(account=OuterRef("pk")), "account"),
        active_cadences=correlated_count(
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
    if not is_prospector(prospector):
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
        if current is not None and not manages_rep(by, current):
            raise AccountsError(f"{account} is prospected by {current}, outside the teams you manage.")
        if account.prospector_id == (prospector.pk if prospector else None):
            return account
        account.prospector = prospector
        account.save(update_fields=["prospector"])
    return account
