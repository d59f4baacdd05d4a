"""Contract imports (being built)."""

from django.http import Http404


def import_contracts(request):
    raise Http404("Not built yet.")
