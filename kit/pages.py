"""Small helpers every server-rendered page uses: query strings, the safe ``next`` redirect,
money as text (``kit.display``). Pure functions of the request and values (no app imports)."""

from decimal import Decimal

from django.http import QueryDict
from django.utils.http import url_has_allowed_host_and_scheme

from . import display


def query_string(params: QueryDict, drop=("page",), **changes) -> str:
    """``params`` (a request's GET) with the keys in ``drop`` removed and ``changes`` applied
    (a value of None removes the key), URL-encoded."""
    query = params.copy()
    for key in drop:
        query.pop(key, None)
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


def safe_next(request, default: str) -> str:
    """Where to go after a form: the ``next`` the form or the URL names when it stays on this
    site (and on HTTPS when the request came over HTTPS), else ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next", "")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def money_text(amount: Decimal | float | None) -> str:
    """€12,000 or €12,000.50: an amount with the installation's currency, as cards and rows
    show it ("" for none; ``kit.display.money_text``)."""
    return display.money_text(amount)
