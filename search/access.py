"""What search may show a user: for each kind, the records whose page the user may open, as a
QuerySet, so a hit, its link and anything counted from it never reveal a record the user could
not read on its own page. Each rule is the owning app's, named where it is:

=============  ========================================================  ======================
kind           who finds what                                            opens
=============  ========================================================  ======================
lead           ``Lead.objects.visible_to`` for those who                 the lead's page
               ``leads.access.can_work_leads`` (managers, marketing:
               all; SDRs: their own; AEs, AMs, integrations: none)
account        those ``renewals.access.account_for`` opens (AM: their    the account's page
               book; manager: their AM teams' and accounts without an
               AM; marketing, superuser: all); else those
               ``accounts.access.target_for`` opens (outbound SDR:       the target page
               their targets; manager: their SDRs' and unassigned ones)
contact        a contact of an account above, or the contact of an       that page, or the
               opportunity below                                         opportunity's page
opportunity    ``Opportunity.objects.visible_to`` for those who          the opportunity's page
               ``accounts.access.sees_opportunities``; an AM only the
               upsells they own (``renewals.access.opens_opportunity``)
contract       contracts of the accounts whose page the user may open    the contract's page
               (``renewals.access.contract_for``)
=============  ========================================================  ======================

Every rule is written as a subquery or a filter, never as ids read beforehand, so a search
issues the same number of queries whoever asks. The per-row checks (``_flag``, a contact's
opportunity) are scalar subqueries tested for NULL, not ``EXISTS``: PostgreSQL turns an
``EXISTS`` inside an ``OR`` into a hash of every row the rule allows (all of a manager's
100,000 opportunities, read for each search), where a scalar subquery stays a lookup by index
for each of the few rows the text matched. ``tests/search/test_visibility.py`` checks
these sets against the pages' own accessors for every demo user.
"""

from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.lookups import IsNull

from accounts.access import can_see_targets, sees_opportunities, visible_opportunities
from accounts.models import Account, Contact, Opportunity
from leads.access import can_work_leads
from leads.models import Lead
from renewals.access import reads_accounts, reads_every_account
from renewals.models import Contract
from team.access import can_manage_reps
from team.models import Role, Team


def leads(user) -> QuerySet[Lead]:
    if not can_work_leads(user):
        return Lead.objects.none()
    return Lead.objects.visible_to(user)


def account_page_filter(user, prefix: str = "") -> Q | None:
    """The accounts ``renewals.access.account_for`` opens for this user, as a filter on
    ``prefix`` + the account's fields (None: none at all)."""
    if not reads_accounts(user):
        return None
    if reads_every_account(user):
        return _everything(prefix)
    if user.role == Role.AM:
        return Q(**{f"{prefix}account_manager": user})
    if user.role == Role.MANAGER:
        runs_am_team = Exists(Team.objects.filter(manager=user, kind=Team.Kind.ACCOUNT_MANAGEMENT))
        return Q(**{f"{prefix}account_manager__team__manager": user}) | (
            Q(runs_am_team, **{f"{prefix}account_manager__isnull": True})
        )
    return None


def target_page_filter(user, prefix: str = "") -> Q | None:
    """The accounts ``accounts.access.target_for`` opens for this user (None: none)."""
    if not can_see_targets(user):
        return None
    if user.is_superuser:
        return _everything(prefix)
    if user.role == Role.OUTBOUND_SDR:
        return Q(**{f"{prefix}prospector": user})
    if can_manage_reps(user):
        return Q(**{f"{prefix}prospector__team__manager": user}) | Q(**{f"{prefix}prospector__isnull": True})
    return None


def accounts(user) -> QuerySet[Account]:
    """Accounts with ``on_account_page`` / ``on_target_page`` saying which page opens each."""
    page, target = account_page_filter(user), target_page_filter(user)
    if page is None and target is None:
        return Account.objects.none()
    found = Account.objects.annotate(
        on_account_page=_flag(page, Account, "pk"), on_target_page=_flag(target, Account, "pk")
    )
    return found.filter(_either(page, target))


def opportunities(user) -> QuerySet[Opportunity]:
    if sees_opportunities(user):
        return visible_opportunities(user)
    if user.is_authenticated and user.role == Role.AM:
        return Opportunity.objects.filter(owner=user, kind=Opportunity.Kind.EXPANSION)
    return Opportunity.objects.none()


def contacts(user) -> QuerySet[Contact]:
    """Contacts with the page that shows each: their account's page, its target page, or the
    page of an opportunity they are the contact of (``opportunity_id``)."""
    page, target = account_page_filter(user), target_page_filter(user)
    opened = opportunities(user).filter(contact=OuterRef("pk")).order_by("-pk").values("pk")[:1]
    found = Contact.objects.annotate(
        on_account_page=_flag(page, Account, "account_id"),
        on_target_page=_flag(target, Account, "account_id"),
        via_opportunity=IsNull(Subquery(opened), False),
    )
    rule = Q(via_opportunity=True)
    if page is not None:
        rule |= Q(on_account_page=True)
    if target is not None:
        rule |= Q(on_target_page=True)
    return found.filter(rule)


def contracts(user) -> QuerySet[Contract]:
    page = account_page_filter(user, prefix="account__")
    if page is None:
        return Contract.objects.none()
    return Contract.objects.filter(page)


def _everything(prefix: str) -> Q:
    # Not ``Q()``: an empty Q drops out of an OR, where this must keep every row.
    return Q(**{f"{prefix}pk__isnull": False})


def _flag(rule: Q | None, model, ref: str):
    """Whether the row's account passes ``rule``, as a boolean column (a scalar subquery: see
    the module's docstring)."""
    if rule is None:
        return Value(False, output_field=BooleanField())
    return IsNull(Subquery(model.objects.filter(rule, pk=OuterRef(ref)).values("pk")[:1]), False)


def _either(first: Q | None, second: Q | None) -> Q:
    rules = [rule for rule in (first, second) if rule is not None]
    combined = rules[0]
    for rule in rules[1:]:
        combined |= rule
    return combined
