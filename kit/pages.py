"""Small helpers every server-rendered page uses: query strings, the safe ``next`` redirect,
money as text (``kit.display``), a paginator that stops counting at a limit. Functions of the
request and values (no app imports)."""

import inspect
from decimal import Decimal
from functools import cached_property

from django.core.paginator import Paginator
from django.http import QueryDict
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.inspect import method_has_no_args

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


class BoundedPaginator(Paginator):
    """A paginator that counts at most ``limit`` rows: past it the count is ``limit`` and
    ``bounded`` is true, so the page says "10,000+" instead of counting a million rows for
    every view of an unfiltered list (``SELECT COUNT(*)`` reads every row it counts; the
    bounded count is ``SELECT COUNT(*) FROM (... LIMIT limit + 1)``). The pages past the limit
    are not offered: a person who needs them narrows the filter."""

    def __init__(self, object_list, per_page, *, limit: int, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.limit = limit

    @cached_property
    def _bounded_count(self) -> int:
        head = self.object_list[: self.limit + 1]
        count = getattr(head, "count", None)  # a queryset counts in SQL, as Paginator.count does
        if callable(count) and not inspect.isbuiltin(count) and method_has_no_args(count):
            return count()
        return len(head)

    @cached_property
    def count(self) -> int:
        return min(self._bounded_count, self.limit)

    @property
    def bounded(self) -> bool:
        """More rows match than were counted."""
        return self._bounded_count > self.limit

    @property
    def count_text(self) -> str:
        """The count as a page shows it: "1,234", or "10,000+" past the limit."""
        return f"{self.count:,}+" if self.bounded else f"{self.count:,}"


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
