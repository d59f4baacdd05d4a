"""Who may see the model of the best customers and apply its suggestions.

=================================  ==========================================================
who                                may
=================================  ==========================================================
manager, marketing/ops, superuser  see "Best customers": what raises and lowers the odds of
                                   winning, renewing and churning, the models' held-out scores
whoever may change fit criteria    apply the suggested profile weights (the admin's permission
(``leads.change_fitcriterion``)    ``leads.change_fitcriterion``; superusers have it)
SDR, AE, AM, integration           nothing here (403): the page is about the whole book, and
                                   they work their own leads, deals and customers
=================================  ==========================================================
"""

from django.core.exceptions import PermissionDenied


def may_see_best_customers(user) -> bool:
    return bool(user.is_authenticated and user.sees_all_leads)


def require_best_customers(user) -> None:
    if not may_see_best_customers(user):
        raise PermissionDenied("Only managers and marketing/ops see the model of the best customers.")


def may_apply_suggestions(user) -> bool:
    return may_see_best_customers(user) and user.has_perm("leads.change_fitcriterion")
