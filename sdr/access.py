"""Which leads a user may work from a queue: one rule for the queue API and the team pages."""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from leads.models import Lead
from team.access import can_manage_reps, managed_teams


def queue_lead_for(user, pk) -> Lead:
    """A lead in a queue this user works: an SDR's own, or one in a team the manager runs.
    403 for roles without a queue; 404 for a lead outside (ids do not leak who owns what)."""
    if user.is_superuser:
        leads = Lead.objects.all()
    elif user.is_sdr:
        leads = Lead.objects.filter(owner=user)
    elif can_manage_reps(user):
        teams = managed_teams(user)
        leads = Lead.objects.filter(Q(team__in=teams) | Q(owner__team__in=teams))
    else:
        raise PermissionDenied("Your role does not work SDR queues.")
    try:
        return leads.select_related("owner", "team").get(pk=pk)
    except (Lead.DoesNotExist, ValueError, TypeError):
        raise Http404("No such lead in your queues.") from None
