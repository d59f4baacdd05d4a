"""The account manager's pages (being built)."""

from django.http import Http404


def _todo(request, pk=None):
    raise Http404("Not built yet.")


renewals = account = assign_am = add_contract = contract = conversation = outcome = _todo
