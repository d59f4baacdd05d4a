"""Who may see which insight: one place, used by the pages, the API and the weekly summary.

- managers (and superusers) see everything: the funnel, speed, money, retention and health;
- marketing/ops see the funnel and the money by campaign and channel, not people's numbers;
- an SDR sees their own speed to lead and conversion (the leads they worked);
- an AE their own acceptance and win numbers (the opportunities they own);
- an AM their own retention (the accounts they manage);
- an integration account sees nothing.
"""

from django.db.models import QuerySet

from team.models import Role

from .models import LeadFact

SECTIONS = ("funnel", "speed", "money", "retention", "health")


def sections(user) -> tuple[str, ...]:
    """The insight sections ``user`` may open, in page order (empty: no insight at all)."""
    if not user.is_authenticated:
        return ()
    if user.is_superuser or user.role == Role.MANAGER:
        return SECTIONS
    if user.role == Role.MARKETING:
        return ("funnel", "money")
    if user.is_sdr:
        return ("funnel", "speed")
    if user.role == Role.AE:
        return ("funnel",)
    if user.role == Role.AM:
        return ("retention",)
    return ()


def may_see(user, section: str) -> bool:
    return section in sections(user)


def sees_people(user) -> bool:
    """Whether ``user`` may see other people's numbers (by rep, by SDR, by AE, by AM)."""
    return user.is_authenticated and (user.is_superuser or user.role == Role.MANAGER)


def visible_facts(user) -> QuerySet[LeadFact]:
    """The lead facts behind the numbers ``user`` may see."""
    facts = LeadFact.objects.all()
    if not user.is_authenticated:
        return facts.none()
    if user.is_superuser or user.role in (Role.MANAGER, Role.MARKETING):
        return facts
    if user.is_sdr:
        return facts.filter(sdr=user)
    if user.role == Role.AE:
        return facts.filter(ae=user)
    return facts.none()
