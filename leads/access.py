"""Who may see and change leads: one place, used by pages, the API and tasks."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from team.models import Role

from .models import Lead


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
    return user.is_authenticated and (user.is_superuser or user.role in (Role.MARKETING, Role.MANAGER))


def get_lead_for_user(user, pk) -> Lead:
    """The lead if this user may see it; 403 for roles that never see leads, 404 for a lead
    that exists but is someone else's (so ids do not leak who owns what)."""
    if not can_work_leads(user):
        raise PermissionDenied("Your role does not work with raw leads.")
    try:
        return Lead.objects.visible_to(user).select_related("campaign", "owner").get(pk=pk)
    except (Lead.DoesNotExist, ValueError, TypeError):
        raise Http404("No such lead.") from None
