"""Who may see and change what in sales development: the one place the sdr pages, API,
serializers, forms and services ask.

    who          sees                              works a lead (touch, follow-up,    moves leads
                                                   disposition, cadence)
    SDR          their own queue and its leads     leads in their own hands           no
    manager      the queues of the teams they      leads in those teams               within their
                 manage (their reps', unassigned)                                     teams
    superuser    every queue                       every lead                         anywhere
    anyone else  403                               403                                403

Bulk actions on the lead list (``sdr.views.bulk``) act only on leads the person sees on the
list (``Lead.objects.visible_to``), and each row is checked again under its lock:

    assign to a rep          managers (superusers): MQL and working leads in the teams they
                             manage, to a rep of those teams (or round-robin)
    nurture, disqualify      SDRs: their own leads; managers: leads in their teams, and leads
                             in no SDR's hands (not MQL or working); marketing/ops: leads in no
                             SDR's hands; superusers: any (the lifecycle decides the move)
    enroll in a cadence      as ``may_run_cadence``
    export as CSV            whoever sees the list: the rows they see

Outside what a user sees, a lead, item or rep is a 404 (ids do not leak who owns what); a role
with no queue at all is a 403. Who is an SDR or a manager, and which teams a manager runs,
is ``team.access`` (below every app); this module turns it into sdr's rules.
"""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from leads.access import get_lead_for_user
from leads.models import Lead
from leads.services import IN_SALES
from team.access import can_manage_reps, can_work_queue, managed_teams, reps_managed_by
from team.models import Team, User
from work.models import WorkItem


def may_work_queue(user) -> bool:
    """SDRs work a queue of their own."""
    return can_work_queue(user)


def may_manage_queues(user) -> bool:
    """Managers (and superusers) see their teams' queues and move leads between reps."""
    return can_manage_reps(user)


def may_see_queues(user) -> bool:
    """The queue API and the cadences are for those who work or manage queues."""
    return may_work_queue(user) or may_manage_queues(user)


def may_take_leads(user: User | None) -> bool:
    """Leads are given to active SDRs only (``None``: round-robin, always allowed)."""
    return user is None or (user.is_sdr and user.is_active)


def may_work_lead(user, lead: Lead) -> bool:
    """Checked under the lead's row lock by the services: an SDR works only leads in their own
    hands (a reassignment may have just moved it); anyone else got here through
    ``queue_lead_for`` or their own item."""
    return not user.is_sdr or lead.owner_id == user.pk


def may_run_cadence(user, lead: Lead) -> bool:
    """Enrolling a lead in a cadence and stopping it: its SDR, a manager of the lead's team (or
    of its owner's), a superuser. Checked under the lead's row lock."""
    if user.is_sdr:
        return lead.owner_id == user.pk
    if user.is_superuser:
        return True
    if may_manage_queues(user):
        return managed_teams(user).filter(Q(pk=lead.team_id) | Q(members__pk=lead.owner_id)).exists()
    return False


def may_assign_leads(user) -> bool:
    """Giving leads to a rep from the lead list: managers (and superusers), as reassignment."""
    return may_manage_queues(user)


def may_assign_lead(user, lead: Lead, team_ids: set[int]) -> bool:
    """``lead`` (with its owner loaded) is in a team whose ids ``team_ids`` holds (the teams
    ``user`` manages, read once for a batch), or ``user`` is a superuser."""
    return user.is_superuser or _in_teams(lead, team_ids)


def may_dispose_lead(user, lead: Lead, team_ids: set[int]) -> bool:
    """Nurture or disqualify from the lead list (see the table above); ``team_ids``: the teams
    ``user`` manages, read once for a batch; ``lead`` with its owner loaded."""
    if user.is_superuser:
        return True
    if user.is_sdr:
        return lead.owner_id == user.pk
    if lead.status not in IN_SALES:
        return user.sees_all_leads
    return may_manage_queues(user) and _in_teams(lead, team_ids)


def _in_teams(lead: Lead, team_ids: set[int]) -> bool:
    return lead.team_id in team_ids or (lead.owner is not None and lead.owner.team_id in team_ids)


def teams_of(user) -> QuerySet[Team]:
    """The teams whose queues ``user`` manages (none for anyone but managers and superusers)."""
    return managed_teams(user)


def reps_of(user) -> QuerySet[User]:
    """The SDRs in the teams ``user`` manages: whose queues they see, and who leads move to."""
    return reps_managed_by(user)


def queue_lead_for(user, pk) -> Lead:
    """A lead in a queue this user works: an SDR's own, or one in a team the manager runs.
    403 for roles without a queue; 404 for a lead outside (ids do not leak who owns what)."""
    if user.is_superuser:
        leads = Lead.objects.all()
    elif user.is_sdr:
        leads = Lead.objects.filter(owner=user)
    elif may_manage_queues(user):
        teams = managed_teams(user)
        leads = Lead.objects.filter(Q(team__in=teams) | Q(owner__team__in=teams))
    else:
        raise PermissionDenied("Your role does not work SDR queues.")
    try:
        return leads.select_related("owner", "team").get(pk=pk)
    except (Lead.DoesNotExist, ValueError, TypeError):
        raise Http404("No such lead in your queues.") from None


def own_queue_item(user, item_id) -> tuple[WorkItem, Lead]:
    """The SDR's own work item on a lead, and the lead: 403 for roles without a queue, 404 for
    anything that is not theirs (another rep's item, or a lead that has since moved on)."""
    if not may_work_queue(user):
        raise PermissionDenied("Only SDRs work a queue.")
    item = WorkItem.objects.filter(
        pk=item_id, owner=user, content_type=ContentType.objects.get_for_model(Lead)
    ).first()
    if item is None:
        raise Http404("No such item in your queue.")
    return item, get_lead_for_user(user, item.object_id)


def queue_owner_for(user, rep_id: str | None) -> tuple[User | None, bool]:
    """Whose queue the queue page shows ``user`` (``rep_id`` from ``?rep=``), and whether
    read-only: an SDR their own; a manager a rep of their teams, read-only. ``(None, True)``:
    a manager who has not chosen a rep yet."""
    if rep_id and may_work_queue(user) and rep_id == str(user.pk):
        return user, False
    if rep_id:
        if not may_manage_queues(user):
            if may_work_queue(user):
                raise Http404("No such queue.")
            raise PermissionDenied("Your role has no queue of leads.")
        try:
            return reps_of(user).get(pk=int(rep_id)), True
        except (ValueError, User.DoesNotExist):
            raise Http404("No such rep in your teams.") from None
    if may_work_queue(user):
        return user, False
    if may_manage_queues(user):
        return None, True
    raise PermissionDenied("Your role has no queue of leads.")
