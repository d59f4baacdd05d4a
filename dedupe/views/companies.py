"""The company duplicate finder's pages: the pairs with their evidence (paginated), the merge
screen (side by side, a choice per differing field, what moves, confirm) and dismissing a pair.
Thin: authorize through ``dedupe.access_companies``, call the finder or one service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Account, AccountRedirect
from kit.bounds import INT_MAX
from kit.errors import Refused, add_refusal
from renewals.access import account_for

from ..access_companies import may_dismiss_company_pair, may_merge_accounts, require_company_duplicates
from ..companies import evidence_for, find_pair_keys, load_pairs, with_counts
from ..forms.companies import AccountMergeForm, shown
from ..models import DismissedPair, Kind
from ..services import merge_accounts

PAIRS_PER_PAGE = 25


@login_required
@require_GET
def companies(request):
    """Accounts that look like one company, strongest evidence first."""
    require_company_duplicates(request.user)
    page = Paginator(find_pair_keys(), PAIRS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "dedupe/companies_list.html",
        {
            "page": page,
            "pairs": load_pairs(list(page.object_list)),
            "may_merge": may_merge_accounts(request.user),
            "may_dismiss": may_dismiss_company_pair(request.user),
        },
    )


def _pair(first: int, second: int) -> tuple[Account, Account]:
    """Both accounts with their counts, in id order; 404 when either is missing."""
    if first == second:
        raise Http404("A pair is two accounts.")
    if not (1 <= first <= INT_MAX and 1 <= second <= INT_MAX):
        raise Http404("No such account.")  # ids are in kit.bounds' range (SQLite overflows past it)
    accounts = {a.pk: a for a in with_counts(Account.objects.filter(pk__in=[first, second]))}
    if len(accounts) != 2:
        raise Http404("No such account.")
    low, high = sorted((first, second))
    return accounts[low], accounts[high]


def _merged_away(request, first: int, second: int):
    """When one of the pair was merged already: say so and go back to the list."""
    ids = [pk for pk in (first, second) if 1 <= pk <= INT_MAX]
    gone = AccountRedirect.objects.filter(old_id__in=ids).first() if ids else None
    if gone is None:
        return None
    messages.info(request, f"Account {gone.old_id} was already merged; nothing left to compare.")
    return redirect("dedupe:companies")


def _survivor_page(request, survivor_id: int) -> str:
    """The survivor's account page when the user may read it, else the finder."""
    try:
        account, _ = account_for(request.user, survivor_id)
    except (Http404, PermissionDenied):
        return reverse("dedupe:companies")
    return account.get_absolute_url()


@login_required
@require_http_methods(["GET", "POST"])
def merge(request, first: int, second: int):
    """The two accounts side by side: GET shows the choices, POST merges (managers only)."""
    require_company_duplicates(request.user)
    if request.method == "POST" and not may_merge_accounts(request.user):
        raise PermissionDenied("Only managers merge accounts.")
    try:
        a, b = _pair(first, second)
    except Http404:
        if (went := _merged_away(request, first, second)) is not None:
            return went
        raise
    form = AccountMergeForm(request.POST if request.method == "POST" else None, first=a, second=b)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            survivor, merged = form.survivor_and_merged()
            try:
                record = merge_accounts(
                    survivor=survivor, merged=merged, chosen=form.chosen(), by=request.user
                )
            except Refused as exc:
                add_refusal(form, exc)
                status = exc.status
            else:
                kept = a if survivor == a.pk else b
                gone = b if kept is a else a
                messages.success(
                    request,
                    f"Merged {gone.name} into {kept.name}: "
                    + ", ".join(f"{n} {what}" for what, n in record.moved.items() if n)
                    + ".",
                )
                return redirect(_survivor_page(request, survivor))
    rows = [
        {
            "name": name,
            "label": form.fields[name].label,
            "field": form[name],
            "first": shown(a, name),
            "second": shown(b, name),
        }
        for name in form.differing
    ]
    context = {
        "form": form,
        "first": a,
        "second": b,
        "both": (a, b),
        "moves": ((a, b), (b, a)),
        "rows": rows,
        "evidence": evidence_for(a, b),
        "may_merge": may_merge_accounts(request.user),
        "may_dismiss": may_dismiss_company_pair(request.user),
    }
    return render(request, "dedupe/companies_merge.html", context, status=status)


@login_required
@require_POST
def dismiss(request, first: int, second: int):
    """These two are different companies: the finder stops proposing them."""
    if not may_dismiss_company_pair(request.user):
        raise PermissionDenied("Duplicate companies are for managers and marketing/ops.")
    a, b = _pair(first, second)
    DismissedPair.objects.bulk_create(
        [DismissedPair(kind=Kind.ACCOUNT, first_id=a.pk, second_id=b.pk, dismissed_by=request.user)],
        ignore_conflicts=True,  # dismissed twice (two tabs): once is enough
    )
    messages.success(request, f"{a.name} and {b.name} are no longer proposed as one company.")
    return redirect("dedupe:companies")
