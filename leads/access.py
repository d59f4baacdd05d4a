"""Who may see and change leads: one place, used by the pages, the API and the filters.

=================================  ===========================  ===================================
who                                sees                         may
=================================  ===========================  ===================================
manager, marketing/ops, superuser  every lead                   work leads (activities, ratings),
                                                                import CSVs, capture through the
                                                                API, read campaigns
SDR (inbound or outbound)          the leads they own           work those leads, read campaigns
integration (service account)      no lead                      capture through the API (answered
                                                                with a receipt), read campaigns
AE, AM                             no raw lead                  nothing here (403)
=================================  ===========================  ===================================

Saved views of the lead list (``SavedView``): anyone who works leads saves their own. Managers,
marketing/ops and superusers may share a view with everyone; an SDR with their team (the team
they are in when they share it). A person sees their own views and the ones shared with them
(``SavedView.objects.visible_to``); the owner changes and deletes a view, and so does a manager
(or superuser) for any shared view they see. Only the owner makes a view their default.

Which leads a user sees is ``Lead.objects.visible_to(user)`` (the QuerySet, so lists, counts
and this module agree); the rules below are named after what they allow. A page applies one
with ``require(rule(user))`` or gets a lead through ``get_lead_for_user``; the API wraps the
same rules in its permission classes (``leads.api``). The tasks act for nobody and check
nothing. Lead owners are SDRs (``lead_owners``).
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from team.access import can_manage_reps
from team.models import Role, User

from .models import Lead, SavedView


def can_work_leads(user) -> bool:
    """SDRs, managers and marketing/ops work with raw leads; AEs and AMs never do."""
    return user.is_authenticated and (user.sees_all_leads or user.is_sdr)


def can_capture_leads(user) -> bool:
    """Who may capture leads through the API (``POST /api/v1/leads/``): the channels marketing
    runs, i.e. marketing/ops, managers, superusers and integration service accounts. SDRs add
    the people they find as prospects on their target accounts (outbound prospecting), never
    as captures: a capture is marketing's inbound channel, the API twin of the web form."""
    return user.is_authenticated and (
        user.is_superuser or user.role in (Role.MARKETING, Role.MANAGER, Role.INTEGRATION)
    )


def can_read_campaigns(user) -> bool:
    """Campaigns are what a capture is credited to: whoever works leads or captures them."""
    return can_work_leads(user) or can_capture_leads(user)


def may_see_lead(user, lead: Lead) -> bool:
    """Whether ``lead`` is among the leads ``user`` may see (``Lead.objects.visible_to``)."""
    return can_work_leads(user) and Lead.objects.visible_to(user).filter(pk=lead.pk).exists()


def can_import(user) -> bool:
    """CSV imports are the work of marketing/ops, managers and superusers."""
    return user.is_authenticated and (user.is_superuser or user.role in (Role.MARKETING, Role.MANAGER))


def lead_owners() -> QuerySet[User]:
    """Who may own a lead: SDRs, inbound and outbound (the owner filter's choices)."""
    return User.objects.filter(role__in=[Role.INBOUND_SDR, Role.OUTBOUND_SDR])


def may_share_view(user, scope: str) -> bool:
    """Whether ``user`` may give a saved view this scope (see the docstring's table)."""
    if scope == SavedView.Scope.PERSONAL:
        return can_work_leads(user)
    if scope == SavedView.Scope.EVERYONE:
        return can_work_leads(user) and user.sees_all_leads
    return can_work_leads(user) and user.team_id is not None


def may_change_view(user, view: SavedView) -> bool:
    """Rename, update with the current filters, delete a view ``user`` sees (one of
    ``SavedView.objects.visible_to(user)``): its owner, or a manager for a shared one."""
    if view.owner_id == user.pk:
        return True
    return can_manage_reps(user) and view.scope != SavedView.Scope.PERSONAL


def get_view_for_user(user, pk) -> SavedView:
    """A saved view the user may open (404 otherwise: ids do not leak others' views)."""
    if not can_work_leads(user):
        raise PermissionDenied("Your role does not work with raw leads.")
    try:
        return SavedView.objects.visible_to(user).select_related("owner").get(pk=pk)
    except (SavedView.DoesNotExist, ValueError, TypeError):
        raise Http404("No such saved view.") from None


def get_lead_for_user(user, pk) -> Lead:
    """The lead if this user may see it; 403 for roles that never see leads, 404 for a lead
    that exists but is someone else's (so ids do not leak who owns what)."""
    if not can_work_leads(user):
        raise PermissionDenied("Your role does not work with raw leads.")
    try:
        return Lead.objects.visible_to(user).select_related("campaign", "owner").get(pk=pk)
    except (Lead.DoesNotExist, ValueError, TypeError):
        raise Http404("No such lead.") from None


def require(allowed: bool) -> None:
    """How a page applies one of the rules above: 403 unless ``allowed``."""
    if not allowed:
        raise PermissionDenied
