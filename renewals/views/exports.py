"""The account manager's lists as CSV files, streamed (``renewals.exports``), each with its
page's filters and the page's rules for who sees what:

- ``/accounts/export/``: the accounts of the book (``renewals.book``) the accounts list's filters
  select, with its figures;
- ``/accounts/contacts/export/``: the contacts at those accounts (contacts have no list of their
  own; the book is where an AM finds them);
- ``/renewals/export/``: the contracts the renewals page lists (due within 90 days, or past their
  end and still open) with its filters, and whether each is at risk.

A filter value the page refuses is a 400 page naming it, never a file of something else."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, ExpressionWrapper, F, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import Account, Contact
from kit.exporting import refused_page
from leads.models import ScoringSettings

from ..access import account_managers_for, can_manage_accounts, looks_across_ams
from ..book import book_accounts, with_figures
from ..due import Risk, due_contracts
from ..exports import ACCOUNT_EXPORT, CONTACT_EXPORT, RENEWAL_EXPORT
from ..filters import AccountBookFilter, RenewalFilter
from ..models import RenewalSettings


def _book(request) -> tuple[QuerySet[Account] | None, AccountBookFilter]:
    """The accounts the list's filters select (None when a filter is refused), as the list
    orders them."""
    scope = with_figures(book_accounts(request.user)).order_by(
        F("next_renewal").asc(nulls_last=True), "name", "id"
    )
    book_filter = AccountBookFilter(request.GET or None, queryset=scope, request=request)
    if not book_filter.is_bound:
        return scope, book_filter
    return (book_filter.qs if book_filter.is_valid() else None), book_filter


def _refused(request, what: str, page: str, errors):
    back = f"{reverse(page)}?{request.GET.urlencode()}"
    return refused_page(request, what=what, errors=errors, back=back)


@login_required
@require_GET
def accounts_export(request):
    accounts, book_filter = _book(request)
    if accounts is None:
        return _refused(request, "accounts", "renewals:accounts", book_filter.errors)
    return ACCOUNT_EXPORT.response(request, accounts, name="accounts")


@login_required
@require_GET
def contacts_export(request):
    accounts, book_filter = _book(request)
    if accounts is None:
        return _refused(request, "contacts", "renewals:accounts", book_filter.errors)
    contacts = Contact.objects.filter(account_id__in=accounts.order_by().values("pk"))
    return CONTACT_EXPORT.response(
        request, contacts.order_by("account__name", "account_id", "id"), name="contacts"
    )


@login_required
@require_GET
def renewals_export(request):
    user = request.user
    if not can_manage_accounts(user):
        raise PermissionDenied("Renewals are the account managers' and their managers'.")
    now = timezone.now()
    today = timezone.localdate(now)
    risk = Risk(
        now=now, today=today, start_days=RenewalSettings.load().start_days, scoring=ScoringSettings.load()
    )
    ams = list(account_managers_for(user)) if looks_across_ams(user) else None
    renewals = RenewalFilter(
        request.GET,
        queryset=risk.scope(due_contracts(user, ams, today)),
        request=request,
        risk=risk,
        today=today,
        ams=ams,
    )
    if not renewals.is_valid():
        return _refused(request, "contracts", "renewals:renewals", renewals.errors)
    contracts = renewals.qs.annotate(at_risk=ExpressionWrapper(risk.any, output_field=BooleanField()))
    return RENEWAL_EXPORT.response(request, contracts.order_by("end_date", "id"), name="contracts")
