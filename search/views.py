"""The results page and the dropdown: one view, the dropdown being its htmx partial."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from kit.htmx import is_htmx

from .query import DROPDOWN_LIMIT, PAGE_LIMIT, search


@login_required
def results(request):
    """``/search/?q=``: every kind the user may see, up to ``PAGE_LIMIT`` hits each; as an htmx
    request (the top bar's box, as you type) the dropdown with ``DROPDOWN_LIMIT`` each."""
    partial = is_htmx(request)
    found = search(request.user, request.GET.get("q"), limit=DROPDOWN_LIMIT if partial else PAGE_LIMIT)
    template = "search/_dropdown.html" if partial else "search/results.html"
    return render(request, template, {"results": found})
