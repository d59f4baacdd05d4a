"""Who may see and work customer accounts, contracts and expansion leads: one module for the
AM's pages, the contracts API, the services and the expansion list.

    role                  reads accounts/contracts   works an account's renewals
    account manager       their own accounts         their own accounts
    manager               their AM teams' accounts   their AM teams' (and those without an AM)
    superuser             every account              every account
    marketing/ops         every account (imports)    none (403 on the actions)
    AE, SDR               none (403)                 none

Managers and superusers also give accounts to AMs; managers, marketing/ops and superusers
import contracts (whoever imports leads). An expansion lead is worked by its AM, that AM's
manager or a superuser. A page answers 403 to a role with no business there and 404 for an
account, contract or lead that is not the user's, so ids do not leak who the customers are.
"""

from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from accounts.access import is_own_upsell, sees_opportunities, works_account
from accounts.models import Account, Opportunity
from leads.access import can_import
from leads.models import Lead
from team.access import managed_teams
from team.models import Role, User

from .models import Contract

_Contracts = TypeVar("_Contracts", bound=QuerySet[Contract])


def can_manage_accounts(user) -> bool:
    """AMs, managers and superusers work customer accounts; AEs and SDRs never do."""
    return user.is_authenticated and (user.is_superuser or user.role in (Role.AM, Role.MANAGER))


def reads_accounts(user) -> bool:
    """AMs, their managers and superusers work customer accounts; marketing reads them."""
    return can_manage_accounts(user) or user.role == Role.MARKETING


def reads_every_account(user) -> bool:
    """Superusers and marketing/ops (who import contracts) read every account."""
    return user.is_superuser or user.role == Role.MARKETING


def may_work_account(user, account: Account) -> bool:
    """The account's AM, a manager of the AM's team (or of the AM teams, while it has no AM),
    or a superuser (``accounts.access.works_account``, where logging calls asks it too)."""
    return works_account(user, account)


def assigns_account_managers(user) -> bool:
    """Managers (of the account's AM, so only with ``may_work_account``) and superusers hand
    accounts to AMs; AMs do not."""
    return user.is_superuser or user.role == Role.MANAGER


def may_import_contracts(user) -> bool:
    """Contracts are imported by whoever imports leads: managers, marketing/ops, superusers."""
    return can_import(user)


def may_work_lead(user, lead: Lead) -> bool:
    """An expansion lead: the lead's AM, the manager of that AM's team, or a superuser
    (``lead.owner`` loaded with its team). A lead in an SDR's hands is nobody's here."""
    if not user.is_authenticated:
        return False
    owner = lead.owner
    if owner is None or owner.role != Role.AM:
        return False
    if user.is_superuser:
        return True
    if user.role == Role.AM:
        return owner.pk == user.pk
    return user.role == Role.MANAGER and owner.team is not None and owner.team.manager_id == user.pk


def opens_opportunity(user, opportunity: Opportunity, visible: bool = True) -> bool:
    """Whether the opportunity's page is this user's to open (``accounts.access``): one they
    may see, and for an AM only the upsells they own (renewals close on the contract's page)."""
    if not visible:
        return False
    if user.role == Role.AM:
        return is_own_upsell(user, opportunity)
    return sees_opportunities(user)


def visible_opportunity(user, ref: str = "pk") -> Exists:
    """Whether the user may see the opportunity ``ref`` names, inside a list's own query."""
    return Exists(Opportunity.objects.visible_to(user).filter(pk=OuterRef(ref)))


# --- what a user sees in lists ----------------------------------------------------------------


def visible_contracts(user, contracts: _Contracts) -> _Contracts:
    """``Contract.objects.visible_to``: AMs their accounts' contracts; managers their AM
    teams'; superusers and marketing/ops all (for imports); AEs and SDRs none."""
    if not user.is_authenticated:
        return contracts.none()
    if reads_every_account(user):
        return contracts
    if user.role == Role.AM:
        return contracts.filter(account__account_manager=user)
    if user.role == Role.MANAGER:
        return contracts.filter(account__account_manager__team__in=managed_teams(user))
    return contracts.none()


def visible_expansion_items(user, items: QuerySet) -> QuerySet:
    """The expansion-lead items a user works: an AM their own, a manager their AM teams',
    a superuser all; nobody else any."""
    if not user.is_authenticated:
        return items.none()
    if user.is_superuser:
        return items
    if user.role == Role.AM:
        return items.filter(owner=user)
    if user.role == Role.MANAGER:
        return items.filter(team__in=managed_teams(user))
    return items.none()


def looks_across_ams(user) -> bool:
    """The renewals page shows an AM their own book; a manager or superuser looks across AMs
    (``account_managers_for``) and may filter by one."""
    return user.role != Role.AM


def sees_every_am(user) -> bool:
    """A superuser looks across every AM; a manager across their AM teams'."""
    return user.is_superuser


def account_managers_for(user) -> QuerySet[User]:
    """The AMs this user may look across or hand accounts to: a manager's AM teams', all for
    a superuser."""
    ams = User.objects.filter(role=Role.AM)
    if not sees_every_am(user):
        ams = ams.filter(team__in=managed_teams(user))
    return ams.order_by("first_name", "last_name", "username")


# --- the pages' accessors ---------------------------------------------------------------------


def _checked(user, account: Account) -> bool:
    """Whether ``user`` may work ``account``; 404 when they may not even read it."""
    may_work = may_work_account(user, account)
    if not may_work and not reads_every_account(user):
        raise Http404("No such account.")
    return may_work


def account_for(user, pk) -> tuple[Account, bool]:
    """The account and whether the user may work it: 403 for roles that never see customer
    accounts (AEs, SDRs), 404 for one that is missing or not theirs."""
    if not reads_accounts(user):
        raise PermissionDenied("Customer accounts are the account managers'.")
    try:
        account = Account.objects.select_related("account_manager__team").get(pk=pk)
    except (Account.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such account.") from None
    return account, _checked(user, account)


def contract_for(user, pk) -> tuple[Contract, bool]:
    """The contract (with what its page shows) and whether the user may work it: 403 and 404
    as for an account."""
    if not reads_accounts(user):
        raise PermissionDenied("Contracts are the account managers'.")
    try:
        contract = Contract.objects.select_related(
            "account__account_manager__team", "renewal__stage", "renewal__owner", "renewed_from", "renewed_by",
            "created_by", "opportunity",
        ).get(pk=pk)  # fmt: skip
    except (Contract.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such contract.") from None
    return contract, _checked(user, contract.account)


def expansion_lead_for(user, pk) -> Lead:
    """403 for roles that never work customers (SDRs, AEs, marketing); 404 for a lead that is
    not an expansion lead of this AM (or of an AM this manager manages): ids do not leak."""
    if not can_manage_accounts(user):
        raise PermissionDenied("Expansion leads are worked by account managers.")
    lead = Lead.objects.select_related("owner__team").filter(pk=pk).first()
    if lead is None or not may_work_lead(user, lead):
        raise Http404("No such expansion lead.")
    return lead
