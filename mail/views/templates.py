"""Email templates: the shared ones and my own, listed; create, edit, delete (shared ones by
managers, marketing and superusers, personal ones by their owner), with the merge fields
listed beside the editor and checked on save."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from kit.errors import Refused, add_refusal

from .. import merge, services
from ..access import may_edit_shared_templates, may_edit_template, may_have_mailbox, templates_for
from ..forms import TemplateForm
from ..models import Template


def _require(user) -> None:
    if not may_have_mailbox(user):
        raise PermissionDenied("Service accounts send no email.")


def merge_fields() -> list[tuple[str, str]]:
    """(the field as written, what it is) for the list beside an editor."""
    return [(f"{{{{ {name} }}}}", label) for name, label in merge.FIELDS.items()]


def _editable(user, pk) -> Template:
    template = templates_for(user).filter(pk=pk).first()
    if template is None:
        raise Http404("No such template.")
    if not may_edit_template(user, template):
        raise PermissionDenied("Only managers and marketing change shared templates.")
    return template


@login_required
@require_http_methods(["GET"])
def template_list(request):
    _require(request.user)
    user = request.user
    templates = list(templates_for(user).select_related("owner"))
    rows = [(t, may_edit_template(user, t)) for t in templates]
    context = {
        "shared": [row for row in rows if row[0].owner_id is None],
        "own": [row for row in rows if row[0].owner_id is not None],
        "may_share": may_edit_shared_templates(user),
    }
    return render(request, "mail/templates.html", context)


def _edit_page(request, form: TemplateForm, template: Template | None, status: int = 200):
    context = {"form": form, "template": template, "fields": merge_fields()}
    return render(request, "mail/template_edit.html", context, status=status)


def _save(request, template: Template | None):
    user = request.user
    may_share = may_edit_shared_templates(user)
    form = TemplateForm(request.POST, may_share=may_share)
    if form.is_valid():
        data = form.cleaned_data
        shared = (
            data.get("shared", False) if may_share else (template is not None and template.owner_id is None)
        )
        try:
            saved = services.save_template(
                by=user,
                template_id=template.pk if template else None,
                name=data["name"],
                subject=data["subject"],
                body=data["body"],
                shared=shared,
            )
        except Refused as exc:
            add_refusal(form, exc)
        else:
            messages.success(
                request, f"Template “{saved.name}” saved{' and shared' if saved.owner_id is None else ''}."
            )
            return redirect("mail:templates")
    return _edit_page(request, form, template, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def template_new(request):
    _require(request.user)
    if request.method == "POST":
        return _save(request, None)
    may_share = may_edit_shared_templates(request.user)
    return _edit_page(request, TemplateForm(may_share=may_share), None)


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request, pk):
    _require(request.user)
    template = _editable(request.user, pk)
    if request.method == "POST":
        return _save(request, template)
    may_share = may_edit_shared_templates(request.user)
    initial = {
        "name": template.name,
        "subject": template.subject,
        "body": template.body,
        "shared": template.owner_id is None,
    }
    return _edit_page(request, TemplateForm(may_share=may_share, initial=initial), template)


@login_required
@require_http_methods(["GET", "POST"])
def template_delete(request, pk):
    """GET asks to confirm; POST deletes."""
    _require(request.user)
    template = _editable(request.user, pk)
    if request.method == "GET":
        return render(request, "mail/template_delete.html", {"template": template})
    try:
        services.delete_template(by=request.user, template_id=template.pk)
    except Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Template “{template.name}” deleted.")
    return redirect("mail:templates")
