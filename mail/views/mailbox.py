"""My mailbox: how I send (Refinery's server as my address, or my own mailbox's SMTP and IMAP),
my signature, daily limit and pace. Saving an own mailbox runs the connection test first; when
it fails nothing is saved and the problems are shown beside their fields, with a "save anyway"
box for when the person knows better (a server down for maintenance): then it is saved with the
problems recorded, and the page and the composer keep showing them.

Passwords are write-only: never rendered back (not even masked), blank keeps the stored one,
filtered from error reports (``sensitive_post_parameters``)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from kit.errors import Refused, add_refusal

from .. import services
from ..access import may_have_mailbox
from ..forms import MailboxForm
from ..models import Mailbox


def _context(mailbox: Mailbox, form: MailboxForm, *, test_failed: bool = False) -> dict:
    return {"mailbox": mailbox, "form": form, "test_failed": test_failed}


@sensitive_post_parameters("smtp_password", "imap_password")
@login_required
@require_http_methods(["GET", "POST"])
def mailbox(request):
    if not may_have_mailbox(request.user):
        raise PermissionDenied("Service accounts send no email.")
    current = services.mailbox_or_default(request.user)
    if request.method == "GET":
        return render(request, "mail/mailbox.html", _context(current, MailboxForm(mailbox=current)))
    form = MailboxForm(request.POST, mailbox=current)
    test_failed = False
    if form.is_valid():
        data = form.cleaned_data
        try:
            saved, problems = services.save_mailbox(
                user=request.user,
                values=form.settings_values(),
                smtp_password=data["smtp_password"],
                imap_password=data["imap_password"],
                save_anyway=data["save_anyway"],
            )
        except services.ConnectionFailed as exc:
            test_failed = True
            for problem in exc.problems:
                form.add_error(problem.field if problem.field in form.fields else None, problem.message)
        except Refused as exc:
            add_refusal(form, exc)
        else:
            if problems:
                messages.warning(request, "Saved, but the connection test failed: " + saved.check_error)
            elif saved.kind == Mailbox.Kind.OWN:
                what = "SMTP and IMAP" if saved.reads_imap else "SMTP"
                messages.success(request, f"Saved. The connection test passed: your {what} server answered.")
            else:
                messages.success(
                    request, f"Saved. You send through Refinery's mail server as {saved.from_address}."
                )
            return redirect("mail:mailbox")
    return render(request, "mail/mailbox.html", _context(current, form, test_failed=test_failed), status=400)
