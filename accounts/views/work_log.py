"""The one way a page takes a logged call, meeting or note (``accounts/_work_log.html``): the
opportunity page here, the account page in renewals. The caller authorizes and says how to log,
how to render the section and the whole page, and where to go back to."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from kit.errors import Refused, add_refusal
from kit.htmx import is_htmx

from ..forms.activities import LogWorkForm
from ..models import Activity
from ..presenters.work_log import WorkLog


def post_work_log(
    request: HttpRequest,
    *,
    log: Callable[..., Activity],
    section: Callable[..., WorkLog],
    page: Callable[[LogWorkForm], HttpResponse],
    back: str,
) -> HttpResponse:
    """``log(kind=, note=)`` writes the entry; ``section(notice=|form=)`` is the work log to show;
    ``page(form)`` the whole page with the form's errors (status 400); ``back`` where a plain
    post returns. With htmx the section comes back: the new entry on top (200), or the form with
    its errors (400); a refusal without a field is a 403."""
    form = LogWorkForm(request.POST, auto_id="w_%s")
    if form.is_valid():
        try:
            activity = log(kind=form.cleaned_data["kind"], note=form.cleaned_data["note"])
        except Refused as exc:
            if not exc.field:
                raise PermissionDenied(str(exc)) from None
            add_refusal(form, exc)
        else:
            notice = f"{activity.get_kind_display()} logged."
            if is_htmx(request):
                return render(request, "accounts/_work_log.html", {"log": section(notice=notice)})
            messages.success(request, notice)
            return redirect(back)
    if is_htmx(request):
        return render(request, "accounts/_work_log.html", {"log": section(form=form)}, status=400)
    return page(form)
