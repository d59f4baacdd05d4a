"""Who may see and merge duplicate companies (accounts).

    role                  the finder and merge screen   dismiss a pair   merge two accounts
    superuser             yes                           yes              yes
    manager               yes                           yes              yes
    marketing/ops         yes (imports make them)       yes              no (403)
    AM, AE, SDR, other    no (403)                      no (403)         no (403)

An account is a shared company record (its contacts, opportunities and contracts belong to
several people's work), so the finder is not narrowed to one person's book: those who see it
see every proposed pair. AMs do not merge: a merge moves another AM's customer, so an AM asks
their manager. The merge service asks ``may_merge_accounts`` again on the locked rows.
"""

from django.core.exceptions import PermissionDenied

from team.models import Role


def sees_company_duplicates(user) -> bool:
    """Managers, marketing/ops and superusers read the company duplicate finder."""
    return user.is_authenticated and (user.is_superuser or user.role in (Role.MANAGER, Role.MARKETING))


def may_dismiss_company_pair(user) -> bool:
    """Whoever reads the finder may say a pair is two companies."""
    return sees_company_duplicates(user)


def may_merge_accounts(user) -> bool:
    """Managers and superusers merge accounts."""
    return user.is_authenticated and (user.is_superuser or user.role == Role.MANAGER)


def require_company_duplicates(user) -> None:
    """403 for a role with no business on the finder's pages."""
    if not sees_company_duplicates(user):
        raise PermissionDenied("Duplicate companies are for managers and marketing/ops.")
