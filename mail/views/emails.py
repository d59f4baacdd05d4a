"""A lead's or a contact's emails (sent, scheduled, failed with the server's answer, replies),
each with its state and its time in the viewer's zone, and the suppression state of the
address: a fragment the lead page loads by URL (the leads app cannot import mail), and the
composer's list. A fixed number of queries whatever the number of emails (the newest
``EMAILS_SHOWN``). From the list the sender cancels an email not sent yet; a manager takes the
address off the suppression list."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Contact
from kit.errors import Refused
from kit.htmx import is_htmx
from kit.pages import safe_next
from leads.models import Lead
from team.zones import user_zone

from .. import services
from ..access import may_email_contact, may_email_lead, may_remove_suppression
from ..models import Message
from ..presenters import address_state, email_lines, messages_about

EMAILS_SHOWN = 20
SECTION = "mail/_emails_section.html"


def emails_context(user, tz, *, lead: Lead | None, contact: Contact | None, address: str) -> dict:
    """The emails about a lead and/or a contact, newest first, and the address's suppression."""
    about = messages_about(
        lead_id=lead.pk if lead is not None else None, contact_id=contact.pk if contact is not None else None
    )
    shown = list(about[:EMAILS_SHOWN])
    total = about.count()
    row = services.suppressed([address]).get(services.normalize(address))
    return {
        "lines": email_lines(shown, tz, user),
        "total": total,
        "more": total > len(shown),
        "address_state": address_state(address, row, tz),
        "may_unsuppress": row is not None and may_remove_suppression(user),
        "tz": tz,
    }


def _lead(user, pk) -> Lead:
    lead = Lead.objects.filter(pk=pk).first()
    if lead is None or not may_email_lead(user, lead):
        raise Http404("No such lead among those you email.")
    return lead


def _contact(user, pk) -> Contact:
    contact = Contact.objects.select_related("account", "lead").filter(pk=pk).first()
    if contact is None or not may_email_contact(user, contact):
        raise Http404("No such contact among those you email.")
    return contact


def section_context(user, *, lead: Lead | None = None, contact: Contact | None = None) -> dict:
    """What the Emails section of a lead or a contact shows, and its URLs."""
    tz = user_zone(user)
    if contact is not None:
        address = contact.email
        compose = f"{reverse('mail:compose')}?contact={contact.pk}"
        unsuppress = reverse("mail:contact_unsuppress", args=[contact.pk])
        of = ("contact", contact.pk)
        back = ""
    else:
        assert lead is not None
        address = lead.email
        back = reverse("leads:detail", args=[lead.pk])
        compose = f"{reverse('mail:compose')}?{urlencode({'lead': lead.pk, 'next': back})}"
        unsuppress = reverse("mail:lead_unsuppress", args=[lead.pk])
        of = ("lead", lead.pk)
    return {
        "emails": emails_context(user, tz, lead=lead, contact=contact, address=address),
        "compose_url": compose,
        "unsuppress_url": unsuppress,
        "of": of,
        "back": back,
        # The lead's page has its own "Write an email" button.
        "hide_compose": contact is None,
    }


def _section(
    request, *, lead: Lead | None = None, contact: Contact | None = None, status: int = 200, **extra
):
    context = section_context(request.user, lead=lead, contact=contact) | {"section": True, **extra}
    return render(request, SECTION, context, status=status)


@login_required
@require_GET
def lead_emails(request, pk):
    """The lead page's Emails card. Someone who sees the lead but does not email it (marketing)
    gets nothing: the card is left out."""
    lead = Lead.objects.filter(pk=pk).first()
    if lead is None or not may_email_lead(request.user, lead):
        return HttpResponse("")
    return _section(request, lead=lead)


@login_required
@require_GET
def contact_emails(request, pk):
    contact = Contact.objects.select_related("account", "lead").filter(pk=pk).first()
    if contact is None or not may_email_contact(request.user, contact):
        return HttpResponse("")
    return _section(request, contact=contact)


def _after(request, default: str, *, lead=None, contact=None, notice: str = "", error: str = ""):
    if is_htmx(request):
        return _section(
            request, lead=lead, contact=contact, notice=notice, error=error, status=409 if error else 200
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect(safe_next(request, default))


@login_required
@require_POST
def cancel(request, pk):
    """The sender takes back an email not sent yet."""
    message = Message.objects.filter(pk=pk, sender=request.user).select_related("lead", "contact").first()
    if message is None:
        raise Http404("No such email of yours.")
    lead, contact = _section_of(request, message)
    default = reverse("mail:compose") + (
        f"?contact={contact.pk}" if contact else f"?lead={lead.pk}" if lead else ""
    )
    try:
        services.cancel_scheduled(message_id=message.pk, by=request.user)
    except Refused as exc:
        return _after(request, default, lead=lead, contact=contact, error=str(exc))
    return _after(
        request,
        default,
        lead=lead,
        contact=contact,
        notice=f"Cancelled: “{message.subject}” will not be sent.",
    )


def _section_of(request, message: Message) -> tuple[Lead | None, Contact | None]:
    """The section a cancel came from (a lead's page shows the emails to its contact too)."""
    user = request.user
    of, pk = request.POST.get("of", ""), request.POST.get("of_id", "")
    if of == "lead" and pk.isdigit() and int(pk) == (message.lead_id or 0):
        return _lead(user, pk), None
    if of == "contact" and pk.isdigit() and int(pk) == (message.contact_id or 0):
        return None, _contact(user, pk)
    if of == "lead" and pk.isdigit() and message.contact is not None and message.contact.lead_id == int(pk):
        return _lead(user, pk), None
    if message.contact_id:
        return None, _contact(user, message.contact_id)
    if message.lead_id:
        return _lead(user, message.lead_id), None
    return None, None


def _unsuppress(request, *, lead=None, contact=None):
    if not may_remove_suppression(request.user):
        raise PermissionDenied("Only managers take an address off the suppression list.")
    address = contact.email if contact is not None else lead.email
    removed = services.remove(address=address, by=request.user)
    notice = (
        f"{address} is off the suppression list: it may be emailed again."
        if removed
        else f"{address} was not on the suppression list."
    )
    default = (
        reverse("leads:detail", args=[lead.pk])
        if lead is not None
        else reverse("mail:compose") + f"?contact={contact.pk}"
    )
    return _after(request, default, lead=lead, contact=contact, notice=notice)


@login_required
@require_POST
def lead_unsuppress(request, pk):
    return _unsuppress(request, lead=_lead(request.user, pk))


@login_required
@require_POST
def contact_unsuppress(request, pk):
    return _unsuppress(request, contact=_contact(request.user, pk))
