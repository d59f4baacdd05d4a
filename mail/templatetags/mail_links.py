"""Links to a person wherever a lead or contact is shown, for the templates of every app (a
lower app's template loads this library; its Python never imports mail):

    {% load mail_links %}
    {% email_link lead %}       the address, linked to the composer for whoever may email it
    {% phone_link lead.phone %} a tel: link
    {% may_email contact as can_email %}

Whether the viewer may email is ``mail.access.EmailRules``, read once per request, so a list
of a hundred leads asks no query per row (its rows come with their account and lead loaded).
"""

from urllib.parse import urlencode
from weakref import WeakKeyDictionary

from django import template
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import Contact
from kit.display import tel_href
from leads.models import Lead

from ..access import EmailRules

register = template.Library()

_RULES: "WeakKeyDictionary[HttpRequest, EmailRules]" = WeakKeyDictionary()


def _rules(context) -> EmailRules | None:
    request = context.get("request")
    if request is None or not getattr(request, "user", None) or not request.user.is_authenticated:
        return None
    rules = _RULES.get(request)
    if rules is None:
        rules = _RULES[request] = EmailRules(request.user)
    return rules


def _allowed(context, person) -> bool:
    rules = _rules(context)
    if rules is None or person is None:
        return False
    if isinstance(person, Contact):
        return rules.contact(person)
    if isinstance(person, Lead):
        return rules.lead(person)
    return False


@register.simple_tag(takes_context=True)
def may_email(context, person) -> bool:
    return _allowed(context, person)


@register.simple_tag(takes_context=True)
def compose_url(context, person, back: str = "") -> str:
    """The composer for this lead or contact (``back``: where its Back link goes; by default the
    page showing the link)."""
    key = "contact" if isinstance(person, Contact) else "lead"
    request = context.get("request")
    if not back and request is not None and request.headers.get("HX-Request") != "true":
        back = request.get_full_path()
    params: dict[str, str | int] = {key: person.pk}
    if back:
        params["next"] = back
    return f"{reverse('mail:compose')}?{urlencode(params)}"


@register.simple_tag(takes_context=True)
def email_link(context, person, back: str = ""):
    """The person's address: a link to the composer if the viewer may email them, else text
    (never a mailto:, which would send outside Refinery and leave no trace on the lead)."""
    address = getattr(person, "email", "") or ""
    if not address:
        return ""
    if not _allowed(context, person):
        return format_html('<span class="email-address">{}</span>', address)
    return format_html(
        '<a class="email-address" href="{}" title="Write to {} from Refinery">{}</a>',
        compose_url(context, person, back),
        address,
        address,
    )


@register.filter
def tel(phone: str) -> str:
    """``+49 30 1234-56`` as ``tel:+4930123456``."""
    return tel_href(phone)


@register.simple_tag
def phone_link(phone: str, empty: str = ""):
    if not phone:
        return empty
    return format_html('<a class="phone" href="{}">{}</a>', tel(phone), phone)


@register.simple_tag(takes_context=True)
def may_email_any(context, people) -> bool:
    """Whether the viewer may email any of these leads or contacts (or rows with a
    ``contact``), as the rows' own links ask (no query more)."""
    return any(_allowed(context, getattr(person, "contact", person)) for person in people)
