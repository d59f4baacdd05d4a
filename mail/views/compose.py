"""The composer: write to a lead (``?lead=``) or a contact (``?contact=``); an opportunity
(``?opportunity=``) writes to its contact, an account (``?account=``) to one of its contacts,
chosen first. A template fills the subject and body (htmx: ``part=text``), Preview shows the
email merged with the recipient's and the sender's values, Send now or Send at a time in the
sender's business hours (``mail.services.schedule_email`` refuses anything else, beside the
field it is about).

From a cadence's manual email step (``&step=<step id>``, the queue's "Write the email"), the
composer starts from the step's subject and body, and the email sent is that step's: it moves
the cadence on.

The same view serves the page and the queue's item panel (``panel=<item id>``: the forms post
with htmx into the panel, and the keyboard's Escape closes it). ``next`` is where "Back" goes.
Whom the user may not email is a 404.
"""

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.access import opportunity_for
from accounts.models import Account
from kit.bounds import INT_MAX, whole_number
from kit.display import when_text
from kit.errors import Refused, add_refusal
from kit.htmx import is_htmx
from kit.pages import safe_next
from team.zones import user_zone

from .. import merge, services
from ..access import emailable_contacts, may_email_contact, may_have_mailbox, templates_for
from ..forms import ComposeForm
from .emails import section_context
from .templates import merge_fields

RECIPIENT_KEYS = ("lead", "contact")


def _id(value: str | None) -> int:
    number = whole_number(value) if value is not None else None
    if number is None or not 1 <= number <= INT_MAX:
        raise Http404("No such recipient.")
    return number


@dataclass(frozen=True)
class Where:
    """Whom the composer writes to and where it is shown: its page, or a queue item's panel."""

    recipient: services.Recipient
    key: str  # "lead" or "contact"
    pk: int
    panel: int | None
    back: str
    step: int | None = None  # a cadence's email step this email is
    draft: services.StepDraft | None = None

    @property
    def query(self) -> str:
        params: dict[str, str | int] = {self.key: self.pk}
        if self.step:
            params["step"] = self.step
        if self.back:
            params["next"] = self.back
        if self.panel:
            params["panel"] = self.panel
        return urlencode(params)

    @property
    def url(self) -> str:
        return f"{reverse('mail:compose')}?{self.query}"

    @property
    def target(self) -> str:
        return f"#panel-{self.panel}" if self.panel else "#composer"

    @property
    def prefix(self) -> str:
        """Ids of the fields: unique when several panels are open on the queue."""
        return f"c{self.panel}" if self.panel else "c"


def _where(request, params) -> Where:
    user = request.user
    key = next((k for k in RECIPIENT_KEYS if k in params), None)
    if key is None:
        raise Http404("Choose whom to email.")
    pk = _id(params.get(key))
    try:
        recipient = services.recipient_for(user, **{f"{key}_id": pk})
    except Refused:
        raise Http404("No such recipient among those you email.") from None
    panel = params.get("panel")
    back = safe_next(request, "")
    step = params.get("step")
    draft = None
    if step and key == "lead":
        draft = services.step_draft(sender=user, lead_id=pk, step_id=_id(step))
    where = Where(recipient, key, pk, _id(panel) if panel else None, back, draft.step_id if draft else None)
    return replace(where, draft=draft) if draft else where


def _forward(request) -> HttpResponse | None:
    """An opportunity or an account: to its contact (a choice of them for an account)."""
    params = request.GET
    user = request.user
    if "opportunity" in params:
        opportunity = opportunity_for(user, _id(params["opportunity"]))
        contact = opportunity.contact
        if contact is None or not may_email_contact(user, contact):
            raise Http404("This opportunity has no contact you may email.")
        back = safe_next(request, reverse("accounts:opportunity", args=[opportunity.pk]))
        return redirect(f"{reverse('mail:compose')}?{urlencode({'contact': contact.pk, 'next': back})}")
    if "account" in params:
        account = Account.objects.filter(pk=_id(params["account"])).first()
        if account is None:
            raise Http404("No such account.")
        contacts = list(emailable_contacts(user, account)[:200])
        if not contacts:
            raise Http404("This account has no contact you may email.")
        back = safe_next(request, "")
        if len(contacts) == 1:
            query = {"contact": contacts[0].pk} | ({"next": back} if back else {})
            return redirect(f"{reverse('mail:compose')}?{urlencode(query)}")
        context = {"account": account, "contacts": contacts, "back": back}
        return render(request, "mail/compose_choose.html", context)
    return None


def _template_text(user, template_id) -> dict:
    pk = whole_number(template_id) if template_id else None
    template = templates_for(user).filter(pk=pk).first() if pk else None
    if template is None:
        return {"template": None, "subject": "", "body": ""}
    return {"template": template.pk, "subject": template.subject, "body": template.body}


def _form(user, where: Where, tz, data=None, initial=None) -> ComposeForm:
    templates = templates_for(user).only("pk", "name", "owner_id")
    return ComposeForm(data, templates=templates, tz=tz, initial=initial, auto_id=f"{where.prefix}_%s")


def _context(request, where: Where, form: ComposeForm, tz, **extra) -> dict:
    user = request.user
    mailbox = services.mailbox_or_default(user)
    section = _emails_of(user, where)
    return {
        "where": where,
        "recipient": where.recipient,
        "form": form,
        "tz": tz,
        "mailbox": mailbox,
        "fields": merge_fields(),
        **section,
        "blocked": section["emails"]["address_state"].suppression is not None,
        **extra,
    }


def _emails_of(user, where: Where) -> dict:
    if where.key == "contact":
        return section_context(user, contact=where.recipient.contact)
    return section_context(user, lead=where.recipient.lead)


def _page(request, context: dict, status: int = 200) -> HttpResponse:
    if is_htmx(request):
        return render(request, "mail/_composer.html", context, status=status)
    return render(request, "mail/compose.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def compose(request):
    user = request.user
    if not may_have_mailbox(user):
        raise PermissionDenied("Service accounts send no email.")
    if request.method == "GET" and (forwarded := _forward(request)) is not None:
        return forwarded
    where = _where(request, request.GET)
    tz = user_zone(user)
    if request.method == "GET":
        if is_htmx(request) and request.GET.get("part") == "text":
            form = _form(user, where, tz, initial=_template_text(user, request.GET.get("template")))
            return render(request, "mail/_compose_text.html", {"form": form, "where": where})
        initial = {"subject": where.draft.subject, "body": where.draft.body} if where.draft else None
        return _page(request, _context(request, where, _form(user, where, tz, initial=initial), tz))

    form = _form(user, where, tz, data=request.POST)
    action = request.POST.get("action", "")
    preview = None
    if form.is_valid():
        data = form.cleaned_data
        if action == "preview":
            try:
                preview = services.preview(
                    sender=user, recipient=where.recipient, subject=data["subject"], body=data["body"]
                )
            except merge.MergeError as exc:
                add_refusal(form, exc)
        elif action in ("send", "schedule"):
            if action == "schedule" and data["send_at"] is None:
                form.add_error("send_at", "Choose when to send it, or send it now.")
            else:
                try:
                    # The refusal of a time outside business hours names the next opening in the
                    # sender's own zone.
                    with timezone.override(tz):
                        message = services.schedule_email(
                            sender=user,
                            lead_id=where.pk if where.key == "lead" else None,
                            contact_id=where.pk if where.key == "contact" else None,
                            subject=data["subject"],
                            body=data["body"],
                            send_at=data["send_at"] if action == "schedule" else None,
                            template_id=data["template"],
                            step_id=where.step,
                        )
                except Refused as exc:
                    add_refusal(form, exc)
                else:
                    return _sent(request, where, message, tz)
        else:
            form.add_error(None, "Choose Preview, Send now or Send at.")
    status = 400 if form.errors else 200
    return _page(request, _context(request, where, form, tz, preview=preview), status=status)


def _sent(request, where: Where, message, tz) -> HttpResponse:
    if message.send_at and message.send_at > message.created_at:
        notice = f"Scheduled for {when_text(message.send_at, tz)} to {message.to_address}."
        title = "Scheduled"
    else:
        notice = f"On its way to {message.to_address}: it leaves within a minute."
        title = "Sent"
    if not is_htmx(request):
        messages.success(request, f"{title}. {notice}")
        return redirect(where.url)
    context = {
        "where": where,
        "recipient": where.recipient,
        "title": title,
        "notice": notice,
        "sent": message,
        **_emails_of(request.user, where),
    }
    return render(request, "mail/_compose_done.html", context)
