"""Target-account pages: an outbound SDR's list of the accounts they prospect (a manager's: their
teams'), and one account with its prospects, the forms that add them (by hand or from a CSV
file) and the cadence control beside each. Thin: authorize through ``accounts.access``, call
one service, render.

Forms post with htmx and get the account's live part back (``#target-live``); a refused form
answers 400 with its errors. Without JavaScript the same forms post to the same URLs.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from kit.bounds import INT_MAX
from kit.errors import Refused, add_refusal
from kit.htmx import is_htmx
from kit.pages import query_string
from leads.models import ActivitySource, Lead
from leads.services import IN_SALES
from sdr.services.cadences import CadenceState, active_cadences, cadence_states

from .. import access, services
from ..filters import TargetAccountFilter
from ..forms.targets import (
    AssignForm,
    ProspectForm,
    ProspectUploadForm,
    TargetAccountForm,
)
from ..models import Account, AccountRedirect, Contact
from ..services import prospects

TARGETS_PER_PAGE = 50
PROSPECTS_PER_PAGE = 100
# A prospect list of MAX_PROSPECT_ROWS rows is well under this; anything larger is not one.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
LIVE = "accounts/_target_live.html"


# --- the list -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def targets(request):
    """The target accounts this user sees; managers also create one (POST)."""
    accounts = access.visible_targets(request.user)
    manager = access.can_manage_targets(request.user)
    form = TargetAccountForm(user=request.user) if manager else None
    status = 200
    existing = None  # the account a refused domain already belongs to
    if request.method == "POST":
        if not manager:
            raise PermissionDenied("Only a manager creates target accounts.")
        form = TargetAccountForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                account = services.create_target_account(by=request.user, **form.cleaned_data)
            except services.DuplicateDomain as exc:
                form.add_error("domain", str(exc))
                existing = exc.account
            except Refused as exc:
                add_refusal(form, exc)
            else:
                messages.success(request, f"{account} is a target account of {account.prospector}.")
                return redirect("accounts:target", pk=account.pk)
        status = 400
    target_filter = TargetAccountFilter(request.GET or None, queryset=accounts, request=request)
    if target_filter.is_bound and not target_filter.is_valid():
        listed = accounts.none()
    else:
        listed = target_filter.qs if target_filter.is_bound else accounts
    listed = services.with_counts(listed.select_related("prospector")).order_by("name", "id")
    page = Paginator(listed, TARGETS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filter": target_filter,
        "query": query_string(request.GET),
        "manager": manager,
        "form": form,
        "existing": existing,
    }
    template = (
        "accounts/_target_list.html"
        if is_htmx(request) and request.method == "GET"
        else "accounts/targets.html"
    )
    return render(request, template, context, status=status)


# --- one account ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProspectRow:
    """One prospect as the target page lists it: the contact, its lead (if any) with its
    cadence, whether this user may work that lead (link, cadence control) and whether it can
    be enrolled (in sales, with an owner)."""

    contact: Contact
    lead: Lead | None = None
    cadence: CadenceState | None = None
    may_work: bool = False
    workable: bool = False


def prospect_rows(contacts, user) -> list[ProspectRow]:
    """The page's prospects with what the page shows beside each: one query for the cadence
    states (and one for the user's teams) whatever their number."""
    contacts = list(contacts)
    states = cadence_states(contact.lead_id for contact in contacts if contact.lead_id)
    may_work_lead = access.lead_worker(user)
    rows = []
    for contact in contacts:
        lead = contact.lead if contact.lead_id else None
        if lead is None:
            rows.append(ProspectRow(contact))
            continue
        rows.append(
            ProspectRow(
                contact,
                lead,
                cadence=states[lead.pk],
                may_work=may_work_lead(lead),
                workable=lead.status in IN_SALES and lead.owner_id is not None,
            )
        )
    return rows


def _live_context(request, account: Account, **extra) -> dict:
    """The account's facts, its prospects (one page) with each lead's cadence state, and the
    forms: a fixed number of queries whatever the number of prospects."""
    user = request.user
    page = Paginator(services.prospects_of(account), PROSPECTS_PER_PAGE).get_page(request.GET.get("page"))
    rows = prospect_rows(page.object_list, user)
    wants_cadences = any(row.may_work and row.workable and not row.cadence.active for row in rows if row.lead)  # type: ignore[union-attr]  # a row with a lead has its cadence
    manager = access.can_manage_targets(user)
    prospector = account.prospector
    return {
        "account": account,
        "page": page,
        "prospects": rows,
        "cadences": list(active_cadences()) if wants_cadences else [],
        "tz": prospector.team.calendar.timezone if prospector and prospector.team else "UTC",
        "may_add": access.may_add_prospects(user, account),
        "manager": manager,
        "assign_form": AssignForm(user=user, initial={"prospector": account.prospector_id})
        if manager
        else None,
        "prospect_form": ProspectForm(),
        "upload_form": ProspectUploadForm(),
        "next": reverse("accounts:target", args=[account.pk]),
        "max_rows": prospects.MAX_PROSPECT_ROWS,
        **extra,
    }


def _account(request, pk) -> Account:
    return access.target_for(request.user, pk)


def _live(request, account: Account, status: int = 200, **extra):
    template = LIVE if is_htmx(request) else "accounts/target_detail.html"
    return render(request, template, _live_context(request, account, **extra), status=status)


@login_required
def target(request, pk):
    """One account: its facts, its prospects with their lead status and cadence, the forms. A
    merged account's old id redirects to the survivor (when the user may see that)."""
    try:
        account = _account(request, pk)
    except Http404:
        survivor = (
            AccountRedirect.objects.filter(old_id=pk).values_list("account_id", flat=True).first()
            if 1 <= pk <= INT_MAX  # kit.bounds' ids: SQLite overflows on larger ones
            else None
        )
        if survivor is None or request.method != "GET":
            raise
        return redirect("accounts:target", pk=_account(request, survivor).pk)
    return _live(request, account)


@login_required
@require_POST
def assign(request, pk):
    """A manager gives the account to an outbound SDR of their teams, or to nobody."""
    if not access.can_manage_targets(request.user):
        raise PermissionDenied("Only a manager assigns target accounts.")
    account = _account(request, pk)
    form = AssignForm(request.POST, user=request.user)
    if form.is_valid():
        prospector = form.cleaned_data["prospector"]
        try:
            services.assign_prospector(account_id=account.pk, by=request.user, prospector=prospector)
        except Refused as exc:
            form.add_error("prospector", str(exc))
        else:
            notice = (
                f"{account} is prospected by {prospector}."
                if prospector
                else f"{account} is no longer a target."
            )
            if not is_htmx(request):
                messages.success(request, notice)
                return redirect("accounts:target", pk=account.pk)
            return _live(request, _account(request, pk), notice=notice)
    return _live(request, account, status=400, assign_form=form)


@login_required
@require_POST
def add_prospect(request, pk):
    """One prospect typed in by hand: created, or refused with the reason beside the email."""
    account = _account(request, pk)
    form = ProspectForm(request.POST)
    if form.is_valid():
        try:
            result = services.add_prospects(
                account_id=account.pk, by=request.user, rows=[form.cleaned_data], via=ActivitySource.MANUAL
            )
        except Refused as exc:
            form.add_error(None, str(exc))
        else:
            if result.created:
                added = result.created[0]
                notice = f"{added.contact} ({added.email}) added as a prospect."
                if not is_htmx(request):
                    messages.success(request, notice)
                    return redirect("accounts:target", pk=account.pk)
                return _live(request, account, notice=notice)
            form.add_error("email", result.refused[0].reason[:1].upper() + result.refused[0].reason[1:] + ".")
    return _live(request, account, status=400, prospect_form=form)


@login_required
@require_POST
def import_prospects(request, pk):
    """A CSV prospect list: the prospects created and a report of the rows refused (line,
    email, reason). A file refused as a whole (no email column, not UTF-8, too long) answers
    400 with the reason."""
    account = _account(request, pk)
    form = ProspectUploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            form.add_error("file", f"The file is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: split it.")
        else:
            try:
                result = services.import_prospects(account_id=account.pk, by=request.user, file=upload.file)
            except Refused as exc:
                form.add_error("file" if exc.field == "file" else None, str(exc))
            else:
                return _live(request, account, report=result, report_name=upload.name)
    return _live(request, account, status=400, upload_form=form)
