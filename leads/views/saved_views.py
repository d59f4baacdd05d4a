"""Saving, editing and deleting the lead list's saved views. Thin: authorize through
``leads.access``, call one service, go back to the list (or show the form with its errors on
a page of its own). Opening a view is the list itself (``?view=<id>``)."""

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from kit.errors import Refused, add_refusal

from .. import services
from ..access import can_work_leads, get_view_for_user, may_change_view, require
from ..forms import SavedViewForm
from ..models import SavedView

FORM_PAGE = "leads/saved_view_form.html"


def _list_url(view: SavedView | None = None) -> str:
    url = reverse("leads:list")
    return f"{url}?view={view.pk}" if view else url


def _changeable(request, pk) -> SavedView:
    view = get_view_for_user(request.user, pk)
    if not may_change_view(request.user, view):
        raise PermissionDenied("Only its owner or a manager changes a shared view.")
    return view


@login_required
@require_POST
def create_view(request):
    require(can_work_leads(request.user))
    form = SavedViewForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            view = services.save_view(
                owner=request.user,
                name=data["name"],
                query=data["query"],
                scope=data["scope"],
                is_default=data["is_default"],
            )
        except Refused as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, f"Saved the view “{view.name}”.")
            return redirect(_list_url(view))
    return render(request, FORM_PAGE, {"form": form, "view": None}, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def edit_view(request, pk):
    """Rename a view, reshare it, make it one's default (a page of its own)."""
    view = _changeable(request, pk)
    initial = {"name": view.name, "scope": view.scope, "is_default": view.is_default}
    form = SavedViewForm(request.POST or None, user=request.user, initial=initial)
    if view.owner_id != request.user.pk:
        del form.fields["is_default"]
    scope = cast(forms.ChoiceField, form.fields["scope"])
    if view.scope not in dict(scope.choices):
        # A manager editing a rep's team view keeps that scope on offer.
        scope.choices = [*scope.choices, (view.scope, view.get_scope_display())]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.edit_view(
                view=view,
                by=request.user,
                name=data["name"],
                scope=data["scope"],
                is_default=data.get("is_default", view.is_default),
            )
        except Refused as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, f"Saved the view “{view.name}”.")
            return redirect(_list_url(view))
    status = 400 if form.is_bound else 200
    return render(request, FORM_PAGE, {"form": form, "view": view}, status=status)


@login_required
@require_POST
def update_view(request, pk):
    """Overwrite a view's filters and sort with the list's current ones."""
    view = _changeable(request, pk)
    try:
        services.update_view_query(view=view, query=request.POST.get("query", ""))
    except Refused as exc:
        form = SavedViewForm(user=request.user, initial={"name": view.name, "scope": view.scope})
        form.add_error(None, str(exc))
        return render(request, FORM_PAGE, {"form": form, "view": view}, status=400)
    messages.success(request, f"The view “{view.name}” now has the current filters.")
    return redirect(_list_url(view))


@login_required
@require_POST
def delete_view(request, pk):
    view = _changeable(request, pk)
    name = view.name
    services.delete_view(view=view)
    messages.success(request, f"Deleted the view “{name}”.")
    return redirect(f"{_list_url()}?view=")
