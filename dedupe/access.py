"""Who may find and merge duplicate people (leads).

=================================  ==========================================================
who                                may
=================================  ==========================================================
manager, marketing/ops, superuser  see the duplicate pairs among the leads they see (both
                                   leads visible), merge a pair, dismiss a pair
SDR (inbound or outbound)          nothing here (403): a merge moves another rep's work and
                                   deletes a lead, and an SDR sees only their own leads, so
                                   most pairs would be half hidden; they ask their manager
AE, AM, integration                nothing here (403): they never see raw leads
=================================  ==========================================================

A pair is shown, opened or merged only when both its leads are among
``Lead.objects.visible_to(user)``: a lead the person may not see answers 404 (ids do not leak).
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from leads.models import Lead


def can_merge_people(user) -> bool:
    """Managers, marketing/ops and superusers: the people who see every lead."""
    return bool(user.is_authenticated and user.sees_all_leads)


def require_people_merging(user) -> None:
    if not can_merge_people(user):
        raise PermissionDenied("Only managers and marketing/ops find and merge duplicate people.")


def visible_pair_ids(user, ids) -> set[int]:
    """Which of these lead ids ``user`` sees (one query)."""
    return set(Lead.objects.visible_to(user).filter(pk__in=list(ids)).values_list("pk", flat=True))


def get_pair_for_user(user, first_id, second_id) -> tuple[Lead, Lead]:
    """The two leads of a pair in the order asked, if the user may merge people and sees both
    (403 for other roles, 404 for a lead that is not there or not visible, or the same lead
    twice)."""
    require_people_merging(user)
    try:
        ids = [int(first_id), int(second_id)]
    except (TypeError, ValueError):
        raise Http404("No such pair.") from None
    if ids[0] == ids[1]:
        raise Http404("No such pair.")
    leads = {
        lead.pk: lead
        for lead in Lead.objects.visible_to(user).select_related("campaign", "owner").filter(pk__in=ids)
    }
    if len(leads) != 2:
        raise Http404("No such pair.")
    return leads[ids[0]], leads[ids[1]]
