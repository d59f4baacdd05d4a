"""The accounts list (``/accounts/``): an AM's book, every account they manage with its annual
value, next renewal and risk; a manager's AMs' with a filter by AM; sortable, filterable and
paginated, a fixed number of queries a page. Filters the API shares (``renewals.filters``)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from kit.htmx import is_htmx
from kit.pages import query_string

from ..access import looks_across_ams
from ..book import book_accounts, book_rows, with_figures
from ..filters import SORT_LABELS, AccountBookFilter

ACCOUNTS_PER_PAGE = 50


@login_required
@require_GET
def accounts(request):
    """The accounts this user manages (a manager: their AMs'), soonest renewal first."""
    user = request.user
    now = timezone.now()
    scope = (
        with_figures(book_accounts(user), now=now)
        .select_related("account_manager")
        .order_by(F("next_renewal").asc(nulls_last=True), "name", "id")
    )
    book_filter = AccountBookFilter(request.GET or None, queryset=scope, request=request)
    valid = not book_filter.is_bound or book_filter.is_valid()
    listed = book_filter.qs if book_filter.is_bound and valid else scope
    if not valid:
        listed = scope.none()
    page = Paginator(listed, ACCOUNTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": book_rows(page.object_list, timezone.localdate(now)),
        "filter": book_filter,
        "sorts": SORT_LABELS,
        "sort": request.GET.get("sort", ""),
        "query": query_string(request.GET),
        "sort_query": query_string(request.GET, drop=("page", "sort")),
        "show_am": looks_across_ams(user),
        "filtered": book_filter.is_bound,
    }
    status = 200 if valid else 400
    if is_htmx(request) and request.headers.get("HX-Target") == "account-list":
        return render(request, "renewals/_account_list.html", context, status=status)
    return render(request, "renewals/accounts.html", context, status=status)
