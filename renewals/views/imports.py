"""The contract import page: upload a billing system's CSV export, read the per-row report.

The file is read and written in the request (at most 1,000 rows), as a prospect list is:
contracts are few next to leads, and the person importing wants the report at once.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from kit.errors import Refused

from .. import services
from ..access import may_import_contracts
from ..forms import ContractUploadForm


@login_required
@require_http_methods(["GET", "POST"])
def import_contracts(request):
    """GET: the upload form and what the file may hold. POST: the report of each row
    (created with a link to the contract, or refused with the reasons); a file refused whole
    answers 400 with the reason beside the form. An htmx post swaps the page's body only."""
    if not may_import_contracts(request.user):
        raise PermissionDenied("Only managers and marketing/ops import contracts.")
    form, report, status, name = ContractUploadForm(), None, 200, ""
    if request.method == "POST":
        form = ContractUploadForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > services.MAX_UPLOAD_BYTES:
                form.add_error(
                    "file", f"The file is over {services.MAX_UPLOAD_BYTES // (1024 * 1024)} MB: split it."
                )
            else:
                try:
                    report = services.import_contracts(by=request.user, file=upload.file)
                except Refused as exc:
                    form.add_error("file" if exc.field == "file" else None, str(exc))
                else:
                    form, status, name = ContractUploadForm(), 200, upload.name
    context = {
        "form": form,
        "report": report,
        "report_name": name,
        "max_rows": services.MAX_CONTRACT_ROWS,
        "columns": _column_help(),
    }
    return render(request, "renewals/import.html", context, status=status)


def _column_help() -> list[tuple[str, bool, str]]:
    """(field, needed, common header names) for the page's format table; the full list of
    names is ``renewals.services.import_rows.COLUMNS``."""
    return [
        ("Domain", True, "Domain, Website, Web Domain, URL"),
        ("Start date", True, "Start Date, Start, Contract Start, Term Start"),
        ("End date (the term's last day)", True, "End Date, End, Contract End, Term End"),
        ("Annual value", True, "Annual Value, ARR, ACV, Amount, Contract Value"),
        ("Account name (for a new account)", False, "Account, Account Name, Company, Customer"),
        ("Contract number", False, "Contract Number, Contract No, Contract #, Contract ID, Subscription ID"),
        ("Products", False, "Products, Product, Plan"),
        ("Seats", False, "Seats, Licenses, Quantity"),
        ("Auto renew", False, "Auto Renew, Auto-Renew, Autorenew, Evergreen"),
        ("Account manager", False, "Account Manager, AM, CSM: a username or email"),
    ]
